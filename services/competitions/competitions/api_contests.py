"""HTTP API of contests and registration (竞赛与报名).

Who sees what: the organising unit and those above it manage a contest (status, all teams and
entries); units below the organiser see the contest and their own teams and entries, since they
may enter it. Times are answered in Beijing time (+08:00); a time sent without an offset is
taken to be Beijing time."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field, field_serializer, field_validator

from competitions import contests, teams
from competitions.domain import TeamRules, in_beijing, may_see_contest, organises
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.problems import Problem
from unionops.bodies import Body
from unionops.inputs import count, Flag, Limit, UnitName

router = APIRouter()

ContestKind = Literal["labour", "skill", "safety", "energy", "fun", "knowledge"]


class Out(BaseModel):
    @field_serializer("*", when_used="json")
    def _beijing(self, value: Any) -> Any:
        return in_beijing(value) if isinstance(value, datetime) else value


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
    status: Literal["open", "closed"] = Field(description="open 开放报名, closed 截止报名（评审与公布由评审流程设定）")


class TeamMemberIn(Body):
    member_id: uuid.UUID
    leader: Flag = Field(False, description="领队")
    event_id: uuid.UUID | None = Field(None, description="所参加的比赛项目")


class TeamIn(Body):
    union_id: uuid.UUID = Field(description="报名单位")
    name: UnitName | None = Field(None, min_length=1, max_length=100, description="队名，默认“单位名+代表队”")
    members: list[TeamMemberIn] = Field(min_length=1, max_length=100)


class TeamMemberOut(Out):
    member_id: uuid.UUID
    member_name: str
    is_leader: bool
    event_id: uuid.UUID | None
    entry_id: uuid.UUID | None = Field(description="registered teams only: the entry judges score")


class TeamOut(Out):
    id: uuid.UUID
    contest_id: uuid.UUID
    name: str
    union_id: uuid.UUID
    union_name: str
    status: Literal["registered", "waitlisted", "withdrawn"]
    waiting_position: int | None
    leader_member_id: uuid.UUID
    member_ids: list[uuid.UUID]
    members: list[TeamMemberOut]
    registered_at: datetime
    registered_by: str
    promoted_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_by: str | None


class WithdrawalOut(TeamOut):
    promoted_team_ids: list[uuid.UUID]


class EntryIn(Body):
    member_id: uuid.UUID
    event_id: uuid.UUID | None = None


class EntryOut(Out):
    id: uuid.UUID
    contest_id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    union_id: uuid.UUID
    union_name: str
    team_id: uuid.UUID | None
    event_id: uuid.UUID | None
    registered_at: datetime
    registered_by: str


async def _actor_unit_path(conn: asyncpg.Connection | asyncpg.Pool, principal: Principal) -> list[uuid.UUID]:
    return await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", principal.org_id) or []


async def _visible_contest(request: Request, contest_id: uuid.UUID, principal: Principal) -> asyncpg.Record:
    pool = request.app.state.runtime.pool
    try:
        row = await contests.load_contest(pool, contest_id)
    except Problem:
        row = None
    if row is None or not may_see_contest(principal, row["org_id"], row["org_path"],
                                          await _actor_unit_path(pool, principal)):
        raise Problem(404, "竞赛不存在或不在您的管辖范围内")
    return row


# ---- contests -------------------------------------------------------------------------------------

@router.post("/contests", status_code=201, response_model=ContestOut, tags=["contests"],
             summary="Create a contest as a draft, with its announcement (举办竞赛)")
async def create_contest(body: ContestIn, request: Request, principal: Principal = Depends(requires("write")),
                         idempotency_key: str | None = Header(None)):
    cmd = contests.CreateContest(
        name=body.name, kind=body.kind, org_id=body.org_id, starts_on=body.starts_on, ends_on=body.ends_on,
        place=body.place, host_name=body.host_name, host_org_id=body.host_org_id,
        co_organisers=tuple(contests.CoOrganiser(c.name, c.org_id) for c in body.co_organisers),
        events=tuple(contests.ContestEvent(e.name, e.kind) for e in body.events),
        opens_at=body.opens_at, closes_at=body.closes_at, team_based=body.team_based,
        rules=TeamRules(min_team_size=body.min_team_size, max_team_size=body.max_team_size, min_women=body.min_women,
                        team_cap=body.team_cap, max_teams_per_unit=body.max_teams_per_unit))
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: _as(ContestOut, contests.create_contest(conn, cmd, principal)))


async def _as(model: type[BaseModel], result) -> dict:
    """What a command returns, shaped as the response model (Beijing times) before the
    Idempotency-Key stores it."""
    return model.model_validate(await result).model_dump(mode="json")


@router.get("/contests", response_model=list[ContestOut], tags=["contests"],
            summary="Contests the caller organises or whose members may enter, newest first")
async def list_contests(request: Request, limit: Limit = 200, status: str | None = None,
                        principal: Principal = Depends(requires("read"))):
    pool = request.app.state.runtime.pool
    rows = await pool.fetch(
        f"SELECT {contests.CONTEST_COLUMNS} FROM contests c LEFT JOIN org_units o ON o.org_id = c.org_id"
        " WHERE ($1 = ANY(c.org_path) OR c.org_id = ANY($2::uuid[])) AND ($3::text IS NULL OR c.status = $3)"
        " ORDER BY c.created_at DESC LIMIT $4",
        principal.org_id, await _actor_unit_path(pool, principal), status, min(max(limit, 1), 1000))
    return [await contests.contest_view(pool, r) for r in rows]


@router.get("/contests/{contest_id}", response_model=ContestOut, tags=["contests"])
async def get_contest(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    contest = await _visible_contest(request, contest_id, principal)
    return await contests.contest_view(request.app.state.runtime.pool, contest)


@router.post("/contests/{contest_id}/status", response_model=ContestOut, tags=["contests"],
             summary="Open or close registration (开放报名 / 截止报名), by the organiser's staff")
async def change_status(contest_id: uuid.UUID, body: StatusIn, request: Request,
                        principal: Principal = Depends(requires("write"))):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await contests.set_status(conn, contest_id, body.status, principal)


# ---- teams ------------------------------------------------------------------------------------------

@router.post("/contests/{contest_id}/teams", status_code=201, response_model=TeamOut, tags=["registration"],
             summary="Register a unit's team (单位组队报名); beyond the cap it joins the waiting list")
async def register_team(contest_id: uuid.UUID, body: TeamIn, request: Request,
                        principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    cmd = teams.RegisterTeam(
        contest_id=contest_id, union_id=body.union_id, name=body.name,
        members=tuple(teams.TeamMemberIn(m.member_id, m.leader, m.event_id) for m in body.members))
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: _as(TeamOut, teams.register_team(conn, cmd, principal)))


@router.get("/contests/{contest_id}/teams", response_model=list[TeamOut], tags=["registration"],
            summary="Teams in order of arrival: all for the organisers, the caller's own for units below")
async def list_teams(contest_id: uuid.UUID, request: Request, status: str | None = None,
                     principal: Principal = Depends(requires("read"))):
    contest = await _visible_contest(request, contest_id, principal)
    pool = request.app.state.runtime.pool
    ids = await pool.fetch(
        "SELECT id FROM contest_teams WHERE contest_id = $1 AND ($2 OR $3 = ANY(org_path))"
        " AND ($4::text IS NULL OR status = $4) ORDER BY seq",
        contest_id, organises(principal, contest["org_path"]), principal.org_id, status)
    return [await teams.team_view(pool, r["id"]) for r in ids]


@router.get("/contests/{contest_id}/teams/{team_id}", response_model=TeamOut, tags=["registration"])
async def get_team(contest_id: uuid.UUID, team_id: uuid.UUID, request: Request,
                   principal: Principal = Depends(requires("read"))):
    await _visible_contest(request, contest_id, principal)
    pool = request.app.state.runtime.pool
    path = await pool.fetchval("SELECT org_path FROM contest_teams WHERE id = $1 AND contest_id = $2",
                               team_id, contest_id)
    if path is None or not principal.covers(path):
        raise Problem(404, "本竞赛无此参赛队伍")
    return await teams.team_view(pool, team_id)


@router.post("/contests/{contest_id}/teams/{team_id}/withdraw", response_model=WithdrawalOut, tags=["registration"],
             summary="Withdraw a team (退赛); the first waiting team moves up")
async def withdraw_team(contest_id: uuid.UUID, team_id: uuid.UUID, request: Request,
                        principal: Principal = Depends(requires("write"))):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await teams.withdraw_team(conn, contest_id, team_id, principal)


# ---- individual entries -----------------------------------------------------------------------------

@router.post("/contests/{contest_id}/entries", status_code=201, response_model=EntryOut, tags=["registration"],
             summary="Register a member as a contestant (个人报名), in contests without teams")
async def register_contestant(contest_id: uuid.UUID, body: EntryIn, request: Request,
                              principal: Principal = Depends(requires("write")),
                              idempotency_key: str | None = Header(None)):
    cmd = teams.RegisterContestant(contest_id=contest_id, member_id=body.member_id, event_id=body.event_id)
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: _as(EntryOut, teams.register_contestant(conn, cmd, principal)))


@router.get("/contests/{contest_id}/entries", response_model=list[EntryOut], tags=["registration"],
            summary="Entries (one per contestant, what judges score): all for the organisers, own members' below")
async def list_entries(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    contest = await _visible_contest(request, contest_id, principal)
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT id, contest_id, member_id, member_name, union_id, union_name, team_id, event_id, registered_at,"
        " registered_by FROM contest_entries WHERE contest_id = $1 AND ($2 OR $3 = ANY(org_path))"
        " ORDER BY registered_at, id",
        contest_id, organises(principal, contest["org_path"]), principal.org_id)
    return [dict(r) for r in rows]
