"""Results (成绩): standings computed in one pass in memory from a handful of set-based reads,
publication (status → published, ContestResultsPublished revision 1), audited corrections that
re-publish as revision + 1, and the public results sheet (公示: names masked).

What is ranked: in a team contest (contests.team_based) the registered teams, each scored from
its members' final scores (sum or mean, a contest rule); otherwise the entries, ranked within
each event (a contest without events is one ranking). Ranks restart at 1 in each event; the
event's placings follow one another in the event order in ContestResultsPublished."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

import asyncpg
from opentelemetry import trace

from competitions import contests, scoring
from competitions.domain import format_points, judge_score
from competitions.judging import (
    JudgingDefaults, conflicted, criteria_by_event, criteria_for, judges_by_event, judges_for, judging_rules,
)
from contracts.events import ContestResultsPublished, Placing
from unionops import outbox
from unionops.auth import Principal
from unionops.pii import mask_name
from unionops.problems import Problem, RuleViolation

MISSING_SHOWN = 50


@dataclass
class Standings:
    rankings: list[dict]      # [{event_id, event_name, placings: [...]}]
    missing: list[dict]       # what must still be scored before results can be published
    missing_total: int


async def standings(conn, contest, defaults: JudgingDefaults) -> Standings:
    """Every competitor's final score, rank and prize. Six reads, then pure functions."""
    contest_id = contest["id"]
    rules = await judging_rules(conn, contest_id, defaults)
    criteria = await criteria_by_event(conn, contest_id)
    judges = await judges_by_event(conn, contest_id)
    events = {e["id"]: e for e in await contests.contest_events(conn, contest_id)}
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
        rankings.append({"event_id": None, "event_name": None, "placings": _placings(competitors, tiers)})
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
                             "placings": _placings(by_event[ev], tiers)})
    return Standings(rankings, missing[:MISSING_SHOWN], len(missing))


def _placings(competitors: list[scoring.Competitor], tiers) -> list[dict]:
    return [c.competitor.extra | {
        "rank": c.rank, "final_score_centipoints": c.competitor.score_centipoints,
        "final_score": format_points(c.competitor.score_centipoints),
        "practical_centipoints": c.competitor.practical_centipoints, "time_ms": c.competitor.time_ms,
        "prize": c.prize, "prize_name": scoring.PRIZE_NAMES.get(c.prize or "")}
        for c in scoring.rank(competitors, tiers(len(competitors)))]


def _event(contest, revision: int, published_at: datetime, rankings: list[dict],
           reason: str | None) -> ContestResultsPublished:
    return ContestResultsPublished(
        contest_id=contest["id"], contest_name=contest["name"], org_path=contest["org_path"], revision=revision,
        published_at=published_at, correction_reason=reason,
        placings=[Placing(rank=p["rank"], event_id=r["event_id"], entry_id=p["entry_id"], team_id=p["team_id"],
                          member_ids=p["member_ids"], union_id=p["union_id"],
                          final_score_centipoints=p["final_score_centipoints"], prize=p["prize"])
                  for r in rankings for p in r["placings"]])


async def _save(conn, contest, revision: int, rankings: list[dict], actor: Principal, reason: str | None) -> dict:
    published_at = datetime.now(timezone.utc)
    await conn.execute(
        "INSERT INTO contest_results (contest_id, revision, published_at, published_by, correction_reason, rankings)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)", contest["id"], revision, published_at, actor.subject, reason,
        _jsonable(rankings))
    await outbox.record(conn, _event(contest, revision, published_at, rankings, reason))
    trace.get_current_span().set_attribute("contest.results.revision", revision)
    return {"contest_id": contest["id"], "revision": revision, "published_at": published_at,
            "correction_reason": reason, "rankings": rankings}


def _incomplete(s: Standings) -> Problem:
    return Problem(422, f"尚有{s.missing_total}项评分缺失，不能公布成绩", type_="/problems/scores-missing",
                   missing=_jsonable(s.missing), missing_total=s.missing_total)


async def publish(conn: asyncpg.Connection, contest_id: uuid.UUID, actor: Principal,
                  defaults: JudgingDefaults) -> dict:
    """公布成绩: every score present, then closed/judging → published and revision 1."""
    contest = await contests.load_contest(conn, contest_id, for_update=True)
    await contests.require_organiser(conn, contest, actor)
    if contest["status"] == "published":
        raise RuleViolation("成绩已公布；更正请走更正程序", status=409, kind="results-published")
    s = await standings(conn, contest, defaults)
    if s.missing_total:
        raise _incomplete(s)
    if contest["status"] == "closed":
        await contests.set_status(conn, contest_id, "judging", actor)
    await contests.set_status(conn, contest_id, "published", actor)
    return await _save(conn, contest, 1, s.rankings, actor, None)


async def correct_score(conn: asyncpg.Connection, contest_id: uuid.UUID, score_id: uuid.UUID, score: Decimal,
                        reason: str, actor: Principal, defaults: JudgingDefaults) -> dict:
    """更正: an organiser changes one recorded score, saying why; old and new value, who and when
    are kept. After publication the results are recomputed and re-published as revision + 1."""
    contest = await contests.load_contest(conn, contest_id, for_update=True)  # one correction at a time
    await contests.require_organiser(conn, contest, actor)
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
        result = await _save(conn, contest, revision, s.rankings, actor, reason)
    return {"id": correction_id, "contest_id": contest_id, "score_id": score_id, "entry_id": old["entry_id"],
            "judge_id": old["judge_id"], "criterion": old["criterion"],
            "old_score": format_points(old["score_centipoints"]), "new_score": format_points(new_cp),
            "reason": reason, "corrected_by": actor.subject, "corrected_at": corrected_at,
            "revision": revision, "results": result}


async def latest(conn, contest_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT contest_id, revision, published_at, published_by, correction_reason, rankings"
                               " FROM contest_results WHERE contest_id = $1 ORDER BY revision DESC LIMIT 1",
                               contest_id)


def public_sheet(contest, row) -> dict:
    """The results as posted publicly (公示): names masked, scores and prizes, no judges."""
    return {"contest_id": contest["id"], "contest_name": contest["name"], "revision": row["revision"],
            "published_at": row["published_at"], "correction_reason": row["correction_reason"],
            "rankings": [{"event_id": r["event_id"], "event_name": r["event_name"], "placings": [
                {"rank": p["rank"], "name": p["name"] if p["team_id"] else mask_name(p["name"]),
                 "union_name": p["union_name"], "final_score": p["final_score"], "prize": p["prize"],
                 "prize_name": p["prize_name"]} for p in r["placings"]]} for r in row["rankings"]]}


def _jsonable(value):
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)
