"""Results commands: publication (公布成绩: status → published, ContestResultsPublished revision 1)
and audited corrections (更正) that re-publish as revision + 1."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal

from opentelemetry import trace

from competitions.commands.contests import set_status
from competitions.domain.results import Standings, results_published
from competitions.domain.scoring import JudgingDefaults, check_publishable, format_points, judge_score
from competitions.queries.contests import load_contest, require_organiser
from competitions.queries.results import standings
from unionops.auth import Principal
from unionops.problems import Problem, RuleViolation
from unionops.unit_of_work import UnitOfWork


async def _save(uow: UnitOfWork, contest, revision: int, rankings: list[dict], actor: Principal,
                reason: str | None) -> dict:
    published_at = datetime.now(timezone.utc)
    await uow.conn.execute(
        "INSERT INTO contest_results (contest_id, revision, published_at, published_by, correction_reason, rankings)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)", contest["id"], revision, published_at, actor.subject, reason,
        _jsonable(rankings))
    await uow.stage(results_published(contest, revision, published_at, rankings, reason))
    trace.get_current_span().set_attribute("contest.results.revision", revision)
    return {"contest_id": contest["id"], "revision": revision, "published_at": published_at,
            "correction_reason": reason, "rankings": rankings}


def _incomplete(s: Standings) -> Problem:
    return Problem(422, f"尚有{s.missing_total}项评分缺失，不能公布成绩", type_="/problems/scores-missing",
                   missing=_jsonable(s.missing), missing_total=s.missing_total)


async def publish(uow: UnitOfWork, contest_id: uuid.UUID, actor: Principal,
                  defaults: JudgingDefaults) -> dict:
    """公布成绩: in judging, every score present, then judging → published (which ends judging:
    scores change only by correction from now on) and revision 1."""
    conn = uow.conn
    contest = await load_contest(conn, contest_id, for_update=True)
    await require_organiser(conn, contest, actor)
    check_publishable(contest["status"])
    s = await standings(conn, contest, defaults)
    if s.missing_total:
        raise _incomplete(s)
    await set_status(uow, contest_id, "published", actor)
    return await _save(uow, contest, 1, s.rankings, actor, None)


async def correct_score(uow: UnitOfWork, contest_id: uuid.UUID, score_id: uuid.UUID, score: Decimal,
                        reason: str, actor: Principal, defaults: JudgingDefaults) -> dict:
    """更正: an organiser changes one recorded score, saying why; old and new value, who and when
    are kept. After publication the results are recomputed and re-published as revision + 1."""
    conn = uow.conn
    contest = await load_contest(conn, contest_id, for_update=True)  # one correction at a time
    await require_organiser(conn, contest, actor)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("更正须说明原因", field="reason", kind="correction-reason")
    old = await conn.fetchrow("SELECT id, entry_id, judge_id, criterion, score_centipoints, max_centipoints"
                              " FROM judge_scores WHERE id = $1 AND contest_id = $2", score_id, contest_id)
    if old is None:
        raise RuleViolation("本竞赛无此评分记录", field="score_id", kind="unknown-score")
    new_cp, _ = judge_score(score, Decimal(old["max_centipoints"]) / 100)
    if new_cp == old["score_centipoints"]:
        raise RuleViolation("更正后的分数与原分数相同", field="score", kind="correction-unchanged")
    await conn.execute("UPDATE judge_scores SET score_centipoints = $2 WHERE id = $1", score_id, new_cp)
    published = contest["status"] == "published"
    revision = None
    result = None
    if published:
        revision = await conn.fetchval("SELECT max(revision) + 1 FROM contest_results WHERE contest_id = $1",
                                       contest_id)
        s = await standings(conn, contest, defaults)
        if s.missing_total:  # cannot happen after a complete publication; never publish a partial sheet
            raise _incomplete(s)
    correction_id = uuid.uuid4()
    corrected_at = await conn.fetchval(
        "INSERT INTO score_corrections (id, contest_id, score_id, entry_id, judge_id, criterion, old_centipoints,"
        " new_centipoints, reason, corrected_by, revision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " RETURNING corrected_at",
        correction_id, contest_id, score_id, old["entry_id"], old["judge_id"], old["criterion"],
        old["score_centipoints"], new_cp, reason, actor.subject, revision)
    if published:
        result = await _save(uow, contest, revision, s.rankings, actor, reason)
    return {"id": correction_id, "contest_id": contest_id, "score_id": score_id, "entry_id": old["entry_id"],
            "judge_id": old["judge_id"], "criterion": old["criterion"],
            "old_score": format_points(old["score_centipoints"]), "new_score": format_points(new_cp),
            "reason": reason, "corrected_by": actor.subject, "corrected_at": corrected_at,
            "revision": revision, "results": result}


def _jsonable(value):
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)
