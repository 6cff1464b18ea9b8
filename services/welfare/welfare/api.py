"""HTTP API of the welfare service (staff and machine clients)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.problems import Problem
from welfare import handlers

router = APIRouter()

CaseKind = Literal["living", "medical", "education", "employment", "legal", "temporary"]
CaseSource = Literal["application", "visit", "hotline"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CaseIn(Body):
    member_id: uuid.UUID
    kind: CaseKind = Field(description="living 生活救助, medical 医疗帮扶, education 助学, employment 就业帮扶,"
                                       " legal 法律援助, temporary 临时救助")
    source: CaseSource = Field(description="application 申请, visit 走访, hotline 12351职工热线")
    summary: str = Field(min_length=1, max_length=4000, description="案情摘要（敏感信息，加密存储，不进入事件）")


class CaseOut(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    union_id: uuid.UUID
    union_name: str
    kind: str
    source: str
    status: str
    opened_on: date
    opened_by: str


class CaseDetailOut(CaseOut):
    summary: str


_CASE_COLUMNS = (
    "c.id, c.member_id, m.name AS member_name, c.union_id, m.union_name, c.org_path, c.kind, c.source, c.status,"
    " c.opened_on, c.opened_by"
)


@router.post("/cases", status_code=201, response_model=CaseOut, tags=["cases"],
             summary="Open an assistance case for a member (帮扶立案)")
async def open_case(body: CaseIn, request: Request, principal: Principal = Depends(requires("write")),
                    idempotency_key: str | None = Header(None)):
    cmd = handlers.OpenCase(member_id=body.member_id, kind=body.kind, source=body.source, summary=body.summary,
                            today=date.today())
    vault = request.app.state.runtime.vault
    # The fingerprint must not keep the summary's words: a keyed hash stands in for them.
    payload = body.model_dump(mode="json") | {"summary": vault.lookup_hash("case_summary", body.summary)}
    return await idempotency.create(request, principal, idempotency_key, payload,
                                    lambda conn: handlers.open_assistance_case(conn, cmd, principal, vault))


@router.get("/cases/{case_id}", response_model=CaseDetailOut, tags=["cases"])
async def get_case(case_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    runtime = request.app.state.runtime
    row = await runtime.pool.fetchrow(
        f"SELECT {_CASE_COLUMNS}, c.summary_enc FROM assistance_cases c JOIN members m ON m.member_id = c.member_id"
        " WHERE c.id = $1", case_id)
    # Out of scope answers like absent: a case's existence is itself sensitive.
    if row is None or not principal.covers(row["org_path"]):
        raise Problem(404, "帮扶案件不存在或不在您的管辖范围内")
    return dict(row) | {"summary": runtime.vault.decrypt("case_summary", row["summary_enc"])}


@router.get("/members/{member_id}/cases", response_model=list[CaseOut], tags=["cases"],
            summary="A member's cases within the caller's subtree, newest first (no summaries)")
async def member_cases(member_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    pool = request.app.state.runtime.pool
    path = await pool.fetchval("SELECT org_path FROM members WHERE member_id = $1", member_id)
    if path is None or not principal.covers(path):
        raise Problem(404, "会员不存在或不在您的管辖范围内")
    rows = await pool.fetch(
        f"SELECT {_CASE_COLUMNS} FROM assistance_cases c JOIN members m ON m.member_id = c.member_id"
        " WHERE c.member_id = $1 AND $2 = ANY(c.org_path) ORDER BY c.opened_at DESC, c.id",
        member_id, principal.org_id)
    return [dict(r) for r in rows]
