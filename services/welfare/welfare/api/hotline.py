"""HTTP API of 12351 hotline tickets (工单)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field, model_validator

from unionops.auth import Principal, current_principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep, VaultDep
from unionops.inputs import count
from welfare.api.bodies import CaseKind, CaseOut, ListQuery
from welfare.api.dependencies import Today
from welfare.commands import hotline
from welfare.domain.hotline import OpenTicket
from welfare.queries import hotline as queries
from welfare.settings import Settings

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


@router.post("/tickets", status_code=201, response_model=TicketOut, summary="Open a 12351 ticket (受理工单)")
async def open_ticket(body: TicketIn, commands: CommandsDep, vault: VaultDep, settings: SettingsDep[Settings],
                      principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    cmd = OpenTicket(org_id=body.org_id, member_id=body.member_id, category=body.category, summary=body.summary)
    payload = body.model_dump(mode="json") | {"summary": vault.lookup_hash("hotline_summary", body.summary)}
    calendar = settings.working_calendar()
    return await commands.create(
        lambda uow: hotline.open_ticket(uow, cmd, principal, vault, now=_now(),
                                        deadlines=settings.hotline_deadline_working_days, calendar=calendar,
                                        tz=settings.welfare_timezone),
        subject=principal.subject, key=idempotency_key, payload=payload)


class TicketListQuery(ListQuery):
    overdue: bool | None = Field(None, description="true：只看已超期的；false：只看未超期的")
    status: Literal["open", "assigned", "resolved"] | None = None
    category: Category | None = None
    unit: uuid.UUID | None = Field(None, description="只看该单位及其下级单位的工单")
    limit: int = Field(200, ge=1, le=1000, description="最多返回条数（1–1000）")


class TicketRowOut(TicketOut):
    org_name: str | None = Field(None, description="责任单位")
    member_name: str | None = Field(None, description="来电会员；审计人员所见为脱敏姓名")


@router.get("/tickets", response_model=list[TicketRowOut],
            summary="Tickets of the caller's subtree by deadline: to handle first, overdue ones first, then earliest due")
async def list_tickets(db: PoolDep, q: Annotated[TicketListQuery, Query()],
                       principal: Principal = Depends(requires("read"))):
    return await queries.list_tickets(db, principal, overdue=q.overdue, status=q.status, category=q.category,
                                      unit=q.unit, limit=q.limit, offset=q.offset)


@router.get("/tickets/{ticket_id}", response_model=TicketDetailOut)
async def get_ticket(ticket_id: uuid.UUID, db: PoolDep, vault: VaultDep,
                     principal: Principal = Depends(requires("read"))):
    return await queries.ticket_detail(db, ticket_id, principal, vault)


@router.post("/tickets/{ticket_id}/assign", response_model=TicketOut, summary="Assign to an officer (分派)")
async def assign(ticket_id: uuid.UUID, body: AssignIn, commands: CommandsDep,
                 principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: hotline.assign(uow, ticket_id, body.assignee, principal, _now()))


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketOut, summary="Resolve (办结)")
async def resolve(ticket_id: uuid.UUID, body: ResolveIn, commands: CommandsDep, vault: VaultDep,
                  principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: hotline.resolve(uow, ticket_id, body.resolution, principal, vault, _now()))


@router.post("/tickets/{ticket_id}/rating", response_model=TicketOut,
             summary="Satisfaction 1–5 after resolution, once (满意度回访); staff or the calling member")
async def rate(ticket_id: uuid.UUID, body: RatingIn, commands: CommandsDep,
               principal: Principal = Depends(current_principal)):
    return await commands.run(lambda uow: hotline.rate(uow, ticket_id, body.satisfaction, principal, _now()))


@router.post("/tickets/{ticket_id}/cases", status_code=201, response_model=TicketCaseOut,
             summary="Open an assistance case from the ticket (source hotline)")
async def open_case(ticket_id: uuid.UUID, body: TicketCaseIn, commands: CommandsDep, vault: VaultDep, today: Today,
                    principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    payload = body.model_dump(mode="json") | {
        "summary": body.summary and vault.lookup_hash("case_summary", body.summary)}
    return await commands.create(
        lambda uow: hotline.open_case(uow, ticket_id, kind=body.kind, member_id=body.member_id, summary=body.summary,
                                      actor=principal, vault=vault, today=today),
        subject=principal.subject, key=idempotency_key, payload=payload)
