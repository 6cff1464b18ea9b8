"""HTTP API of judging (评审): judging rules, scoring criteria, judges, scores and score sheets,
completion times. Organisers (the organising unit's subtree-holders) manage it; judges record
their own score sheets."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field

from competitions.commands import judging as cmd
from competitions.domain.scoring import JudgingDefaults
from competitions.queries import judging as query
from competitions.settings import Settings
from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep
from unionops.inputs import count, PersonName

router = APIRouter(tags=["judging"])

Points = Decimal


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


@router.post("/contests/{contest_id}/scores", status_code=201, response_model=ScoreOut,
             summary="Record one judge's score on one criterion for an entry (评分)",
             description="The judge in person (staff token whose `sub` is the judge's assigned subject) or the"
                         " organisers' staff naming `judge_id`. Refused: judges not assigned to the entry's event,"
                         " a judge of the entrant's own unit (`/problems/conflict-of-interest`), criteria not in"
                         " the scoring standard, scores outside 0..full marks or with more than two decimals,"
                         " scoring before judging started (`/problems/not-judging`) or after publication (use corrections).")
async def score_entry(contest_id: uuid.UUID, body: ScoreIn, commands: CommandsDep,
                      principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    score = cmd.ScoreEntry(contest_id=contest_id, entry_id=body.entry_id, judge_id=body.judge_id,
                           criterion=body.criterion, score=body.score, max_score=body.max_score)
    return await commands.create(lambda uow: cmd.score_entry(uow, score, principal),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/contests/{contest_id}/scores", response_model=list[ScoreOut],
            summary="Judges' scores, for the organisers only (results are published separately)")
async def list_scores(contest_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await query.scores(pool, contest_id, principal)


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
async def get_rules(contest_id: uuid.UUID, pool: PoolDep, settings: SettingsDep[Settings],
                    principal: Principal = Depends(requires("read"))):
    return await query.rules(pool, contest_id, principal, JudgingDefaults.of(settings))


@router.put("/contests/{contest_id}/judging-rules", response_model=JudgingRulesOut,
            summary="How the contest is judged and awarded (评审规则、奖项设置)")
async def put_rules(contest_id: uuid.UUID, body: JudgingRulesIn, commands: CommandsDep,
                    settings: SettingsDep[Settings], principal: Principal = Depends(requires("write"))):
    prizes = {k: v for k, v in (body.prizes.model_dump() if body.prizes else {}).items() if v is not None}
    change = cmd.JudgingRules(theory_cap_bp=body.theory_cap_bp, trim_min_judges=body.trim_min_judges,
                              spread_flag_centipoints=body.spread_flag_centipoints, team_score=body.team_score,
                              prize_basis=body.prize_basis, prizes=prizes)
    return await commands.run(lambda uow: cmd.configure_rules(uow, contest_id, change, principal,
                                                              JudgingDefaults.of(settings)))


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
async def put_criteria(contest_id: uuid.UUID, body: CriteriaIn, commands: CommandsDep,
                       settings: SettingsDep[Settings], principal: Principal = Depends(requires("write"))):
    specs = [cmd.CriterionSpec(c.name, c.kind, c.weight_bp, c.max_score) for c in body.criteria]
    return await commands.run(lambda uow: cmd.set_criteria(uow, contest_id, body.event_id, specs, principal,
                                                           JudgingDefaults.of(settings)))


@router.get("/contests/{contest_id}/criteria", response_model=list[CriterionOut])
async def list_criteria(contest_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await query.criteria(pool, contest_id, principal)


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
async def assign_judge(contest_id: uuid.UUID, body: JudgeIn, commands: CommandsDep,
                       principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    judge = cmd.AssignJudge(judge_id=body.judge_id, name=body.name, union_id=body.union_id, event_id=body.event_id,
                            subject=body.subject)
    return await commands.create(lambda uow: cmd.assign_judge(uow, contest_id, judge, principal),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/contests/{contest_id}/judges", response_model=list[JudgeOut])
async def list_judges(contest_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await query.judges(pool, contest_id, principal)


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
async def score_sheet(contest_id: uuid.UUID, body: ScoreSheetIn, commands: CommandsDep,
                      principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    lines = [cmd.ScoreLine(s.entry_id, s.criterion, s.score, s.max_score) for s in body.scores]
    return await commands.create(lambda uow: cmd.record_scores(uow, contest_id, body.judge_id, lines, principal),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


class TimeIn(Body):
    time_ms: count(ge=1, le=7 * 24 * 3600 * 1000) = Field(description="用时，毫秒")


@router.put("/contests/{contest_id}/times/{competitor_id}",
            summary="Record an entry's or a team's completion time (用时), for ties")
async def put_time(contest_id: uuid.UUID, competitor_id: uuid.UUID, body: TimeIn, commands: CommandsDep,
                   principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: cmd.record_time(uow, contest_id, competitor_id, body.time_ms, principal))
