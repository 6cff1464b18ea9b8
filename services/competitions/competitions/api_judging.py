"""HTTP API of judging and results: judging rules, scoring criteria, judges, score sheets,
completion times, standings, publication, corrections and the public results sheet.

Organisers (the organising unit's subtree-holders) manage all of it; judges record their own
score sheets; everyone may read published results at /public/…, names masked (公示)."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from competitions import judging, results
from competitions.api import ScoreOut, _visible_contest
from unionops.bodies import Body
from unionops.inputs import count, PersonName
from competitions.contests import load_contest
from competitions.domain import format_points, organises
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.problems import Problem

router = APIRouter(tags=["judging"])

Points = Decimal


def _defaults(request: Request) -> judging.JudgingDefaults:
    return judging.JudgingDefaults.of(request.app.state.runtime.settings)


async def _organised(request: Request, contest_id: uuid.UUID, principal: Principal):
    contest = await _visible_contest(request, contest_id, principal)
    if not organises(principal, contest["org_path"]):
        raise Problem(403, "仅主办单位可管理评审", type_="/problems/out-of-scope")
    return contest


# ---- rules --------------------------------------------------------------------------------------

class PrizesIn(Body):
    first: count(le=10000) | None = Field(None, description="一等奖：名额，或按比例时的万分比")
    second: count(le=10000) | None = Field(None, description="二等奖")
    third: count(le=10000) | None = Field(None, description="三等奖")
    excellence: count(le=10000) | None = Field(None, description="优秀奖")


class JudgingRulesIn(Body):
    theory_cap_bp: count(le=10000) | None = Field(None, description="技能项目理论成绩占比上限（万分比，默认3000=30%）")
    trim_min_judges: count(ge=3, le=100) | None = Field(None, description="评委达到此人数时去掉一个最高分和一个最低分（默认5）")
    spread_flag_centipoints: count(le=10**9) | None = Field(None, description="评委总分极差超过此值（百分之一分）时标记分歧")
    team_score: Literal["sum", "mean"] | None = Field(None, description="团体成绩：队员成绩之和或平均")
    prize_basis: Literal["count", "share"] | None = Field(None, description="获奖名额：按人（队）数或按比例（万分比）")
    prizes: PrizesIn | None = None


class JudgingRulesOut(BaseModel):
    theory_cap_bp: int
    trim_min_judges: int
    spread_flag_centipoints: int
    team_score: str
    prize_basis: str
    prize_first: int
    prize_second: int
    prize_third: int
    prize_excellence: int


@router.get("/contests/{contest_id}/judging-rules", response_model=JudgingRulesOut)
async def get_rules(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    await _visible_contest(request, contest_id, principal)
    return await judging.judging_rules(request.app.state.runtime.pool, contest_id, _defaults(request))


@router.put("/contests/{contest_id}/judging-rules", response_model=JudgingRulesOut,
            summary="How the contest is judged and awarded (评审规则、奖项设置)")
async def put_rules(contest_id: uuid.UUID, body: JudgingRulesIn, request: Request,
                    principal: Principal = Depends(requires("write"))):
    prizes = {k: v for k, v in (body.prizes.model_dump() if body.prizes else {}).items() if v is not None}
    change = judging.JudgingRules(theory_cap_bp=body.theory_cap_bp, trim_min_judges=body.trim_min_judges,
                                  spread_flag_centipoints=body.spread_flag_centipoints, team_score=body.team_score,
                                  prize_basis=body.prize_basis, prizes=prizes)
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await judging.configure_rules(conn, contest_id, change, principal, _defaults(request))


# ---- criteria -----------------------------------------------------------------------------------

class CriterionIn(Body):
    name: str = Field(min_length=1, max_length=100, description="评分项，如“理论”“实操”")
    kind: Literal["theory", "practical"]
    weight_bp: count(ge=1, le=10000) = Field(description="权重，万分比；一个项目各评分项之和为10000")
    max_score: Points = Field(max_digits=7, decimal_places=2, description="满分")


class CriteriaIn(Body):
    event_id: uuid.UUID | None = Field(None, description="比赛项目；省略则适用于整个竞赛")
    criteria: list[CriterionIn] = Field(min_length=1, max_length=50)


class CriterionOut(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID | None
    name: str
    kind: str
    weight_bp: int
    max_score: str
    max_centipoints: int


@router.put("/contests/{contest_id}/criteria", response_model=list[CriterionOut],
            summary="Set an event's scoring standard as a whole (评分标准)")
async def put_criteria(contest_id: uuid.UUID, body: CriteriaIn, request: Request,
                       principal: Principal = Depends(requires("write"))):
    specs = [judging.CriterionSpec(c.name, c.kind, c.weight_bp, c.max_score) for c in body.criteria]
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await judging.set_criteria(conn, contest_id, body.event_id, specs, principal, _defaults(request))


@router.get("/contests/{contest_id}/criteria", response_model=list[CriterionOut])
async def list_criteria(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    await _visible_contest(request, contest_id, principal)
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT id, event_id, name, kind, weight_bp, max_centipoints FROM scoring_criteria WHERE contest_id = $1"
        " ORDER BY event_id NULLS FIRST, position", contest_id)
    return [judging.criterion_view(r["id"], r["event_id"], r["name"], r["kind"], r["weight_bp"], r["max_centipoints"])
            for r in rows]


# ---- judges -------------------------------------------------------------------------------------

class JudgeIn(Body):
    judge_id: str = Field(min_length=1, max_length=100, description="评委编号，如 judge-01")
    name: PersonName = Field(min_length=1, max_length=50)
    union_id: uuid.UUID = Field(description="评委所在单位（工会），用于回避")
    event_id: uuid.UUID | None = Field(None, description="比赛项目；省略则为全部项目的评委")
    subject: str | None = Field(None, min_length=1, max_length=200,
                                description="评委本人登录账号（令牌 sub）；给出后评委可自行评分")


class JudgeOut(BaseModel):
    id: uuid.UUID
    contest_id: uuid.UUID
    event_id: uuid.UUID | None
    judge_id: str
    name: str
    union_id: uuid.UUID
    union_name: str
    subject: str | None
    assigned_at: datetime


@router.post("/contests/{contest_id}/judges", status_code=201, response_model=JudgeOut,
             summary="Assign a judge to an event (聘任评委)")
async def assign_judge(contest_id: uuid.UUID, body: JudgeIn, request: Request,
                       principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    cmd = judging.AssignJudge(judge_id=body.judge_id, name=body.name, union_id=body.union_id, event_id=body.event_id,
                              subject=body.subject)
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: judging.assign_judge(conn, contest_id, cmd, principal))


@router.get("/contests/{contest_id}/judges", response_model=list[JudgeOut])
async def list_judges(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    await _organised(request, contest_id, principal)
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT id, contest_id, event_id, judge_id, name, union_id, union_name, subject, assigned_at"
        " FROM contest_judges WHERE contest_id = $1 ORDER BY judge_id, event_id NULLS FIRST", contest_id)
    return [dict(r) for r in rows]


# ---- score sheets and times ---------------------------------------------------------------------

class ScoreLineIn(Body):
    entry_id: uuid.UUID
    criterion: str = Field(min_length=1, max_length=100)
    score: Points = Field(max_digits=7, decimal_places=2)
    max_score: Points | None = Field(None, max_digits=7, decimal_places=2)


class ScoreSheetIn(Body):
    judge_id: str | None = Field(None, min_length=1, max_length=100,
                                 description="录分员代评委录入时必填；评委本人登录评分时可省略")
    scores: list[ScoreLineIn] = Field(min_length=1, max_length=5000)


@router.post("/contests/{contest_id}/score-sheets", status_code=201, response_model=list[ScoreOut],
             summary="One judge's score sheet, all lines or none (评分表)")
async def score_sheet(contest_id: uuid.UUID, body: ScoreSheetIn, request: Request,
                      principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    lines = [judging.ScoreLine(s.entry_id, s.criterion, s.score, s.max_score) for s in body.scores]
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: judging.record_scores(conn, contest_id, body.judge_id, lines,
                                                                       principal))


class TimeIn(Body):
    time_ms: count(ge=1, le=7 * 24 * 3600 * 1000) = Field(description="用时，毫秒")


@router.put("/contests/{contest_id}/times/{competitor_id}",
            summary="Record an entry's or a team's completion time (用时), for ties")
async def put_time(contest_id: uuid.UUID, competitor_id: uuid.UUID, body: TimeIn, request: Request,
                   principal: Principal = Depends(requires("write"))):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await judging.record_time(conn, contest_id, competitor_id, body.time_ms, principal)


# ---- standings, publication, corrections --------------------------------------------------------

@router.get("/contests/{contest_id}/standings",
            summary="Current ranking and what is still missing (before publication), organisers only")
async def get_standings(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    await _organised(request, contest_id, principal)
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                                                 readonly=True):
        contest = await load_contest(conn, contest_id)
        s = await results.standings(conn, contest, _defaults(request))
    return {"contest_id": contest_id, "status": contest["status"], "complete": s.missing_total == 0,
            "missing_total": s.missing_total, "missing": s.missing, "rankings": s.rankings}


@router.post("/contests/{contest_id}/results", status_code=201,
             summary="Publish the results (公布成绩): revision 1, status → published")
async def publish(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("write")),
                  idempotency_key: str | None = Header(None)):
    return await idempotency.create(request, principal, idempotency_key, {},
                                    lambda conn: results.publish(conn, contest_id, principal, _defaults(request)))


@router.get("/contests/{contest_id}/results", summary="The latest published results; organisers see the detail")
async def get_results(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    contest = await _visible_contest(request, contest_id, principal)
    row = await results.latest(request.app.state.runtime.pool, contest_id)
    if row is None:
        raise Problem(404, "成绩尚未公布")
    if not organises(principal, contest["org_path"]):
        return results.public_sheet(contest, row)
    return dict(row)


@router.get("/contests/{contest_id}/results/revisions", summary="Every publication of the results, oldest first")
async def list_revisions(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    await _organised(request, contest_id, principal)
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT revision, published_at, published_by, correction_reason FROM contest_results WHERE contest_id = $1"
        " ORDER BY revision", contest_id)
    return [dict(r) for r in rows]


@router.get("/public/contests/{contest_id}/results", tags=["public"],
            summary="Published results as posted publicly (公示): no sign-in, names masked")
async def public_results(contest_id: uuid.UUID, request: Request):
    pool = request.app.state.runtime.pool
    row = await results.latest(pool, contest_id)
    contest = await pool.fetchrow("SELECT id, name FROM contests WHERE id = $1", contest_id)
    if row is None or contest is None:
        raise Problem(404, "成绩尚未公布")
    return results.public_sheet(contest, row)


class CorrectionIn(Body):
    score_id: uuid.UUID
    score: Points = Field(max_digits=7, decimal_places=2, description="更正后的分数")
    reason: str = Field(min_length=2, max_length=500, description="更正原因")


@router.post("/contests/{contest_id}/corrections", status_code=201,
             summary="Correct one recorded score (更正): audited; after publication re-published as revision + 1")
async def correct(contest_id: uuid.UUID, body: CorrectionIn, request: Request,
                  principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    return await idempotency.create(
        request, principal, idempotency_key, body.model_dump(mode="json"),
        lambda conn: results.correct_score(conn, contest_id, body.score_id, body.score, body.reason, principal,
                                           _defaults(request)))


@router.get("/contests/{contest_id}/corrections", summary="The correction trail: who, when, why, old and new")
async def list_corrections(contest_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    await _organised(request, contest_id, principal)
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT id, score_id, entry_id, judge_id, criterion, old_centipoints, new_centipoints, reason, corrected_at,"
        " corrected_by, revision FROM score_corrections WHERE contest_id = $1 ORDER BY corrected_at, id", contest_id)
    return [dict(r) | {"old_score": format_points(r["old_centipoints"]), "new_score": format_points(r["new_centipoints"])}
            for r in rows]
