"""The yearly targets of the rights-protection rates (维权建制率), set from above."""
from __future__ import annotations

import uuid

from membership.commands.organisations import targets_from_above
from unionops.auth import Principal
from unionops.unit_of_work import UnitOfWork


async def set_rights_targets(uow: UnitOfWork, org_id: uuid.UUID, year: int, targets: dict[str, int | None],
                             actor: Principal) -> dict:
    """Replace the subtree's targets of `year`: a measure given None (or left out) has none."""
    conn = uow.conn
    await targets_from_above(conn, org_id, actor)
    given = {measure: percent for measure, percent in targets.items() if percent is not None}
    await conn.execute("DELETE FROM rights_targets WHERE org_id = $1 AND year = $2", org_id, year)
    await conn.execute(
        "INSERT INTO rights_targets (org_id, year, measure, target_percent, set_by)"
        " SELECT $1, $2, m, p, $5 FROM unnest($3::text[], $4::int[]) AS t(m, p)",
        org_id, year, list(given), list(given.values()), actor.subject)
    return {"org_id": org_id, "year": year, "targets": given}
