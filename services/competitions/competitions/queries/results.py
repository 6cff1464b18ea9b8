"""Reads of results (成绩): standings computed in one pass in memory from a handful of set-based
reads, the published revisions, the correction trail and the public results sheet.

What is ranked: in a team contest (contests.team_based) the registered teams, each scored from
its members' final scores (sum or mean, a contest rule); otherwise the entries, ranked within
each event (a contest without events is one ranking). Ranks restart at 1 in each event; the
event's placings follow one another in the event order in ContestResultsPublished."""
from __future__ import annotations

import uuid
from collections import defaultdict

import asyncpg

from competitions.domain import scoring
from competitions.domain.contests import organises
from competitions.domain.results import MISSING_SHOWN, Standings, placings, public_sheet
from competitions.domain.scoring import JudgingDefaults, conflicted, criteria_for, format_points, judges_for
from competitions.queries.contests import contest_events, load_contest, visible_contest
from competitions.queries.judging import criteria_by_event, judges_by_event, judging_contest, judging_rules
from unionops.auth import Principal
from unionops.problems import Problem

async def standings(conn, contest, defaults: JudgingDefaults) -> Standings:
    """Every competitor's final score, rank and prize. Six reads, then pure functions."""
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

    missing: list[dict] = []
    finals: dict[uuid.UUID, scoring.FinalScore] = {}
    for e in entries:
        crit = criteria_for(criteria, e["event_id"])
        panel = judges_for(judges, e["event_id"])
        stepped_aside = {j for j, judge in panel.items() if conflicted(judge, e["union_id"])}
        who = {"entry_id": e["id"], "member_name": e["member_name"], "event_id": e["event_id"]}
        if not crit:
            missing.append(who | {"judge_id": None, "criterion": None, "reason": "no-criteria"})
            continue
        recorded = {(j, c) for j, by_c in sheets[e["id"]].items() for c in by_c}
        gaps = scoring.missing_scores(crit, list(panel), recorded, entry_id=e["id"], conflicted=stepped_aside)
        if gaps:
            missing += [who | {"judge_id": g.judge_id, "criterion": g.criterion,
                               "reason": "no-eligible-judge" if g.judge_id is None else "not-scored"} for g in gaps]
            continue
        eligible = {j: sheets[e["id"]][j] for j in panel if j not in stepped_aside}
        finals[e["id"]] = scoring.final_score(crit, eligible, trim_min_judges=rules["trim_min_judges"],
                                              spread_flag_centipoints=rules["spread_flag_centipoints"])

    tiers = lambda n: scoring.prize_counts(  # noqa: E731
        n, basis=rules["prize_basis"], first=rules["prize_first"], second=rules["prize_second"],
        third=rules["prize_third"], excellence=rules["prize_excellence"])
    rankings: list[dict] = []
    if contest["team_based"]:
        teams = await conn.fetch("SELECT id, name, union_id, union_name FROM contest_teams"
                                 " WHERE contest_id = $1 AND status = 'registered'", contest_id)
        members: dict[uuid.UUID, list] = defaultdict(list)
        for e in entries:
            if e["team_id"] is not None:
                members[e["team_id"]].append(e)
        competitors = []
        for t in teams:
            scored = [finals[e["id"]] for e in members[t["id"]] if e["id"] in finals]
            if not members[t["id"]] or len(scored) != len(members[t["id"]]):
                continue  # its missing scores are listed above
            competitors.append(scoring.Competitor(
                t["id"], scoring.team_score([f.final_centipoints for f in scored], rules["team_score"]),
                scoring.team_score([f.practical_centipoints for f in scored], rules["team_score"]),
                times.get(t["id"]),
                extra={"team_id": t["id"], "entry_id": None, "name": t["name"], "union_id": t["union_id"],
                       "union_name": t["union_name"], "member_ids": [e["member_id"] for e in members[t["id"]]],
                       "judges_disagree": any(f.judges_disagree for f in scored)}))
        rankings.append({"event_id": None, "event_name": None, "placings": placings(competitors, tiers)})
    else:
        by_event: dict[uuid.UUID | None, list] = defaultdict(list)
        for e in entries:
            if e["id"] in finals:
                f = finals[e["id"]]
                by_event[e["event_id"]].append(scoring.Competitor(
                    e["id"], f.final_centipoints, f.practical_centipoints, times.get(e["id"]),
                    extra={"team_id": None, "entry_id": e["id"], "name": e["member_name"], "union_id": e["union_id"],
                           "union_name": e["union_name"], "member_ids": [e["member_id"]],
                           "judges_disagree": f.judges_disagree, "judges_counted": list(f.judges_counted),
                           "judges_dropped": list(f.judges_dropped), "spread": format_points(f.spread_centipoints)}))
        order = sorted(by_event, key=lambda ev: (ev is not None, events[ev]["position"] if ev in events else 0))
        for ev in order:
            rankings.append({"event_id": ev, "event_name": events[ev]["name"] if ev in events else None,
                             "placings": placings(by_event[ev], tiers)})
    return Standings(rankings, missing[:MISSING_SHOWN], len(missing))


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
    return [dict(r) | {"old_score": format_points(r["old_centipoints"]), "new_score": format_points(r["new_centipoints"])}
            for r in rows]
