"""HTTP API of contests (竞赛): create a draft with its announcement, list, read, open and close
registration, start judging. Organisers manage a contest; units below the organiser see it, since their members
may enter. Times are answered in Beijing time (+08:00); a time sent without an offset is taken
to be Beijing time."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Header
from pydantic import Field, field_validator

from competitions.api.bodies import Out, shaped
from competitions.commands import contests as cmd
from competitions.domain.contests import in_beijing
from competitions.domain.teams import TeamRules
from competitions.queries import contests as query
from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep
from unionops.inputs import count, Flag, Limit, UnitName

router = APIRouter()

ContestKind = Literal["labour", "skill", "safety", "energy", "fun", "knowledge"]


class CoOrganiserIn(Body):
    name: UnitName = Field(min_length=1, max_length=100)
    org_id: uuid.UUID | None = None


class ContestEventIn(Body):
    name: UnitName = Field(min_length=1, max_length=100, description="如“电工技能”“拔河”")
    kind: Literal["skill", "fun"] = Field(description="skill 技能项目, fun 趣味项目")


class ContestIn(Body):
    name: UnitName = Field(min_length=2, max_length=100)
    kind: ContestKind = Field(description="labour 劳动竞赛, skill 职工技能比赛, safety 安康杯, energy 节能降耗,"
                                          " fun 趣味竞赛, knowledge 知识竞赛")
    org_id: uuid.UUID = Field(description="主办单位：其下属单位可报名")
    host_name: UnitName | None = Field(None, min_length=1, max_length=100, description="承办单位")
    host_org_id: uuid.UUID | None = None
    co_organisers: list[CoOrganiserIn] = Field(default_factory=list, max_length=20, description="协办单位")
    starts_on: date | None = None
    ends_on: date | None = None
    place: str | None = Field(None, min_length=1, max_length=200)
    events: list[ContestEventIn] = Field(default_factory=list, max_length=50, description="比赛项目")
    opens_at: datetime | None = Field(None, description="报名开始（北京时间）")
    closes_at: datetime | None = Field(None, description="报名截止（北京时间，不含）")
    team_based: Flag = Field(True, description="以单位组队报名；false 为个人报名")
    min_team_size: count(ge=1, le=100) = Field(4)
    max_team_size: count(ge=1, le=100) | None = Field(None)
    min_women: count(ge=0, le=100) = Field(1, description="每队至少女职工人数")
    team_cap: count(ge=1, le=10000) | None = Field(None, description="队伍名额；超出者进入候补名单")
    max_teams_per_unit: count(ge=1, le=100) | None = Field(None)

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _beijing_time(cls, v: datetime | None) -> datetime | None:
        return None if v is None else in_beijing(v)


class ContestEventOut(Out):
    id: uuid.UUID
    name: str
    kind: str
    position: int


class ContestOut(Out):
    id: uuid.UUID
    name: str
    kind: str
    status: Literal["draft", "open", "closed", "judging", "published"]
    org_id: uuid.UUID
    org_name: str
    host_name: str | None
    host_org_id: uuid.UUID | None
    co_organisers: list[dict]
    starts_on: date | None
    ends_on: date | None
    place: str | None
    events: list[ContestEventOut]
    opens_at: datetime | None
    closes_at: datetime | None
    team_based: bool
    min_team_size: int
    max_team_size: int | None
    min_women: int
    team_cap: int | None
    max_teams_per_unit: int | None
    teams_registered: int
    teams_waiting: int
    created_at: datetime
    created_by: str
    status_changed_at: datetime | None
    status_changed_by: str | None


class StatusIn(Body):
    status: Literal["open", "closed", "judging"] = Field(
        description="open 开放报名（报名时间不能已全部过去）, closed 截止报名, judging 开始评审（此后方可评分）；"
                    "公布成绩（POST …/results）结束评审")


@router.post("/contests", status_code=201, response_model=ContestOut, tags=["contests"],
             summary="Create a contest as a draft, with its announcement (举办竞赛)")
async def create_contest(body: ContestIn, commands: CommandsDep, principal: Principal = Depends(requires("write")),
                         idempotency_key: str | None = Header(None)):
    contest = cmd.CreateContest(
        name=body.name, kind=body.kind, org_id=body.org_id, starts_on=body.starts_on, ends_on=body.ends_on,
        place=body.place, host_name=body.host_name, host_org_id=body.host_org_id,
        co_organisers=tuple(cmd.CoOrganiser(c.name, c.org_id) for c in body.co_organisers),
        events=tuple(cmd.ContestEvent(e.name, e.kind) for e in body.events),
        opens_at=body.opens_at, closes_at=body.closes_at, team_based=body.team_based,
        rules=TeamRules(min_team_size=body.min_team_size, max_team_size=body.max_team_size, min_women=body.min_women,
                        team_cap=body.team_cap, max_teams_per_unit=body.max_teams_per_unit))
    return await commands.create(lambda uow: shaped(ContestOut, cmd.create_contest(uow, contest, principal)),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/contests", response_model=list[ContestOut], tags=["contests"],
            summary="Contests the caller organises or whose members may enter, newest first")
async def list_contests(pool: PoolDep, limit: Limit = 200, status: str | None = None,
                        principal: Principal = Depends(requires("read"))):
    return await query.contests(pool, principal, status=status, limit=min(max(limit, 1), 1000))


@router.get("/contests/{contest_id}", response_model=ContestOut, tags=["contests"])
async def get_contest(contest_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await query.contest(pool, contest_id, principal)


@router.post("/contests/{contest_id}/status", response_model=ContestOut, tags=["contests"],
             summary="Open or close registration, start judging (开放报名 / 截止报名 / 开始评审), by the organiser's staff")
async def change_status(contest_id: uuid.UUID, body: StatusIn, commands: CommandsDep,
                        principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: cmd.set_status(uow, contest_id, body.status, principal))
