"""The union's statistical report (工会组织和会员统计) of a subtree for a year: units by level and
kind, members by gender, age band, migrant-worker status and employer ownership on the reporting
date, the year's flows, and the non-public employers covered. Set-based: a handful of GROUP BY
statements whatever the number of members.

Members on a day are read from the member file (the last joining, transfer or departure taking
effect by then says where, and whether, someone is a member), so a past year's report counts
that year's members. What the file does not date is read as it is today: migrant-worker status,
employers and their ownership, and the tree's shape (a unit moved since counts where it is now)."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

from membership.domain.statistics import (
    AGE_BAND_STARTS,
    member_breakdown,
    reporting_date,
    unit_rows,
)
from membership.queries import figures, rights, unit_in_scope
from membership.queries.flows import EFFECTIVE_ON, MEMBERSHIP_ENTRIES, year_flows
from unionops.auth import Principal
from unionops.db import Reader

# Units open on the day ($2), and those founded in the year up to it.
_UNITS = """
SELECT level, kind,
       count(*) FILTER (WHERE established_on <= $2 AND (closed_on IS NULL OR closed_on > $2)) AS total,
       count(*) FILTER (WHERE established_on >= make_date($3, 1, 1) AND established_on <= $2) AS founded_this_year
FROM org_units WHERE $1 = ANY(path)
GROUP BY level, kind
"""

# Where each member who was ever in the subtree stands on the day ($2): their last joining,
# transfer or departure taking effect by then.
_PLACED = f"""
WITH sub AS (SELECT id FROM org_units WHERE $1 = ANY(path)),
placed AS (
  SELECT DISTINCT ON (e.member_id) e.member_id, e.kind, e.union_id
  FROM member_file_entries e
  WHERE e.kind IN {MEMBERSHIP_ENTRIES} AND {EFFECTIVE_ON} <= $2
    AND e.member_id IN (SELECT x.member_id FROM member_file_entries x WHERE x.union_id IN (SELECT id FROM sub))
  ORDER BY e.member_id, {EFFECTIVE_ON} DESC, e.id DESC
)"""
_IN_SUBTREE = "p.kind <> 'left' AND p.union_id IN (SELECT id FROM sub)"

# Members of the subtree on the day, counted by (gender, age band, migrant, ownership).
_MEMBERS = f"""{_PLACED},
single_ownership AS (
  SELECT union_id, min(ownership) AS ownership FROM employers WHERE union_id IS NOT NULL
  GROUP BY union_id HAVING count(DISTINCT ownership) = 1
)
SELECT m.gender, width_bucket(extract(year FROM age($2, m.birth_date))::int, $3::int[]) AS age_band,
       m.is_migrant_worker AS migrant, coalesce(ce.ownership, so.ownership, 'unknown') AS ownership,
       count(*) AS members
FROM placed p
JOIN members m ON m.id = p.member_id
LEFT JOIN employers ce ON ce.credit_code = m.employer_credit_code
LEFT JOIN single_ownership so ON so.union_id = p.union_id
WHERE {_IN_SUBTREE}
GROUP BY 1, 2, 3, 4
"""

# Only how many (the count at the start of the year needs no breakdown).
_MEMBER_COUNT = f"{_PLACED} SELECT count(*) FROM placed p WHERE {_IN_SUBTREE}"


async def member_cells(conn: Reader, org_id: uuid.UUID, on: date) -> list[dict]:
    return [dict(r) for r in await conn.fetch(_MEMBERS, org_id, on, list(AGE_BAND_STARTS))]


async def statistical_report(conn: Reader, org_id: uuid.UUID, year: int, principal: Principal,
                             today: date) -> dict:
    """The report of the subtree under `org_id` (in the caller's scope, else 404) for `year`."""
    unit = await unit_in_scope(conn, org_id, principal)
    as_of = reporting_date(year, today)
    coverage = await figures(conn, org_id, year)
    units = unit_rows([dict(r) for r in await conn.fetch(_UNITS, org_id, as_of, year)])
    members = member_breakdown(await member_cells(conn, org_id, as_of))
    at_start = await conn.fetchval(_MEMBER_COUNT, org_id, date(year, 1, 1) - timedelta(days=1))
    return {
        "org_id": org_id, "org_name": unit["name"], "level": unit["level"], "year": year, "as_of": as_of,
        "units": {"by_level_kind": units,
                  "grassroots_total": sum(u["total"] for u in units if u["level"] == "grassroots"),
                  **{k: coverage["unions"][k] for k in ("founded_this_year", "target", "progress")}},
        "members": {"at_start_of_year": at_start, **members, "target": coverage["members"]["target"]},
        "flows": year_flows(coverage["months"]),
        "months": coverage["months"],
        "non_public_employers": coverage["non_public_employers"],
        "collective_contract_employers": coverage["collective_contract_employers"],
        "rights": await rights.rates(conn, org_id, year, as_of),
    }
