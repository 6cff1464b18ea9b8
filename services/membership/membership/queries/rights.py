"""The rights-protection rates of a subtree (维权建制率) against the targets set from above."""
from __future__ import annotations

import uuid
from datetime import date

from membership.domain.rights import figures_day, rate_view
from membership.queries import collective_contracts, congresses, unit_in_scope
from unionops.auth import Principal
from unionops.clock import local_today
from unionops.db import Reader


async def rates(conn: Reader, org_id: uuid.UUID, year: int, as_of: date) -> list[dict]:
    """Every measure of the subtree on `as_of` with the year's target (None where none was set)."""
    counted = [*await collective_contracts.rates(conn, org_id, year, as_of),
               *await congresses.rates(conn, org_id, year, as_of)]
    targets = dict(await conn.fetch(
        "SELECT measure, target_percent FROM rights_targets WHERE org_id = $1 AND year = $2", org_id, year))
    return [rate_view(rate, targets.get(rate.measure)) for rate in counted]


async def rights_coverage(conn: Reader, org_id: uuid.UUID, year: int, principal: Principal) -> dict:
    unit = await unit_in_scope(conn, org_id, principal)
    as_of = figures_day(year, local_today())
    return {"org_id": org_id, "org_name": unit["name"], "level": unit["level"], "year": year,
            "as_of": as_of, "rates": await rates(conn, org_id, year, as_of)}
