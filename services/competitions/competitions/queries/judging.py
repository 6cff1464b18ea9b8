"""Reads of judging: a contest's judging rules (or the service's defaults), criteria and judges
by event, and the organisers' views of criteria, judges and scores."""
from __future__ import annotations

import uuid

import asyncpg

from competitions.domain.contests import organises
from competitions.domain.scoring import Criterion, JudgingDefaults, format_points
from competitions.queries.contests import visible_contest
from unionops.auth import Principal
from unionops.problems import Problem

RULE_COLUMNS = ("theory_cap_bp, trim_min_judges, spread_flag_centipoints, team_score, prize_basis, prize_first,"
                 " prize_second, prize_third, prize_excellence")


async def judging_rules(conn, contest_id: uuid.UUID, defaults: JudgingDefaults) -> dict:
    row = await conn.fetchrow(f"SELECT {RULE_COLUMNS} FROM contest_judging_rules WHERE contest_id = $1", contest_id)
    if row is not None:
        return dict(row)
    return {"theory_cap_bp": defaults.theory_cap_bp, "trim_min_judges": defaults.trim_min_judges,
            "spread_flag_centipoints": defaults.spread_flag_centipoints, "team_score": "sum",
            "prize_basis": "count", "prize_first": 1, "prize_second": 2, "prize_third": 3, "prize_excellence": 0}


def criterion_view(id_, event_id, name, kind, weight_bp, max_cp) -> dict:
    return {"id": id_, "event_id": event_id, "name": name, "kind": kind, "weight_bp": weight_bp,
            "max_score": format_points(max_cp), "max_centipoints": max_cp}


async def criteria_by_event(conn, contest_id: uuid.UUID) -> dict[uuid.UUID | None, list[Criterion]]:
    rows = await conn.fetch("SELECT id, event_id, name, kind, weight_bp, max_centipoints FROM scoring_criteria"
                            " WHERE contest_id = $1 ORDER BY event_id NULLS FIRST, position", contest_id)
    out: dict[uuid.UUID | None, list[Criterion]] = {}
    for r in rows:
        out.setdefault(r["event_id"], []).append(
            Criterion(str(r["id"]), r["name"], r["kind"], r["weight_bp"], r["max_centipoints"]))
    return out


async def judges_by_event(conn, contest_id: uuid.UUID) -> dict[uuid.UUID | None, dict[str, dict]]:
    rows = await conn.fetch("SELECT event_id, judge_id, name, union_id, subject FROM contest_judges"
                            " WHERE contest_id = $1", contest_id)
    out: dict[uuid.UUID | None, dict[str, dict]] = {}
    for r in rows:
        out.setdefault(r["event_id"], {})[r["judge_id"]] = dict(r)
    return out


async def is_skill(conn, contest, event_id: uuid.UUID | None) -> bool:
    """The 30 % theory cap binds skill events; a contest without events is one if its kind is skill."""
    if event_id is None:
        return contest["kind"] == "skill"
    return await conn.fetchval("SELECT kind = 'skill' FROM contest_events WHERE id = $1", event_id)


async def judging_contest(conn, contest_id: uuid.UUID, principal: Principal) -> asyncpg.Record:
    """The contest, for its organisers: seen from below the organiser it is a 403, else a 404."""
    contest = await visible_contest(conn, contest_id, principal)
    if not organises(principal, contest["org_path"]):
        raise Problem(403, "仅主办单位可管理评审", type_="/problems/out-of-scope")
    return contest


async def rules(conn, contest_id: uuid.UUID, principal: Principal, defaults: JudgingDefaults) -> dict:
    await visible_contest(conn, contest_id, principal)
    return await judging_rules(conn, contest_id, defaults)


async def criteria(conn, contest_id: uuid.UUID, principal: Principal) -> list[dict]:
    await visible_contest(conn, contest_id, principal)
    rows = await conn.fetch(
        "SELECT id, event_id, name, kind, weight_bp, max_centipoints FROM scoring_criteria WHERE contest_id = $1"
        " ORDER BY event_id NULLS FIRST, position", contest_id)
    return [criterion_view(r["id"], r["event_id"], r["name"], r["kind"], r["weight_bp"], r["max_centipoints"])
            for r in rows]


async def judges(conn, contest_id: uuid.UUID, principal: Principal) -> list[dict]:
    await judging_contest(conn, contest_id, principal)
    rows = await conn.fetch(
        "SELECT id, contest_id, event_id, judge_id, name, union_id, union_name, subject, assigned_at"
        " FROM contest_judges WHERE contest_id = $1 ORDER BY judge_id, event_id NULLS FIRST", contest_id)
    return [dict(r) for r in rows]


async def scores(conn, contest_id: uuid.UUID, principal: Principal) -> list[dict]:
    """Judges' scores, for the organisers only (results are published separately)."""
    contest = await visible_contest(conn, contest_id, principal)
    if not organises(principal, contest["org_path"]):
        raise Problem(403, "评分仅主办单位可见", type_="/problems/out-of-scope")
    rows = await conn.fetch(
        "SELECT s.id, s.contest_id, s.entry_id, e.member_id, s.judge_id, s.criterion, s.score_centipoints,"
        " s.max_centipoints, s.scored_at, s.scored_by FROM judge_scores s JOIN contest_entries e ON e.id = s.entry_id"
        " WHERE s.contest_id = $1 ORDER BY e.registered_at, s.entry_id, s.criterion, s.judge_id", contest_id)
    return with_points(rows, score="score_centipoints", max_score="max_centipoints")


def with_points(rows, **shown: str) -> list[dict]:
    """Rows with each centipoints column also shown as points text (`score="score_centipoints"`)."""
    return [dict(r) | {name: format_points(r[column]) for name, column in shown.items()} for r in rows]
