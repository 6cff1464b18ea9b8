"""HTTP API of 金秋助学's public notice (公示). Applications are education cases (POST /cases
with a `student`); their steps are the case workflow's (/cases/{id}/…).

The paid grants of a unit and year come as a payee roster (.xlsx) for its officers.

Reading a notice needs no token: a notice is public by nature (it is pinned on the union's
board), its id is unguessable, and it holds only masked names, school levels and amounts."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep, VaultDep
from unionops.inputs import MAX_YEAR, MIN_YEAR
from unionops.problems import Problem
from welfare.adapters import papers
from welfare.api.bodies import Money, QueryParams
from welfare.api.dependencies import Today
from welfare.commands import golden_autumn
from welfare.queries import golden_autumn as queries, rosters
from welfare.settings import Settings

router = APIRouter(prefix="/golden-autumn", tags=["golden-autumn"])


class NoticeIn(Body):
    org_id: uuid.UUID = Field(description="公示单位：其下所有已审批、尚未公示的金秋助学案件进入名单")
    title: str = Field("金秋助学拟资助名单公示", min_length=1, max_length=200)


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
async def post_notice(body: NoticeIn, commands: CommandsDep, vault: VaultDep, settings: SettingsDep[Settings],
                      today: Today, principal: Principal = Depends(requires("write")),
                      idempotency_key: str | None = Header(None)):
    calendar = settings.working_calendar()
    return await commands.create(
        lambda uow: golden_autumn.post_notice(
            uow, org_id=body.org_id, title=body.title, actor=principal, today=today, calendar=calendar,
            working_days=settings.golden_autumn_notice_working_days, vault=vault),
        subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="A public notice (公示) — no token needed")
async def get_notice(notice_id: uuid.UUID, db: PoolDep):
    notice = await queries.public_notice(db, notice_id)
    if notice is None:
        raise Problem(404, "公示不存在")
    return notice


class RosterQuery(QueryParams):
    org_id: uuid.UUID = Field(description="发放单位：其下本年度已发放的金秋助学资助")
    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR, description="资助年度")


@router.get("/roster", response_class=Response,
            responses={200: {"content": {papers.XLSX: {}}, "description": "金秋助学发放花名册（.xlsx）"}},
            summary="The unit's paid 金秋助学 grants of a year as a payee roster (.xlsx) to print and sign;"
                    " real names, so only for the unit's own officers")
async def roster(db: PoolDep, vault: VaultDep, q: Annotated[RosterQuery, Query()],
                 principal: Principal = Depends(requires("write"))):
    name, content = papers.golden_autumn_roster(
        await rosters.golden_autumn_roster(db, q.org_id, q.year, principal, vault))
    return Response(content, media_type=papers.XLSX, headers=papers.download_headers(name))
