"""12351 hotline tickets against the real broker and PostgreSQL: deadlines by category, assign,
resolve, one satisfaction rating, overdue detection that reports each late ticket once, and a
ticket opening an assistance case."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from unionops.auth import issue_token
from unionops.unit_of_work import UnitOfWork
from welfare.commands import hotline
from welfare.settings import Settings

from tests.support.people import auth
from tests.support.processes import next_year_typed_in
from tests.support.rows import projected
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration,
              # The overdue check every second, so the test sees it run several times.
              pytest.mark.services("membership", "welfare",
                                   env={"welfare": next_year_typed_in() | {"WELFARE_HOTLINE_CHECK_SECONDS": "1"}})]


@pytest.fixture(scope="module")
def world(membership):
    east, west = membership.branch("双流"), membership.branch("郫都")
    caller = membership.admit(east.grassroots, "杨师傅", migrant=True)
    yield {"east": east, "west": west, "caller": caller}


@pytest.fixture
async def caller(world, db):
    await projected(db, members=[world["caller"]])
    return world["caller"]


def hotline_desk(world):
    return auth("staff", world["east"].district, "12351话务员")


async def open_ticket(http, world, caller, category="general", **extra) -> dict:
    body = {"member_id": str(caller), "category": category, "summary": "工资被拖欠三个月，家中老人住院"} | extra
    r = await http.post("/hotline/tickets", json=body, headers=hotline_desk(world))
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_tickets_deadline_comes_from_its_category(http, world, caller, db):
    general = await open_ticket(http, world, caller, "general")
    complex_ = await open_ticket(http, world, caller, "complex")
    assert general["org_id"] == str(world["east"].grassroots)   # the caller's union is responsible
    assert general["category_label"] == "一般" and complex_["category_label"] == "特别复杂"
    opened = datetime.fromisoformat(general["opened_at"])
    due_general, due_complex = (datetime.fromisoformat(t["due_at"]) for t in (general, complex_))
    assert timedelta(days=3) <= due_general - opened < timedelta(days=3 + 10)
    assert timedelta(days=15) <= due_complex - opened and due_complex > due_general
    stored = await db.fetchval("SELECT summary_enc FROM hotline_tickets WHERE id = $1", uuid.UUID(general["id"]))
    assert "工资".encode() not in bytes(stored)


async def test_auditors_read_a_ticket_without_what_the_caller_said(http, world, caller):
    t = await open_ticket(http, world, caller)
    desk = await http.get(f"/hotline/tickets/{t['id']}", headers=hotline_desk(world))
    assert desk.status_code == 200 and desk.json()["summary"] == "工资被拖欠三个月，家中老人住院"
    audit = await http.get(f"/hotline/tickets/{t['id']}", headers=auth("auditor", world["east"].district))
    assert audit.status_code == 200
    assert audit.json()["summary"] is None and "住院" not in audit.text
    assert audit.json()["category"] == desk.json()["category"] and audit.json()["due_at"] == desk.json()["due_at"]


async def test_a_ticket_is_assigned_resolved_and_rated_once(http, world, caller):
    t = await open_ticket(http, world, caller, "difficult")
    street = auth("staff", world["east"].street, "街道-承办科")
    r = await http.post(f"/hotline/tickets/{t['id']}/rating", json={"satisfaction": 5}, headers=street)
    assert r.status_code == 409 and r.json()["type"] == "/problems/ticket-not-resolved"
    r = await http.post(f"/hotline/tickets/{t['id']}/assign", json={"assignee": "维权干事-邱"}, headers=street)
    assert r.status_code == 200 and r.json()["status"] == "assigned" and r.json()["assignee"] == "维权干事-邱"
    r = await http.post(f"/hotline/tickets/{t['id']}/resolve", json={"resolution": "协调企业补发工资"}, headers=street)
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    # The caller rates it, signed in as themselves; once.
    member = {"Authorization": f"Bearer {issue_token(Settings(), subject=str(caller), role='member', org_id=world['east'].grassroots)}"}
    r = await http.post(f"/hotline/tickets/{t['id']}/rating", json={"satisfaction": 4}, headers=member)
    assert r.status_code == 200 and r.json()["satisfaction"] == 4
    r = await http.post(f"/hotline/tickets/{t['id']}/rating", json={"satisfaction": 1}, headers=street)
    assert r.status_code == 409 and r.json()["type"] == "/problems/already-rated"
    assert (await http.post(f"/hotline/tickets/{t['id']}/rating", json={"satisfaction": 6},
                            headers=street)).status_code == 422
    detail = await http.get(f"/hotline/tickets/{t['id']}", headers=street)
    assert detail.json()["resolution"] == "协调企业补发工资" and detail.json()["satisfaction"] == 4


async def test_overdue_ticket_is_reported_once(http, world, caller, db):
    t = await open_ticket(http, world, caller, "general")
    ticket_id = uuid.UUID(t["id"])
    # Its deadline passed (as three working days would make it).
    await db.execute("UPDATE hotline_tickets SET due_at = now() - interval '1 minute' WHERE id = $1", ticket_id)
    await eventually(lambda: db.fetchval("SELECT overdue_at FROM hotline_tickets WHERE id = $1", ticket_id),
                     timeout=15, what="the overdue check to mark the ticket")
    await asyncio.sleep(3)   # several more rounds of the check
    events = await db.fetch("SELECT payload FROM outbox WHERE event_type = 'HotlineTicketOverdue' AND key = $1",
                            str(ticket_id))
    assert len(events) == 1
    assert events[0]["payload"]["category"] == "general" and "工资" not in str(events[0]["payload"])
    await eventually(lambda: db.fetchval("SELECT published_at FROM outbox WHERE event_type = 'HotlineTicketOverdue'"
                                         " AND key = $1", str(ticket_id)), what="the relay to publish it")
    async with db.transaction():   # a second replica running the check at the same moment finds nothing
        assert ticket_id not in await hotline.mark_overdue(UnitOfWork(db), datetime.now(timezone.utc))

    listed = await http.get("/hotline/tickets", params={"overdue": "true"}, headers=hotline_desk(world))
    assert listed.status_code == 200
    assert t["id"] in [x["id"] for x in listed.json()] and all(x["overdue"] for x in listed.json())
    on_time = await http.get("/hotline/tickets", params={"overdue": "false"}, headers=hotline_desk(world))
    assert t["id"] not in [x["id"] for x in on_time.json()]


async def test_a_resolved_ticket_is_never_overdue(http, world, caller, db):
    t = await open_ticket(http, world, caller)
    ticket_id = uuid.UUID(t["id"])
    assert (await http.post(f"/hotline/tickets/{t['id']}/resolve", json={"resolution": "已答复政策"},
                            headers=hotline_desk(world))).status_code == 200
    await db.execute("UPDATE hotline_tickets SET due_at = now() - interval '1 minute' WHERE id = $1", ticket_id)
    await asyncio.sleep(2.5)
    assert await db.fetchval("SELECT overdue_at FROM hotline_tickets WHERE id = $1", ticket_id) is None


async def test_a_ticket_opens_an_assistance_case_from_the_hotline(http, world, caller, db):
    t = await open_ticket(http, world, caller, "difficult")
    r = await http.post(f"/hotline/tickets/{t['id']}/cases", json={"kind": "legal"}, headers=hotline_desk(world))
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["source"] == "hotline" and case["hotline_ticket_id"] == t["id"] and case["member_id"] == str(caller)
    detail = await http.get(f"/cases/{case['id']}", headers=hotline_desk(world))
    assert detail.json()["summary"].startswith("工资被拖欠") and detail.json()["hotline_ticket_id"] == t["id"]
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'CaseOpened' AND key = $1", case["id"]) == 1
    r = await http.post(f"/hotline/tickets/{t['id']}/cases", json={"kind": "legal"}, headers=hotline_desk(world))
    assert r.status_code == 409 and r.json()["type"] == "/problems/ticket-has-case"


async def test_tickets_stay_in_the_responsible_subtree(http, world, caller):
    t = await open_ticket(http, world, caller)
    outsider = auth("staff", world["west"].district, "外区话务员")
    assert (await http.get(f"/hotline/tickets/{t['id']}", headers=outsider)).status_code == 404
    assert t["id"] not in [x["id"] for x in (await http.get("/hotline/tickets", headers=outsider)).json()]
    r = await http.post("/hotline/tickets", headers=outsider,
                        json={"member_id": str(caller), "category": "general", "summary": "咨询"})
    unknown = await http.post("/hotline/tickets", headers=outsider,
                              json={"member_id": str(uuid.uuid4()), "category": "general", "summary": "咨询"})
    assert r.status_code == unknown.status_code == 422 and r.json()["detail"] == unknown.json()["detail"]
    r = await http.post("/hotline/tickets", headers=outsider, json={"category": "general", "summary": "咨询"})
    assert r.status_code == 422   # neither a unit nor a caller
    assert (await http.post("/hotline/tickets", json={"org_id": str(world["east"].street), "category": "general",
                                                       "summary": "咨询"})).status_code == 401
