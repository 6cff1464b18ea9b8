"""Membership flows of a subtree (joins, transfers in and out, leaves), read from the member
file, which has an entry for each. A transfer counts where it crosses the subtree's boundary:
in when it arrives from outside, out when it leaves; one between two unions inside is neither.
A reorganisation (a union merged or dissolved, its members moved by the federation) is not a
transfer: it is counted apart, and only where it crosses the boundary too. Nor is an existing
register brought online (an import whose intake is "register") a join: it is counted apart as
`registered`."""
from __future__ import annotations

import uuid

from unionops.db import Reader

# The day an entry takes effect: the effective or join date it names (a back-dated change falls
# in its own month and year), else the Beijing day it was recorded. Never later than recording,
# so the recording time bounds the scan.
EFFECTIVE_ON = ("coalesce((e.detail->>'effective_on')::date, (e.detail->>'joined_on')::date,"
                " (e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date)")

# Entries that change where (or whether) someone is a member.
MEMBERSHIP_ENTRIES = "('joined', 'rejoined', 'transferred', 'left')"

REORGANISATIONS = "('union_merged', 'union_dissolved')"

FLOWS = ("joins", "registered", "transfers_in", "transfers_out", "reorganised_in", "reorganised_out", "leaves")

# union_ids[1] is the union an entry comes from (a transfer's sending union; the union itself
# for a join or a departure), union_id the one the member is in after it.
_MONTHLY = f"""
WITH sub AS (SELECT id FROM org_units WHERE $1 = ANY(path)),
entries AS (
  SELECT e.kind, {EFFECTIVE_ON} AS effective_on,
         e.union_id IN (SELECT id FROM sub) AS to_inside,
         e.union_ids[1] IN (SELECT id FROM sub) AS from_inside,
         coalesce(e.detail->>'reason', '') IN {REORGANISATIONS} AS reorganisation,
         coalesce(e.detail->>'intake', '') = 'register' AS register
  FROM member_file_entries e
  WHERE e.kind IN {MEMBERSHIP_ENTRIES}
    AND e.occurred_at >= make_timestamptz($2, 1, 1, 0, 0, 0, 'Asia/Shanghai')
    AND (e.union_id IN (SELECT id FROM sub) OR e.union_ids[1] IN (SELECT id FROM sub))
)
SELECT extract(month FROM effective_on)::int AS month,
       count(*) FILTER (WHERE kind IN ('joined', 'rejoined') AND NOT register) AS joins,
       count(*) FILTER (WHERE kind IN ('joined', 'rejoined') AND register) AS registered,
       count(*) FILTER (WHERE kind = 'transferred' AND NOT reorganisation AND to_inside AND NOT from_inside)
           AS transfers_in,
       count(*) FILTER (WHERE kind = 'transferred' AND NOT reorganisation AND from_inside AND NOT to_inside)
           AS transfers_out,
       count(*) FILTER (WHERE kind = 'transferred' AND reorganisation AND to_inside AND NOT from_inside)
           AS reorganised_in,
       count(*) FILTER (WHERE kind = 'transferred' AND reorganisation AND from_inside AND NOT to_inside)
           AS reorganised_out,
       count(*) FILTER (WHERE kind = 'left') AS leaves
FROM entries
WHERE effective_on >= make_date($2, 1, 1) AND effective_on < make_date($2 + 1, 1, 1)
GROUP BY 1 ORDER BY 1
"""


async def monthly_flows(conn: Reader, org_id: uuid.UUID, year: int) -> list[dict]:
    """Twelve months of `year` (Beijing dates), each {month: "YYYY-MM", joins, transfers_in, ...}."""
    rows = {r["month"]: r for r in await conn.fetch(_MONTHLY, org_id, year)}
    return [{"month": f"{year}-{m:02d}", **{f: rows[m][f] if m in rows else 0 for f in FLOWS}}
            for m in range(1, 13)]


def year_flows(months: list[dict]) -> dict:
    """The year's totals of `monthly_flows`."""
    return {f: sum(m[f] for m in months) for f in FLOWS}
