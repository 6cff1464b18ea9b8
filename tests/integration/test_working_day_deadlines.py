"""A working-day deadline that reaches a year whose State Council holiday arrangement is not
known is refused with a clear 422 — never a 500, never a guess — and nothing is written. The
welfare process runs with a deadline of thousands of working days so that it reaches such a year
(next year may be typed in, see `next_year_typed_in`; twenty years ahead is not)."""
from __future__ import annotations

import json

import pytest

from tests.support.people import auth
from tests.support.processes import next_year_typed_in
from tests.support.rows import projected

FAR = {"general": 3, "difficult": 7, "complex": 5000}  # 5000 working days: some twenty years ahead

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "welfare", env={"welfare": next_year_typed_in() | {
                  "WELFARE_HOTLINE_DEADLINE_WORKING_DAYS": json.dumps(FAR)}})]


@pytest.fixture(scope="module")
def world(membership):
    east = membership.branch("新津")
    yield {"east": east, "caller": membership.admit(east.grassroots, "罗师傅")}


async def test_a_ticket_whose_deadline_reaches_an_unpublished_holiday_year_is_refused_and_not_written(world, http, db):
    caller = world["caller"]
    await projected(db, members=[caller])
    desk = auth("staff", world["east"].district, "12351话务员")
    body = {"member_id": str(caller), "summary": "工伤认定迟迟没有结果"}
    before = await db.fetchval("SELECT count(*) FROM hotline_tickets")
    r = await http.post("/hotline/tickets", json=body | {"category": "complex"}, headers=desk)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/holiday-calendar-unknown"
    assert r.json()["detail"].endswith("年的法定节假日安排尚未公布，无法计算工作日期限")
    assert await db.fetchval("SELECT count(*) FROM hotline_tickets") == before
    r = await http.post("/hotline/tickets", json=body | {"category": "general"}, headers=desk)
    assert r.status_code == 201, r.text  # a deadline within known years is counted as before
