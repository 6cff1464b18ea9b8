"""HTTP API of 金秋助学's public notice (公示). Applications are education cases (POST /cases
with a `student`); their steps are the case workflow's (/cases/{id}/…).

Reading a notice needs no token: a notice is public by nature (it is pinned on the union's
board), its id is unguessable, and it holds only masked names, school levels and amounts."""
from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.clock import local_today
from unionops.problems import Problem
from welfare import golden_autumn
from unionops.bodies import Body

router = APIRouter(prefix="/golden-autumn", tags=["golden-autumn"])


class NoticeIn(Body):
    org_id: uuid.UUID = Field(description="公示单位：其下所有已审批、尚未公示的金秋助学案件进入名单")
    title: str = Field("金秋助学拟资助名单公示", min_length=1, max_length=200)


class Money(BaseModel):
    fen: int
    yuan: str


class NoticeEntryOut(BaseModel):
    position: int
    member_name: str = Field(description="职工姓名（脱敏）")
    student_name: str = Field(description="学生姓名（脱敏）")
    school_level: str
    school_level_label: str
    amount: Money


class NoticeOut(BaseModel):
    id: uuid.UUID
    org_id: uuid.UUID
    title: str
    posted_on: date
    ends_on: date = Field(description="公示期最后一个工作日")
    payable_from: date = Field(description="此日起方可发放")
    entries: list[NoticeEntryOut]
    total: Money


@router.post("/notices", status_code=201, response_model=NoticeOut,
             summary="Post the masked list of a unit's approved 金秋助学 cases for N working days (公示)")
async def post_notice(body: NoticeIn, request: Request, principal: Principal = Depends(requires("write")),
                      idempotency_key: str | None = Header(None)):
    runtime = request.app.state.runtime
    s = runtime.settings
    calendar = s.working_calendar()
    today = local_today(s.welfare_timezone)
    return await idempotency.create(
        request, principal, idempotency_key, body.model_dump(mode="json"),
        lambda conn: golden_autumn.post_notice(conn, org_id=body.org_id, title=body.title, actor=principal,
                                               today=today, calendar=calendar,
                                               working_days=s.golden_autumn_notice_working_days, vault=runtime.vault))


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="A public notice (公示) — no token needed")
async def get_notice(notice_id: uuid.UUID, request: Request):
    async with request.app.state.runtime.pool.acquire() as conn:
        notice = await golden_autumn.public_notice(conn, notice_id)
    if notice is None:
        raise Problem(404, "公示不存在")
    return notice
