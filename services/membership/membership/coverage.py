"""Coverage figures of an organisation subtree (统计): unions founded against the year's target,
members, joins / transfers / departures per month, and how many non-public employers a union
covers (建会率) — for the office (API) and for dashboards (CoverageSummaryPublished)."""
from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timezone

import asyncpg

from contracts.events import CoverageSummaryPublished
from unionops import outbox, periodic
from unionops.clock import local_today

log = logging.getLogger(__name__)

_FIGURES = """
WITH sub AS (SELECT id, level, status, established_on FROM org_units WHERE $1 = ANY(path))
SELECT
  (SELECT count(*) FROM sub WHERE level = 'grassroots' AND status = 'active') AS unions_total,
  (SELECT count(*) FROM sub WHERE level = 'grassroots'
      AND established_on >= make_date($2, 1, 1) AND established_on < make_date($2 + 1, 1, 1)) AS unions_founded_this_year,
  (SELECT count(*) FROM members m JOIN sub ON sub.id = m.union_id WHERE m.status IN ('active', 'retained')) AS members_total,
  (SELECT count(*) FROM employers e JOIN sub ON sub.id = e.org_id WHERE e.ownership = 'non_public') AS non_public_total,
  (SELECT count(*) FROM employers e JOIN sub ON sub.id = e.org_id
      WHERE e.ownership = 'non_public' AND e.union_id IS NOT NULL) AS non_public_covered,
  (SELECT count(*) FROM employers e JOIN sub ON sub.id = e.org_id WHERE e.has_collective_contract) AS collective_contracts,
  (SELECT unions_target FROM coverage_targets WHERE org_id = $1 AND year = $2) AS unions_target,
  (SELECT members_target FROM coverage_targets WHERE org_id = $1 AND year = $2) AS members_target
"""

# Flows are read from the member file: every join, transfer and departure is an entry there.
_MONTHLY = """
SELECT extract(month FROM e.occurred_at AT TIME ZONE 'Asia/Shanghai')::int AS month,
       count(*) FILTER (WHERE e.kind IN ('joined', 'rejoined')) AS joins,
       count(*) FILTER (WHERE e.kind = 'transferred') AS transfers_in,
       count(*) FILTER (WHERE e.kind = 'left') AS leaves
FROM member_file_entries e JOIN org_units o ON o.id = e.union_id
WHERE $1 = ANY(o.path)
  AND e.occurred_at >= make_timestamptz($2, 1, 1, 0, 0, 0, 'Asia/Shanghai')
  AND e.occurred_at < make_timestamptz($2 + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai')
GROUP BY 1 ORDER BY 1
"""


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def figures(conn: asyncpg.Connection, org_id: uuid.UUID, year: int) -> dict:
    """All figures of the subtree under `org_id` for `year` (three statements, none per member)."""
    totals = await conn.fetchrow(_FIGURES, org_id, year)
    monthly = {r["month"]: dict(r) for r in await conn.fetch(_MONTHLY, org_id, year)}
    months = [
        {"month": f"{year}-{m:02d}", "joins": monthly.get(m, {}).get("joins", 0),
         "transfers_in": monthly.get(m, {}).get("transfers_in", 0), "leaves": monthly.get(m, {}).get("leaves", 0)}
        for m in range(1, 13)
    ]
    t = dict(totals)
    return {
        "org_id": org_id,
        "year": year,
        "unions": {"total": t["unions_total"], "founded_this_year": t["unions_founded_this_year"],
                   "target": t["unions_target"],
                   "progress": _share(t["unions_founded_this_year"], t["unions_target"] or 0)},
        "members": {"total": t["members_total"], "target": t["members_target"]},
        "non_public_employers": {"total": t["non_public_total"], "covered": t["non_public_covered"],
                                 "coverage_rate": _share(t["non_public_covered"], t["non_public_total"])},
        "collective_contract_employers": t["collective_contracts"],
        "months": months,
    }


async def publish_summaries(pool: asyncpg.Pool, today: date | None = None) -> int:
    """Stage one CoverageSummaryPublished per district-level unit and for the city, for the
    current month. Only one replica does it per run (transaction-level advisory lock)."""
    today = today or local_today()
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('membership.coverage-summary'))"):
            return 0
        units = await conn.fetch(
            "SELECT id, name, level FROM org_units WHERE level IN ('city', 'district') AND status = 'active'"
            " ORDER BY array_length(path, 1), name")
        events = []
        for unit in units:
            f = await figures(conn, unit["id"], today.year)
            month = f["months"][today.month - 1]
            events.append(CoverageSummaryPublished(
                org_id=unit["id"], org_name=unit["name"], level=unit["level"], period=month["month"],
                as_of=datetime.now(timezone.utc), unions_total=f["unions"]["total"],
                unions_founded_this_year=f["unions"]["founded_this_year"], unions_target=f["unions"]["target"],
                members_total=f["members"]["total"], members_target=f["members"]["target"],
                joins_in_period=month["joins"], transfers_in_period=month["transfers_in"],
                leaves_in_period=month["leaves"], non_public_employers_total=f["non_public_employers"]["total"],
                non_public_employers_covered=f["non_public_employers"]["covered"],
                collective_contract_employers=f["collective_contract_employers"],
            ))
        await outbox.record_many(conn, events)
    return len(events)


async def run_periodically(pool_getter, interval_seconds: float) -> None:
    """Background task: publish the summaries every `interval_seconds` (first run after one interval)."""
    async def round_() -> None:
        n = await publish_summaries(pool_getter())
        log.info("coverage summaries staged", extra={"summaries": n})
    await periodic.every(interval_seconds, round_, "coverage summaries", wait_first=True)
