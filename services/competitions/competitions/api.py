"""HTTP API of the competitions service (staff and machine clients): judging. Contests, teams
and entries are in competitions.api_contests.

Who sees what: the organising unit and those above it manage a contest (all entries, judging);
units below the organiser see the contest and the entries of their own members, since their
members may enter it."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import asyncpg
from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from competitions import handlers
from competitions.domain import format_points, may_see_contest, organises
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.problems import Problem
from unionops.bodies import Body

router = APIRouter()


class ScoreIn(Body):
    entry_id: uuid.UUID
    judge_id: str | None = Field(None, min_length=1, max_length=100,
                                 description="评委编号：录分员代评委录入时必填；评委本人登录评分时可省略")
    criterion: str = Field(min_length=1, max_length=100, description="评分标准中的评分项名称，如“实操”“理论”")
    # At most 99999.99 with two decimal places, so a score is an exact number of hundredths; the
    # range (0 ≤ score ≤ the criterion's full marks) is a rule of the domain.
    score: Decimal = Field(max_digits=7, decimal_places=2)
    max_score: Decimal | None = Field(None, max_digits=7, decimal_places=2,
                                      description="该评分项满分（可省略；给出时须与评分标准一致）")


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


@router.post("/contests/{contest_id}/scores", status_code=201, response_model=ScoreOut, tags=["judging"],
             summary="Record one judge's score on one criterion for an entry (评分)",
             description="The judge in person (staff token whose `sub` is the judge's assigned subject) or the"
                         " organisers' staff naming `judge_id`. Refused: judges not assigned to the entry's event,"
                         " a judge of the entrant's own unit (`/problems/conflict-of-interest`), criteria not in"
                         " the scoring standard, scores outside 0..full marks or with more than two decimals,"
                         " scoring before registration closed or after publication (use corrections).")
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
