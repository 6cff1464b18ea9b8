"""Judging commands (评分): a contest's judging rules, scoring criteria per event, judges per
event, judges' scores and completion times. Scores stage ContestScored; the arithmetic lives in
`competitions.domain.scoring`.

Who records a score: the judge themselves (a staff token whose `sub` is the judge's assigned
`subject`), or the organisers' staff entering a judge's paper score sheet (录分) naming the
judge by `judge_id`. Either way the judge must be assigned to the entry's event, and a judge
from the entrant's own unit must step aside (conflict of interest): their score is refused."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Sequence

from competitions.domain.contests import UNKNOWN_UNIT
from competitions.domain.scoring import (
    Criterion, JudgingDefaults, check_criteria, check_not_published, check_prize_rule, check_scoring_open,
    conflicted, criteria_for, format_points, judge_score, judges_for, to_centipoints,
)
from competitions.queries.contests import load_contest, managed_contest, require_organiser
from competitions.queries.judging import (
    RULE_COLUMNS, criteria_by_event, criterion_view, is_skill, judges_by_event, judging_rules,
)
from contracts.events import ContestScored
from unionops.auth import Principal
from unionops.problems import Problem, RuleViolation
from unionops.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class JudgingRules:
    theory_cap_bp: int | None = None
    trim_min_judges: int | None = None
    spread_flag_centipoints: int | None = None
    team_score: str | None = None               # sum | mean
    prize_basis: str | None = None              # count | share (basis points of those ranked)
    prizes: dict[str, int] | None = None        # first, second, third, excellence


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    kind: str
    weight_bp: int
    max_score: Decimal


@dataclass(frozen=True)
class AssignJudge:
    judge_id: str
    name: str
    union_id: uuid.UUID
    event_id: uuid.UUID | None = None
    subject: str | None = None


@dataclass(frozen=True)
class ScoreLine:
    entry_id: uuid.UUID
    criterion: str
    score: Decimal
    max_score: Decimal | None = None            # when given, must be the criterion's full marks


@dataclass(frozen=True)
class ScoreEntry:
    contest_id: uuid.UUID
    entry_id: uuid.UUID
    judge_id: str | None          # None: the caller is the judge (their token's subject)
    criterion: str
    score: Decimal
    max_score: Decimal | None     # when given, must be the criterion's full marks


async def configure_rules(uow: UnitOfWork, contest_id: uuid.UUID, change: JudgingRules, actor: Principal,
                          defaults: JudgingDefaults) -> dict:
    """The organisers set how their contest is judged and awarded, until results are published."""
    conn = uow.conn
    contest = await managed_contest(conn, contest_id, actor)
    check_not_published(contest["status"])
    rules = await judging_rules(conn, contest_id, defaults)
    for key in ("theory_cap_bp", "trim_min_judges", "spread_flag_centipoints", "team_score", "prize_basis"):
        if getattr(change, key) is not None:
            rules[key] = getattr(change, key)
    for prize, n in (change.prizes or {}).items():
        rules[f"prize_{prize}"] = n
    check_prize_rule(basis=rules["prize_basis"], first=rules["prize_first"], second=rules["prize_second"],
                     third=rules["prize_third"], excellence=rules["prize_excellence"])
    if change.theory_cap_bp is not None:
        # A stricter cap must hold for the criteria already set.
        for event_id, criteria in (await criteria_by_event(conn, contest_id)).items():
            check_criteria(criteria, skill=await is_skill(conn, contest, event_id),
                           theory_cap_bp=rules["theory_cap_bp"])
    await conn.execute(
        f"INSERT INTO contest_judging_rules (contest_id, {RULE_COLUMNS}, updated_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (contest_id) DO UPDATE SET"
        " theory_cap_bp = EXCLUDED.theory_cap_bp, trim_min_judges = EXCLUDED.trim_min_judges,"
        " spread_flag_centipoints = EXCLUDED.spread_flag_centipoints, team_score = EXCLUDED.team_score,"
        " prize_basis = EXCLUDED.prize_basis, prize_first = EXCLUDED.prize_first,"
        " prize_second = EXCLUDED.prize_second, prize_third = EXCLUDED.prize_third,"
        " prize_excellence = EXCLUDED.prize_excellence, updated_at = now(), updated_by = EXCLUDED.updated_by",
        contest_id, *(rules[k] for k in RULE_COLUMNS.replace(" ", "").split(",")), actor.subject)
    return rules


async def set_criteria(uow: UnitOfWork, contest_id: uuid.UUID, event_id: uuid.UUID | None,
                       specs: Sequence[CriterionSpec], actor: Principal, defaults: JudgingDefaults) -> list[dict]:
    """评分标准 of one event (or of the whole contest), replaced as a whole: weights add up to
    100 %, and in a skill event theory weighs at most the contest's cap (30 %). Locked once a
    score was recorded against them."""
    conn = uow.conn
    contest = await managed_contest(conn, contest_id, actor)
    check_not_published(contest["status"])
    if event_id is not None and not await conn.fetchval(
            "SELECT 1 FROM contest_events WHERE id = $1 AND contest_id = $2", event_id, contest_id):
        raise RuleViolation("本竞赛无此比赛项目", field="event_id", kind="unknown-event")
    criteria = [Criterion(id=str(i), name=s.name, kind=s.kind, weight_bp=s.weight_bp,
                          max_centipoints=to_centipoints(s.max_score, field=f"criteria.{i}.max_score"))
                for i, s in enumerate(specs)]
    rules = await judging_rules(conn, contest_id, defaults)
    check_criteria(criteria, skill=await is_skill(conn, contest, event_id), theory_cap_bp=rules["theory_cap_bp"])
    if await conn.fetchval(
            "SELECT 1 FROM judge_scores s JOIN scoring_criteria c ON c.id = s.criterion_id"
            " WHERE c.contest_id = $1 AND c.event_id IS NOT DISTINCT FROM $2 LIMIT 1", contest_id, event_id):
        raise RuleViolation("已有评分记录，评分标准不能再修改", field="criteria", status=409, kind="criteria-locked")
    await conn.execute("DELETE FROM scoring_criteria WHERE contest_id = $1 AND event_id IS NOT DISTINCT FROM $2",
                       contest_id, event_id)
    rows = [(uuid.uuid4(), contest_id, event_id, c.name, c.kind, c.weight_bp, c.max_centipoints, i, actor.subject)
            for i, c in enumerate(criteria, start=1)]
    await conn.executemany(
        "INSERT INTO scoring_criteria (id, contest_id, event_id, name, kind, weight_bp, max_centipoints, position,"
        " created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", rows)
    return [criterion_view(r[0], event_id, r[3], r[4], r[5], r[6]) for r in rows]


async def assign_judge(uow: UnitOfWork, contest_id: uuid.UUID, cmd: AssignJudge, actor: Principal) -> dict:
    """评委 for an event (or every event). A judge keeps one name and unit across the contest."""
    conn = uow.conn
    contest = await managed_contest(conn, contest_id, actor)
    check_not_published(contest["status"])
    if cmd.event_id is not None and not await conn.fetchval(
            "SELECT 1 FROM contest_events WHERE id = $1 AND contest_id = $2", cmd.event_id, contest_id):
        raise RuleViolation("本竞赛无此比赛项目", field="event_id", kind="unknown-event")
    unit = await conn.fetchrow("SELECT name FROM org_units WHERE org_id = $1", cmd.union_id)
    if unit is None:
        raise RuleViolation(UNKNOWN_UNIT, field="union_id", kind="unknown-unit")
    same = await conn.fetchrow("SELECT name, union_id, subject FROM contest_judges WHERE contest_id = $1"
                               " AND judge_id = $2 LIMIT 1", contest_id, cmd.judge_id)
    if same is not None and (same["union_id"], same["subject"]) != (cmd.union_id, cmd.subject):
        raise RuleViolation("同一评委编号在本竞赛中须为同一人（单位、账号一致）", field="judge_id", status=409,
                            kind="judge-mismatch")
    if cmd.subject and await conn.fetchval("SELECT 1 FROM contest_judges WHERE contest_id = $1 AND subject = $2"
                                           " AND judge_id <> $3", contest_id, cmd.subject, cmd.judge_id):
        raise RuleViolation("该账号已是本竞赛另一评委", field="subject", status=409, kind="judge-mismatch")
    judge_row_id = uuid.uuid4()
    inserted = await conn.fetchval(
        "INSERT INTO contest_judges (id, contest_id, event_id, judge_id, name, union_id, union_name, subject,"
        " assigned_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING assigned_at",
        judge_row_id, contest_id, cmd.event_id, cmd.judge_id, cmd.name, cmd.union_id, unit["name"], cmd.subject,
        actor.subject)
    if inserted is None:
        raise RuleViolation("该评委已在此项目任评委", field="judge_id", status=409, kind="already-assigned")
    return {"id": judge_row_id, "contest_id": contest_id, "event_id": cmd.event_id, "judge_id": cmd.judge_id,
            "name": cmd.name, "union_id": cmd.union_id, "union_name": unit["name"], "subject": cmd.subject,
            "assigned_at": inserted}


async def record_scores(uow: UnitOfWork, contest_id: uuid.UUID, judge_id: str | None,
                        lines: Sequence[ScoreLine], actor: Principal) -> list[dict]:
    """One judge's score sheet (one or many lines), all or nothing. Reads what it needs in three
    statements, checks every line in memory, writes the scores with one INSERT and stages one
    ContestScored per score."""
    conn = uow.conn
    contest = await load_contest(conn, contest_id)
    judges = await judges_by_event(conn, contest_id)
    # Who scores comes first: to anyone else the contest's state is none of their business.
    judge_id = await _who_judges(conn, contest, judges, judge_id, actor)
    check_scoring_open(contest["status"])
    if not lines:
        raise RuleViolation("评分表不能为空", field="scores")
    entries = {r["id"]: r for r in await conn.fetch(
        "SELECT id, member_id, union_id, event_id FROM contest_entries WHERE contest_id = $1 AND id = ANY($2::uuid[])",
        contest_id, list({ln.entry_id for ln in lines}))}
    criteria = await criteria_by_event(conn, contest_id)

    rows, seen = [], set()
    for i, ln in enumerate(lines):
        prefix = "" if len(lines) == 1 else f"scores.{i}."
        entry = entries.get(ln.entry_id)
        if entry is None:
            raise RuleViolation("本竞赛无此参赛报名", field=f"{prefix}entry_id", kind="unknown-entry")
        judge = judges_for(judges, entry["event_id"]).get(judge_id)
        if judge is None:
            raise RuleViolation("该评委未受聘为此项目评委", field="judge_id", kind="unknown-judge")
        if conflicted(judge, entry["union_id"]):
            raise RuleViolation("评委与参赛者同属一个单位，须回避，不能为其评分", field="judge_id",
                                kind="conflict-of-interest")
        criterion = next((c for c in criteria_for(criteria, entry["event_id"]) if c.name == ln.criterion), None)
        if criterion is None:
            raise RuleViolation("评分标准中无此评分项", field=f"{prefix}criterion", kind="unknown-criterion")
        if ln.max_score is not None and to_centipoints(ln.max_score, field=f"{prefix}max_score") \
                != criterion.max_centipoints:
            raise RuleViolation(f"该评分项满分为{format_points(criterion.max_centipoints)}", field=f"{prefix}max_score",
                                kind="criterion-full-marks")
        try:
            score_cp, _ = judge_score(ln.score, Decimal(criterion.max_centipoints) / 100)
        except RuleViolation as refused:
            raise RuleViolation(refused.message, field=f"{prefix}score", kind=refused.kind) from None
        if (entry["id"], criterion.id) in seen:
            raise RuleViolation("评分表中同一评分项重复", field=f"{prefix}criterion", kind="already-scored")
        seen.add((entry["id"], criterion.id))
        rows.append((uuid.uuid4(), entry, criterion, score_cp))

    scored_at = datetime.now(timezone.utc)
    inserted = await conn.fetch(
        "INSERT INTO judge_scores (id, contest_id, entry_id, judge_id, criterion, criterion_id, score_centipoints,"
        " max_centipoints, scored_at, scored_by)"
        " SELECT id, $1, entry_id, $2, criterion, criterion_id, score, max_cp, $3, $4"
        " FROM unnest($5::uuid[], $6::uuid[], $7::text[], $8::uuid[], $9::int[], $10::int[])"
        "      AS t(id, entry_id, criterion, criterion_id, score, max_cp)"
        " ON CONFLICT (entry_id, judge_id, criterion) DO NOTHING RETURNING id",
        contest_id, judge_id, scored_at, actor.subject,
        [r[0] for r in rows], [r[1]["id"] for r in rows], [r[2].name for r in rows],
        [uuid.UUID(r[2].id) for r in rows], [r[3] for r in rows], [r[2].max_centipoints for r in rows])
    if len(inserted) != len(rows):
        # Nothing of the sheet is kept: the transaction is rolled back by the refusal.
        raise RuleViolation("该评委已为此参赛者的该评分项打分", field="criterion", status=409, kind="already-scored")
    await uow.stage(*(ContestScored(
        contest_id=contest_id, contest_name=contest["name"], entry_id=e["id"], member_id=e["member_id"],
        judge_id=judge_id, criterion=c.name, score_centipoints=s, max_centipoints=c.max_centipoints,
        scored_at=scored_at) for _, e, c, s in rows))
    return [{"id": sid, "contest_id": contest_id, "entry_id": e["id"], "member_id": e["member_id"],
             "judge_id": judge_id, "criterion": c.name, "score": format_points(s),
             "max_score": format_points(c.max_centipoints), "score_centipoints": s,
             "max_centipoints": c.max_centipoints, "scored_at": scored_at, "scored_by": actor.subject}
            for sid, e, c, s in rows]


async def _who_judges(conn, contest, judges: dict, judge_id: str | None,
                      actor: Principal) -> str:
    """The judge in person (their token's `sub` is an assignment's subject) or the organisers'
    staff recording a named judge's sheet."""
    own = {j["judge_id"] for by_id in judges.values() for j in by_id.values()
           if j["subject"] and j["subject"] == actor.subject and actor.role != "member"}
    if own:
        mine = next(iter(own))
        if judge_id is not None and judge_id != mine:
            raise Problem(403, "评委只能以本人身份评分", type_="/problems/not-this-judge")
        return mine
    await require_organiser(conn, contest, actor)
    if judge_id is None:
        raise RuleViolation("录分须注明评委编号", field="judge_id", kind="unknown-judge")
    return judge_id


async def score_entry(uow: UnitOfWork, cmd: ScoreEntry, actor: Principal) -> dict:
    """评分: one judge, one criterion, one entry, once — a score sheet of one line (see
    `record_scores` for who may record it and the rules it obeys)."""
    [score] = await record_scores(uow, cmd.contest_id, cmd.judge_id, [
        ScoreLine(entry_id=cmd.entry_id, criterion=cmd.criterion, score=cmd.score, max_score=cmd.max_score)], actor)
    return score


async def record_time(uow: UnitOfWork, contest_id: uuid.UUID, competitor_id: uuid.UUID, time_ms: int,
                      actor: Principal) -> dict:
    """用时 of an entry or a team (ties go to the shorter time); set again until publication."""
    conn = uow.conn
    contest = await managed_contest(conn, contest_id, actor)
    check_not_published(contest["status"])
    if time_ms <= 0:
        raise RuleViolation("用时须大于0", field="time_ms")
    if not await conn.fetchval("SELECT 1 FROM contest_entries WHERE id = $1 AND contest_id = $2 UNION ALL"
                               " SELECT 1 FROM contest_teams WHERE id = $1 AND contest_id = $2", competitor_id,
                               contest_id):
        raise RuleViolation("本竞赛无此参赛者或参赛队", field="competitor_id", kind="unknown-entry")
    recorded_at = await conn.fetchval(
        "INSERT INTO completion_times (contest_id, competitor_id, time_ms, recorded_by) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (contest_id, competitor_id) DO UPDATE SET time_ms = EXCLUDED.time_ms,"
        " recorded_at = now(), recorded_by = EXCLUDED.recorded_by RETURNING recorded_at",
        contest_id, competitor_id, time_ms, actor.subject)
    return {"competitor_id": competitor_id, "time_ms": time_ms, "recorded_at": recorded_at}
