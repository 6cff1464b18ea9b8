"""Visits (走访慰问, 五必访) recorded against the member: within the caller's subtree, notes
encrypted at rest and shown only to staff with write permission."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from unionops.clock import local_today

from tests.support.people import auth
from tests.support.rows import projected

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "welfare")]


@pytest.fixture(scope="module")
def world(membership):
    east, west = membership.branch("锦江"), membership.branch("青羊")
    yield {"east": east, "west": west, "member": membership.admit(east.grassroots, "刘桂兰", female=True)}


@pytest.fixture
async def member(world, db):
    await projected(db, members=[world["member"]])
    return world["member"]


def visit(member_id, **overrides) -> dict:
    return {"member_id": str(member_id), "kind": "sick_or_hospitalised", "visited_on": str(local_today()),
            "visitors": ["张主席", "社工小李"], "notes": "术后恢复中，家中老人无人照料", "gift_fen": 50_000} | overrides


async def test_a_visit_is_recorded_against_the_member_with_notes_encrypted(member, world, http, db):
    r = await http.post("/visits", json=visit(member), headers=auth("staff", world["east"].street, "张主席"))
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["kind_label"] == "生病住院" and v["union_id"] == str(world["east"].grassroots)
    assert v["recorded_by"] == "张主席" and "notes" not in v
    stored = await db.fetchval("SELECT notes_enc FROM visits WHERE id = $1", uuid.UUID(v["id"]))
    assert "术后".encode() not in bytes(stored)

    listed = await http.get(f"/members/{member}/visits", headers=auth("staff", world["east"].grassroots))
    assert listed.status_code == 200
    mine = [x for x in listed.json() if x["id"] == v["id"]]
    assert mine and mine[0]["notes"] == "术后恢复中，家中老人无人照料" and mine[0]["gift_fen"] == 50_000


async def test_visits_are_listed_newest_first(member, http):
    for days, kind in ((40, "bereaved"), (5, "family_change")):
        r = await http.post("/visits", json=visit(member, kind=kind, visited_on=str(local_today() - timedelta(days=days)),
                                                  gift_fen=None), headers=auth())
        assert r.status_code == 201, r.text
    dates = [x["visited_on"] for x in (await http.get(f"/members/{member}/visits", headers=auth())).json()]
    assert dates == sorted(dates, reverse=True)


async def test_auditor_sees_visits_but_not_their_notes(member, world, http):
    await http.post("/visits", json=visit(member, kind="in_hardship"), headers=auth())
    r = await http.get(f"/members/{member}/visits", headers=auth("auditor", world["east"].district))
    assert r.status_code == 200 and r.json()
    assert all(x["notes"] is None for x in r.json()) and "术后" not in r.text
    assert (await http.post("/visits", json=visit(member), headers=auth("auditor", world["east"].district))).status_code == 403


async def test_staff_record_and_see_visits_only_within_their_subtree(member, world, http, db):
    outsider = auth("staff", world["west"].district)
    before = await db.fetchval("SELECT count(*) FROM visits")
    theirs = await http.post("/visits", json=visit(member), headers=outsider)
    unknown = await http.post("/visits", json=visit(uuid.uuid4()), headers=outsider)
    assert theirs.status_code == unknown.status_code == 422  # exactly as an unknown member
    assert theirs.json()["detail"] == unknown.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM visits") == before
    assert (await http.get(f"/members/{member}/visits", headers=outsider)).status_code == 404
    assert (await http.get(f"/members/{member}/visits")).status_code == 401
    as_member = auth("member", world["east"].grassroots, str(member))
    assert (await http.get(f"/members/{member}/visits", headers=as_member)).status_code == 403


async def test_a_visit_to_an_unknown_member_or_in_the_future_is_refused(member, http):
    r = await http.post("/visits", json=visit(uuid.uuid4()), headers=auth())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.member_id"
    r = await http.post("/visits", json=visit(member, visited_on=str(local_today() + timedelta(days=1))),
                        headers=auth())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.visited_on"
    assert (await http.post("/visits", json=visit(member, kind="wedding"), headers=auth())).status_code == 422
    assert (await http.post("/visits", json=visit(member, visitors=[]), headers=auth())).status_code == 422


async def test_a_visit_is_backdated_at_most_the_configured_days_and_shows_who_entered_it_when(member, http, db):
    before = await db.fetchval("SELECT count(*) FROM visits")
    r = await http.post("/visits", json=visit(member, visited_on=str(local_today() - timedelta(days=181))),
                        headers=auth())
    assert r.status_code == 422 and r.json()["type"] == "/problems/backdated-too-far"
    assert r.json()["errors"][0]["field"] == "body.visited_on" and "走访日期" in r.json()["errors"][0]["message"]
    assert await db.fetchval("SELECT count(*) FROM visits") == before
    r = await http.post("/visits", json=visit(member, visited_on=str(local_today() - timedelta(days=180))),
                        headers=auth())
    assert r.status_code == 201, r.text
    entered = datetime.fromisoformat(r.json()["recorded_at"])
    assert r.json()["recorded_by"] == "test-admin" and datetime.now(timezone.utc) - entered < timedelta(minutes=5)


async def test_a_replayed_idempotency_key_records_one_visit(member, http, db):
    headers = auth() | {"Idempotency-Key": f"visit-{uuid.uuid4()}"}
    before = await db.fetchval("SELECT count(*) FROM visits")
    first = await http.post("/visits", json=visit(member), headers=headers)
    again = await http.post("/visits", json=visit(member), headers=headers)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert await db.fetchval("SELECT count(*) FROM visits") == before + 1
