"""HTTP API of 12351 hotline tickets (工单)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field, model_validator

from unionops import idempotency
from unionops.auth import ROLES, Principal, current_principal, requires
from welfare import hotline
from unionops.bodies import Body
from unionops.inputs import count
from unionops.clock import local_today
from welfare.api import CaseKind, CaseOut

router = APIRouter(prefix="/hotline", tags=["hotline"])

Category = Literal["general", "difficult", "complex"]


class TicketIn(Body):
    member_id: uuid.UUID | None = Field(None, description="来电会员（已知会员时填写）")
    org_id: uuid.UUID | None = Field(None, description="责任单位；不填则为来电会员所在工会")
    category: Category = Field(description="general 一般, difficult 难点, complex 特别复杂")
    summary: str = Field(min_length=1, max_length=4000, description="来电内容（加密存储，不进入事件）")

    @model_validator(mode="after")
    def _someone_responsible(self):
        if self.org_id is None and self.member_id is None:
            raise ValueError("须指定责任单位（org_id）或来电会员（member_id）")
        return self


class AssignIn(Body):
    assignee: str = Field(min_length=1, max_length=200, description="承办人（工作人员账号）")


class ResolveIn(Body):
    resolution: str = Field(min_length=1, max_length=8000, description="办理结果（加密存储）")


class RatingIn(Body):
    satisfaction: count(ge=1, le=5) = Field(description="满意度 1–5")


class TicketCaseIn(Body):
    kind: CaseKind
    member_id: uuid.UUID | None = Field(None, description="帮扶对象；不填则为来电会员")
    summary: str | None = Field(None, min_length=1, max_length=4000, description="案情摘要；不填则沿用工单内容")


class TicketOut(BaseModel):
    id: uuid.UUID
    org_id: uuid.UUID
    member_id: uuid.UUID | None
    category: str
    category_label: str
    status: str
    opened_by: str
    opened_at: datetime
    due_at: datetime
    assignee: str | None
    assigned_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    satisfaction: int | None
    rated_at: datetime | None
    overdue: bool
    overdue_at: datetime | None
    case_id: uuid.UUID | None


class TicketDetailOut(TicketOut):
    summary: str | None = Field(None, description="来电内容；审计人员不可见（null）")
    resolution: str | None = Field(None, description="办理结果；审计人员不可见（null）")


class TicketCaseOut(CaseOut):
    hotline_ticket_id: uuid.UUID


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def _change(request: Request, command) -> dict:
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await command(conn)


@router.post("/tickets", status_code=201, response_model=TicketOut, summary="Open a 12351 ticket (受理工单)")
async def open_ticket(body: TicketIn, request: Request, principal: Principal = Depends(requires("write")),
                      idempotency_key: str | None = Header(None)):
    runtime = request.app.state.runtime
    s = runtime.settings
    cmd = hotline.OpenTicket(org_id=body.org_id, member_id=body.member_id, category=body.category,
                             summary=body.summary)
    payload = body.model_dump(mode="json") | {"summary": runtime.vault.lookup_hash("hotline_summary", body.summary)}
    calendar = s.working_calendar()
    return await idempotency.create(request, principal, idempotency_key, payload, lambda conn: hotline.open_ticket(
        conn, cmd, principal, runtime.vault, now=_now(), deadlines=s.hotline_deadline_working_days,
        calendar=calendar, tz=s.welfare_timezone))


@router.get("/tickets", response_model=list[TicketOut], summary="Tickets of the caller's subtree, earliest due first")
async def list_tickets(request: Request, overdue: bool | None = Query(None, description="true: only overdue ones"),
                       status: Literal["open", "assigned", "resolved"] | None = None,
                       limit: int = Query(200, ge=1, le=1000), principal: Principal = Depends(requires("read"))):
    async with request.app.state.runtime.pool.acquire() as conn:
        return await hotline.list_tickets(conn, principal, overdue=overdue, status=status, limit=limit)


@router.get("/tickets/{ticket_id}", response_model=TicketDetailOut)
async def get_ticket(ticket_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    runtime = request.app.state.runtime
    async with runtime.pool.acquire() as conn, conn.transaction():
        await hotline.load_ticket(conn, ticket_id, principal)
        # What the caller told the hotline is for those who handle it; auditors read the ticket
        # without it, as they read cases and hardship files.
        handles = "write" in ROLES.get(principal.role, ())
        return await hotline.ticket_view(conn, ticket_id, runtime.vault if handles else None)


@router.post("/tickets/{ticket_id}/assign", response_model=TicketOut, summary="Assign to an officer (分派)")
async def assign(ticket_id: uuid.UUID, body: AssignIn, request: Request,
                 principal: Principal = Depends(requires("write"))):
    return await _change(request, lambda conn: hotline.assign(conn, ticket_id, body.assignee, principal, _now()))


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketOut, summary="Resolve (办结)")
async def resolve(ticket_id: uuid.UUID, body: ResolveIn, request: Request,
                  principal: Principal = Depends(requires("write"))):
    vault = request.app.state.runtime.vault
    return await _change(request, lambda conn: hotline.resolve(conn, ticket_id, body.resolution, principal, vault,
                                                               _now()))


@router.post("/tickets/{ticket_id}/rating", response_model=TicketOut,
             summary="Satisfaction 1–5 after resolution, once (满意度回访); staff or the calling member")
async def rate(ticket_id: uuid.UUID, body: RatingIn, request: Request,
               principal: Principal = Depends(current_principal)):
    return await _change(request, lambda conn: hotline.rate(conn, ticket_id, body.satisfaction, principal, _now()))


@router.post("/tickets/{ticket_id}/cases", status_code=201, response_model=TicketCaseOut,
             summary="Open an assistance case from the ticket (source hotline)")
async def open_case(ticket_id: uuid.UUID, body: TicketCaseIn, request: Request,
                    principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    runtime = request.app.state.runtime
    today = local_today(runtime.settings.welfare_timezone)
    payload = body.model_dump(mode="json") | {
        "summary": body.summary and runtime.vault.lookup_hash("case_summary", body.summary)}
    return await idempotency.create(request, principal, idempotency_key, payload, lambda conn: hotline.open_case(
        conn, ticket_id, kind=body.kind, member_id=body.member_id, summary=body.summary, actor=principal,
        vault=runtime.vault, today=today))
