"""Results (成绩): placings as published, the ContestResultsPublished of a revision, and the
public results sheet (公示: names masked)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Mapping

from competitions.domain import scoring
from competitions.domain.scoring import format_points
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
