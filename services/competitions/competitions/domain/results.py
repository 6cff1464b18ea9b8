"""Results (成绩): standings from the judges' scores, placings as published, the
ContestResultsPublished of a revision, and the public results sheet (公示: names masked)."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Mapping, Sequence

from competitions.domain import scoring
from competitions.domain.scoring import conflicted, criteria_for, format_points, judges_for
from contracts.events import ContestResultsPublished, Placing
from unionops.pii import mask_name

MISSING_SHOWN = 50


@dataclass
class Standings:
    rankings: list[dict]      # [{event_id, event_name, placings: [...]}]
    missing: list[dict]       # what must still be scored before results can be published
    missing_total: int


def placings(competitors: list[scoring.Competitor], tiers: Callable[[int], Mapping[str, int]]) -> list[dict]:
    return [c.competitor.extra | {
        "rank": c.rank, "final_score_centipoints": c.competitor.score_centipoints,
        "final_score": format_points(c.competitor.score_centipoints),
        "practical_centipoints": c.competitor.practical_centipoints, "time_ms": c.competitor.time_ms,
        "prize": c.prize, "prize_name": scoring.PRIZE_NAMES.get(c.prize or "")}
        for c in scoring.rank(competitors, tiers(len(competitors)))]


def results_published(contest: Mapping, revision: int, published_at: datetime, rankings: list[dict],
                      reason: str | None) -> ContestResultsPublished:
    """One publication of the results: revision 1, or a correction's revision + 1."""
    return ContestResultsPublished(
        contest_id=contest["id"], contest_name=contest["name"], org_path=contest["org_path"], revision=revision,
        published_at=published_at, correction_reason=reason,
        placings=[Placing(rank=p["rank"], event_id=r["event_id"], entry_id=p["entry_id"], team_id=p["team_id"],
                          member_ids=p["member_ids"], union_id=p["union_id"],
                          final_score_centipoints=p["final_score_centipoints"], prize=p["prize"])
                  for r in rankings for p in r["placings"]])


def public_sheet(contest, row) -> dict:
    """The results as posted publicly (公示): names masked, scores and prizes, no judges."""
    return {"contest_id": contest["id"], "contest_name": contest["name"], "revision": row["revision"],
            "published_at": row["published_at"], "correction_reason": row["correction_reason"],
            "rankings": [{"event_id": r["event_id"], "event_name": r["event_name"], "placings": [
                {"rank": p["rank"], "name": p["name"] if p["team_id"] else mask_name(p["name"]),
                 "union_name": p["union_name"], "final_score": p["final_score"], "prize": p["prize"],
                 "prize_name": p["prize_name"]} for p in r["placings"]]} for r in row["rankings"]]}


def rank_contest(*, team_based: bool, rules: Mapping, criteria: Mapping, judges: Mapping, events: Mapping,
                 entries: Sequence[Mapping], sheets: Mapping[uuid.UUID, Mapping[str, Mapping[str, int]]],
                 times: Mapping[uuid.UUID, int], teams: Sequence[Mapping]) -> Standings:
    """Every competitor's final score, rank and prize, and what is still missing.

    What is ranked: in a team contest the registered `teams`, each scored from its members'
    final scores (sum or mean, a contest rule); otherwise the entries, ranked within each event
    (a contest without events is one ranking). Ranks restart at 1 in each event; the event's
    placings follow one another in the event order. `criteria` and `judges` are by event,
    `sheets` by entry and judge ({criterion id: centipoints}), `times` by competitor."""
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
        recorded = {(j, c) for j, by_c in sheets.get(e["id"], {}).items() for c in by_c}
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
    if team_based:
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
