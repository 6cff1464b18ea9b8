"""HTTP API of the competitions service (staff and machine clients).

Who sees what: the organising unit and those above it manage a contest (all entries, judging);
units below the organiser see the contest and the entries of their own members, since their
members may enter it."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import asyncpg
from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from competitions import handlers
from competitions.domain import format_points, may_see_contest, organises
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.problems import Problem

router = APIRouter()

ContestKind = Literal["labour", "skill", "safety", "energy", "fun", "knowledge"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContestIn(Body):
    name: str = Field(min_length=2, max_length=100)
    kind: ContestKind = Field(description="labour 劳动竞赛, skill 职工技能比赛, safety 安康杯, energy 节能降耗,"
                                          " fun 趣味竞赛, knowledge 知识竞赛")
    org_id: uuid.UUID = Field(description="主办单位")
    starts_on: date | None = None
    place: str | None = Field(None, min_length=1, max_length=200)


class ContestOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    org_id: uuid.UUID
    org_name: str
    starts_on: date | None
    place: str | None
    created_at: datetime
    created_by: str


class EntryIn(Body):
    member_id: uuid.UUID


class EntryOut(BaseModel):
    id: uuid.UUID
    contest_id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    union_id: uuid.UUID
    union_name: str
    registered_at: datetime
    registered_by: str


class ScoreIn(Body):
    entry_id: uuid.UUID
    judge_id: str = Field(min_length=1, max_length=100)
    criterion: str = Field(min_length=1, max_length=100, description="评分项，如“实操”“理论”")
    # At most 99999.99 with two decimal places, so a score is an exact number of hundredths; the
    # range (0 ≤ score ≤ max_score) is a rule of the domain.
    score: Decimal = Field(max_digits=7, decimal_places=2)
    max_score: Decimal = Field(max_digits=7, decimal_places=2, description="该评分项满分")


class ScoreOut(BaseModel):
    id: uuid.UUID
    contest_id: uuid.UUID
    entry_id: uuid.UUID
    member_id: uuid.UUID
    judge_id: str
    criterion: str
    score: str = Field(description="分数，两位小数的文本，如 \"87.50\"")
    max_score: str
    score_centipoints: int
    max_centipoints: int
    scored_at: datetime
    scored_by: str


_CONTEST_COLUMNS = ("c.id, c.name, c.kind, c.org_id, COALESCE(o.name, '') AS org_name, c.org_path, c.starts_on,"
                    " c.place, c.created_at, c.created_by")


async def _actor_unit_path(conn: asyncpg.Connection | asyncpg.Pool, principal: Principal) -> list[uuid.UUID]:
    return await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", principal.org_id) or []


async def _visible_contest(request: Request, contest_id: uuid.UUID, principal: Principal) -> asyncpg.Record:
    pool = request.app.state.runtime.pool
    row = await pool.fetchrow(
        f"SELECT {_CONTEST_COLUMNS} FROM contests c LEFT JOIN org_units o ON o.org_id = c.org_id WHERE c.id = $1",
        contest_id)
    if row is None or not may_see_contest(principal, row["org_id"], row["org_path"],
                                          await _actor_unit_path(pool, principal)):
        raise Problem(404, "竞赛不存在或不在您的管辖范围内")
    return row


@router.post("/contests", status_code=201, response_model=ContestOut, tags=["contests"],
             summary="Create a contest organised by a unit (举办竞赛)")
async def create_contest(body: ContestIn, request: Request, principal: Principal = Depends(requires("write")),
                         idempotency_key: str | None = Header(None)):
    cmd = handlers.CreateContest(name=body.name, kind=body.kind, org_id=body.org_id, starts_on=body.starts_on,
                                 place=body.place)
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: handlers.create_contest(conn, cmd, principal))


@router.get("/contests", response_model=list[ContestOut], tags=["contests"],
            summary="Contests the caller organises or whose members may enter, newest first")
async def list_contests(request: Request, limit: int = 200, principal: Principal = Depends(requires("read"))):
    pool = request.app.state.runtime.pool
    rows = await pool.fetch(
        f"SELECT {_CONTEST_COLUMNS} FROM contests c LEFT JOIN org_units o ON o.org_id = c.org_id"
        " WHERE $1 = ANY(c.org_path) OR c.org_id = ANY($2::uuid[]) ORDER BY c.created_at DESC LIMIT $3",
        principal.org_id, await _actor_unit_path(pool, principal), min(max(limit, 1), 1000))
    return [dict(r) for r in rows]


@router.get("/contests/{contest_id}", response_model=ContestOut, tags=["contests"])
async def get_contest(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    return dict(await _visible_contest(request, contest_id, principal))


@router.post("/contests/{contest_id}/entries", status_code=201, response_model=EntryOut, tags=["entries"],
             summary="Register a member as a contestant (报名)")
async def register_contestant(contest_id: uuid.UUID, body: EntryIn, request: Request,
                              principal: Principal = Depends(requires("write")),
                              idempotency_key: str | None = Header(None)):
    cmd = handlers.RegisterContestant(contest_id=contest_id, member_id=body.member_id)
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: handlers.register_contestant(conn, cmd, principal))


@router.get("/contests/{contest_id}/entries", response_model=list[EntryOut], tags=["entries"],
            summary="Entries: all for the organisers, the caller's own members' for units below")
async def list_entries(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    contest = await _visible_contest(request, contest_id, principal)
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT id, contest_id, member_id, member_name, union_id, union_name, registered_at, registered_by"
        " FROM contest_entries WHERE contest_id = $1 AND ($2 OR $3 = ANY(org_path)) ORDER BY registered_at, id",
        contest_id, organises(principal, contest["org_path"]), principal.org_id)
    return [dict(r) for r in rows]


@router.post("/contests/{contest_id}/scores", status_code=201, response_model=ScoreOut, tags=["judging"],
             summary="Record one judge's score on one criterion for an entry (评分)")
async def score_entry(contest_id: uuid.UUID, body: ScoreIn, request: Request,
                      principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    cmd = handlers.ScoreEntry(contest_id=contest_id, entry_id=body.entry_id, judge_id=body.judge_id,
                              criterion=body.criterion, score=body.score, max_score=body.max_score)
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: handlers.score_entry(conn, cmd, principal))


@router.get("/contests/{contest_id}/scores", response_model=list[ScoreOut], tags=["judging"],
            summary="Judges' scores, for the organisers only (results are published separately)")
async def list_scores(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    contest = await _visible_contest(request, contest_id, principal)
    if not organises(principal, contest["org_path"]):
        raise Problem(403, "评分仅主办单位可见", type_="/problems/out-of-scope")
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT s.id, s.contest_id, s.entry_id, e.member_id, s.judge_id, s.criterion, s.score_centipoints,"
        " s.max_centipoints, s.scored_at, s.scored_by FROM judge_scores s JOIN contest_entries e ON e.id = s.entry_id"
        " WHERE s.contest_id = $1 ORDER BY e.registered_at, s.entry_id, s.criterion, s.judge_id", contest_id)
    return [dict(r) | {"score": format_points(r["score_centipoints"]), "max_score": format_points(r["max_centipoints"])}
            for r in rows]
