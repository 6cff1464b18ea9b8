"""Membership's flows on the real PostgreSQL, rolled back: entries that are not what they look
like in the member file (an existing register brought online by an import) are not joins."""
from __future__ import annotations

from membership.queries.flows import monthly_flows, year_flows
from membership.queries.statistics import statistical_report
from tests.support.inprocess import CITY_ADMIN, admit, branch
from unionops.clock import local_today


async def test_an_existing_register_brought_online_is_counted_as_registered_not_as_joins(rolled_back):
    conn = await rolled_back("membership")
    district, _, union = await branch(conn, "统计")
    today = local_today()
    await admit(conn, union)
    registered = [await admit(conn, union) for _ in range(2)]
    # The shape an import of the register writes (commands.imports: source, intake).
    await conn.execute("UPDATE member_file_entries SET detail = detail || '{\"source\": \"import\", \"intake\": \"register\"}'"
                       " WHERE member_id = ANY($1)", registered)
    flows = year_flows(await monthly_flows(conn, district, today.year))
    assert (flows["joins"], flows["registered"]) == (1, 2)
    report = await statistical_report(conn, district, today.year, CITY_ADMIN, today)
    members, f = report["members"], report["flows"]
    assert members["total"] == members["at_start_of_year"] + f["joins"] + f["registered"] == 3
