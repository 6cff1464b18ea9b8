"""Reads of results (成绩): standings from a handful of set-based reads (ranked in memory by
`competitions.domain.results.rank_contest`), the published revisions, the correction trail and
the public results sheet."""
from __future__ import annotations

import uuid
from collections import defaultdict

import asyncpg

from competitions.domain.contests import organises
from competitions.domain.results import Standings, public_sheet, rank_contest
from competitions.domain.scoring import JudgingDefaults
from competitions.queries.contests import contest_events, load_contest, visible_contest
from competitions.queries.judging import (
    criteria_by_event, judges_by_event, judging_contest, judging_rules, with_points,
)
from unionops.auth import Principal
from unionops.problems import Problem


async def standings(conn, contest, defaults: JudgingDefaults) -> Standings:
    """Every competitor's final score, rank and prize: a handful of set-based reads, then the rules
    of `competitions.domain.results.rank_contest`."""
    contest_id = contest["id"]
    rules = await judging_rules(conn, contest_id, defaults)
    criteria = await criteria_by_event(conn, contest_id)
    judges = await judges_by_event(conn, contest_id)
    events = {e["id"]: e for e in await contest_events(conn, contest_id)}
    entries = await conn.fetch(
        "SELECT e.id, e.member_id, e.member_name, e.union_id, e.union_name, e.event_id, e.team_id"
        " FROM contest_entries e LEFT JOIN contest_teams t ON t.id = e.team_id"
        " WHERE e.contest_id = $1 AND (e.team_id IS NULL OR t.status = 'registered')", contest_id)
    sheets: dict[uuid.UUID, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for r in await conn.fetch("SELECT entry_id, judge_id, criterion_id, score_centipoints FROM judge_scores"
                              " WHERE contest_id = $1 AND criterion_id IS NOT NULL", contest_id):
        sheets[r["entry_id"]][r["judge_id"]][str(r["criterion_id"])] = r["score_centipoints"]
    times = {r["competitor_id"]: r["time_ms"] for r in await conn.fetch(
        "SELECT competitor_id, time_ms FROM completion_times WHERE contest_id = $1", contest_id)}
    teams = await conn.fetch("SELECT id, name, union_id, union_name FROM contest_teams"
                             " WHERE contest_id = $1 AND status = 'registered'", contest_id) \
        if contest["team_based"] else []
    return rank_contest(team_based=contest["team_based"], rules=rules, criteria=criteria, judges=judges,
                        events=events, entries=entries, sheets=sheets, times=times, teams=teams)


async def latest(conn, contest_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT contest_id, revision, published_at, published_by, correction_reason, rankings"
                               " FROM contest_results WHERE contest_id = $1 ORDER BY revision DESC LIMIT 1",
                               contest_id)


async def standings_report(pool: asyncpg.Pool, contest_id: uuid.UUID, principal: Principal,
                           defaults: JudgingDefaults) -> dict:
    """Current ranking and what is still missing, organisers only; read from one snapshot, so
    the ranking and the gaps agree."""
    await judging_contest(pool, contest_id, principal)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        contest = await load_contest(conn, contest_id)
        s = await standings(conn, contest, defaults)
    return {"contest_id": contest_id, "status": contest["status"], "complete": s.missing_total == 0,
            "missing_total": s.missing_total, "missing": s.missing, "rankings": s.rankings}


async def results(conn, contest_id: uuid.UUID, principal: Principal) -> dict:
    """The latest published results; organisers see the detail, units below the public sheet."""
    contest = await visible_contest(conn, contest_id, principal)
    row = await latest(conn, contest_id)
    if row is None:
        raise Problem(404, "成绩尚未公布")
    if not organises(principal, contest["org_path"]):
        return public_sheet(contest, row)
    return dict(row)


async def public_results(conn, contest_id: uuid.UUID) -> dict:
    """Published results as posted publicly (公示), for anyone."""
    row = await latest(conn, contest_id)
    contest = await conn.fetchrow("SELECT id, name FROM contests WHERE id = $1", contest_id)
    if row is None or contest is None:
        raise Problem(404, "成绩尚未公布")
    return public_sheet(contest, row)


async def revisions(conn, contest_id: uuid.UUID, principal: Principal) -> list[dict]:
    await judging_contest(conn, contest_id, principal)
    rows = await conn.fetch(
        "SELECT revision, published_at, published_by, correction_reason FROM contest_results WHERE contest_id = $1"
        " ORDER BY revision", contest_id)
    return [dict(r) for r in rows]


async def corrections(conn, contest_id: uuid.UUID, principal: Principal) -> list[dict]:
    await judging_contest(conn, contest_id, principal)
    rows = await conn.fetch(
        "SELECT id, score_id, entry_id, judge_id, criterion, old_centipoints, new_centipoints, reason, corrected_at,"
        " corrected_by, revision FROM score_corrections WHERE contest_id = $1 ORDER BY corrected_at, id", contest_id)
    return with_points(rows, old_score="old_centipoints", new_score="new_centipoints")
