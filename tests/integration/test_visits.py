"""Visits (走访慰问, 五必访) recorded against the member: within the caller's subtree, notes
encrypted at rest and shown only to staff with write permission."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from contracts.events import AidDisbursed
from unionops.clock import local_today

from tests.integration.test_campaigns import funded
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
            "visitors": ["张主席", "社工小李"], "notes": "术后恢复中，家中老人无人照料"} | overrides


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
    assert mine and mine[0]["notes"] == "术后恢复中，家中老人无人照料" and mine[0]["gift_fen"] is None


async def test_a_visits_gift_comes_out_of_a_fund_and_shows_in_the_audit(member, world, http, db):
    fund = await funded(http, world, 100_000)
    # The district's staff book it against the district's fund (a street's staff see only funds of their street).
    r = await http.post("/visits", json=visit(member, gift_fen=50_000, fund_id=fund),
                        headers=auth("staff", world["east"].district, "张主席"))
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["gift_fen"] == 50_000 and v["fund_id"] == fund and v["ledger_entry_id"]
    balance = (await http.get(f"/funds/{fund}", headers=auth())).json()["balance"]
    assert balance["available"]["fen"] == 50_000 and balance["disbursed"]["fen"] == 50_000
    audit = (await http.get(f"/funds/{fund}/audit", params={"from": str(local_today()), "to": str(local_today())},
                            headers=auth())).json()
    [paid] = [m for m in audit["movements"] if m["kind"] == "disbursement"]
    assert paid["id"] == v["ledger_entry_id"] and paid["case_id"] == v["id"] and paid["amount_fen"] == 50_000
    assert paid["approver"] == paid["actor"] == "张主席" and paid["reason"] == f"走访慰问金（生病住院，{local_today()}）"
    # The money invariant: what the ledger paid out is what the fund no longer holds.
    assert audit["totals"]["disbursement"]["fen"] == 100_000 - balance["available"]["fen"]
    listed = (await http.get(f"/members/{member}/visits", headers=auth())).json()
    assert [x["ledger_entry_id"] for x in listed if x["id"] == v["id"]] == [v["ledger_entry_id"]]
    # A payment like any other: announced, so the household is told and readers of payments see it.
    [told] = await db.fetch("SELECT payload FROM outbox WHERE event_type = 'AidDisbursed' AND key = $1", v["id"])
    event = AidDisbursed.model_validate(told["payload"])
    assert (event.visit_id, event.ledger_entry_id, event.amount_fen, event.fund_id, event.member_id) == \
        (uuid.UUID(v["id"]), uuid.UUID(v["ledger_entry_id"]), 50_000, uuid.UUID(fund), member)
    assert event.campaign_id is None and event.paid_on == local_today()


async def test_a_gift_the_fund_cannot_cover_is_refused_and_nothing_is_written(member, world, http, db):
    fund = await funded(http, world, 30_000)
    before = await db.fetchval("SELECT count(*) FROM visits WHERE member_id = $1", member)
    r = await http.post("/visits", json=visit(member, gift_fen=50_000, fund_id=fund), headers=auth())
    assert r.status_code == 409 and r.json()["type"] == "/problems/insufficient-funds"
    assert "300.00元" in r.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM visits WHERE member_id = $1", member) == before
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'AidDisbursed'"
                             " AND payload->>'fund_id' = $1", fund) == 0
    assert await db.fetchval("SELECT count(*) FROM ledger_entries WHERE fund_id = $1 AND kind NOT LIKE 'allocation%'",
                             uuid.UUID(fund)) == 0
    balance = (await http.get(f"/funds/{fund}", headers=auth())).json()["balance"]
    assert balance["available"]["fen"] == 30_000


async def test_a_gift_names_its_fund_and_only_one_within_reach(member, world, http, db):
    r = await http.post("/visits", json=visit(member, gift_fen=20_000), headers=auth())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.fund_id"
    assert "专项资金" in r.json()["detail"]
    # A fund of another district is out of the member's reach (and of its staff's sight).
    tag = uuid.uuid4().hex[:6]
    other = await http.post("/funds", json={"org_id": str(world["west"].district), "name": f"外区资金{tag}",
                                             "year": local_today().year}, headers=auth())
    assert other.status_code == 201, other.text
    r = await http.post("/visits", json=visit(member, gift_fen=20_000, fund_id=other.json()["id"]), headers=auth())
    assert r.status_code == 422 and r.json()["type"] == "/problems/fund-out-of-reach"
    assert await db.fetchval("SELECT count(*) FROM visits WHERE member_id = $1 AND gift_fen = 20000", member) == 0


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
