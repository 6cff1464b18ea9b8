"""Coverage summaries (统计) for dashboards: one CoverageSummaryPublished per district-level unit
and for the city (the figures themselves are read by `queries.figures`)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from contracts.events import CoverageSummaryPublished, RightsRate
from membership.queries import figures, rights
from unionops.clock import local_today
from unionops.unit_of_work import UnitOfWork


async def publish_summaries(uow: UnitOfWork, today: date | None = None) -> int:
    """Stage one CoverageSummaryPublished per district-level unit and for the city, for the
    current month. Only one replica does it per run (transaction-level advisory lock)."""
    conn, today = uow.conn, today or local_today()
    if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('membership.coverage-summary'))"):
        return 0
    units = await conn.fetch(
        "SELECT id, name, level FROM org_units WHERE level IN ('city', 'district') AND status = 'active'"
        " ORDER BY array_length(path, 1), name")
    events = []
    for unit in units:
        f = await figures(conn, unit["id"], today.year)
        rates = await rights.rates(conn, unit["id"], today.year, today)
        month = f["months"][today.month - 1]
        events.append(CoverageSummaryPublished(
            org_id=unit["id"], org_name=unit["name"], level=unit["level"], period=month["month"],
            as_of=datetime.now(timezone.utc), unions_total=f["unions"]["total"],
            unions_founded_this_year=f["unions"]["founded_this_year"], unions_target=f["unions"]["target"],
            members_total=f["members"]["total"], members_target=f["members"]["target"],
            joins_in_period=month["joins"], transfers_in_period=month["transfers_in"],
            transfers_out_period=month["transfers_out"],
            leaves_in_period=month["leaves"], non_public_employers_total=f["non_public_employers"]["total"],
            non_public_employers_covered=f["non_public_employers"]["covered"],
            collective_contract_employers=f["collective_contract_employers"],
            rights_rates=[RightsRate(measure=r["measure"], covered=r["covered"], base=r["base"],
                                     target_percent=r["target_percent"]) for r in rates],
        ))
    await uow.stage(*events)
    return len(events)
