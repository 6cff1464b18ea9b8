"""Transfers follow employment (会员关系随劳动关系转移), over HTTP and from an HR system's
EmploymentChanged on Kafka, against the real PostgreSQL and broker."""
from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import httpx
import pytest

from contracts.events import EmploymentChanged
from unionops.pii import KeyRing, b64
from unionops.settings import CommonSettings
from unionops import db as database
from unionops.clock import local_today
from tests.support.broker import publish_as_hr_system
from tests.support.membership import admit, change_status, create_unit, found_district, register_employer, transfer
from tests.support.people import ROOT, auth, new_credit_code, new_region_code, new_resident_id, token
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership")]


def transferred_events(events) -> list[dict]:
    return [json.loads(p) for _, t, p in events if t == "MemberTransferred"]


# ---- over HTTP -----------------------------------------------------------------------------------

async def test_transfer_cannot_be_refused(client, records):
    """The sending district moves its member into another district's union: done at once, no
    accept step, and the receiving district now holds the member."""
    a, b = found_district(client), found_district(client)
    member = admit(client, a.union_ids[0], employer="甲公司").json()
    r = transfer(client, member["id"], headers=auth("staff", a.id), to_union_id=b.union_ids[0], new_employer="乙公司")
    assert r.status_code == 201, r.text
    moved = r.json()
    assert moved["initiated_by"] == "from_union" and moved["to_union_id"] == b.union_ids[0]
    assert moved["member"]["union_id"] == b.union_ids[0] and moved["member"]["employer"] == "乙公司"
    assert client.get(f"/members/{member['id']}", headers=auth("staff", b.id)).status_code == 200
    assert client.get(f"/members/{member['id']}", headers=auth("staff", a.id)).status_code == 404

    [event] = transferred_events(await records.events(member["id"]))
    assert event["from_union_id"] == a.union_ids[0] and event["to_union_id"] == b.union_ids[0]
    assert event["from_org_path"] == [str(ROOT), a.id, a.street_id, a.union_ids[0]]
    assert event["to_org_path"] == [str(ROOT), b.id, b.street_id, b.union_ids[0]]
    assert event["reason"] == "employment_change" and event["held_by_residence_union"] is False
    entry = client.get(f"/members/{member['id']}/file", headers=auth()).json()["entries"][-1]
    assert entry["kind"] == "transferred" and entry["union_id"] == b.union_ids[0]
    assert entry["detail"]["from_union_id"] == a.union_ids[0] and entry["detail"]["new_employer"] == "乙公司"


async def test_receiving_staff_cannot_move_a_member_by_knowing_her_id_number(client, records):
    """Seen on main: district A posted a district-B member's ID number, the 409 carried her id,
    and with it A moved her into A's union. Now the 409 names nothing of B's, and the move
    answers exactly like an unknown member."""
    a, b = found_district(client), found_district(client)
    number = new_resident_id()
    member = client.post("/members", headers=auth(), json={"union_id": b.union_ids[0], "name": "周敏",
                                                           "id_number": number}).json()
    duplicate = client.post("/members", headers=auth("staff", a.id),
                            json={"union_id": a.union_ids[0], "name": "周敏", "id_number": number})
    assert duplicate.status_code == 409
    assert member["id"] not in duplicate.text and b.union_ids[0] not in duplicate.text
    before = await records.counts()
    r = transfer(client, member["id"], headers=auth("staff", a.id), to_union_id=a.union_ids[0])
    unknown = transfer(client, str(uuid.uuid4()), headers=auth("staff", a.id), to_union_id=a.union_ids[0])
    assert r.status_code == unknown.status_code == 404
    assert {k: v for k, v in r.json().items() if k != "instance"} == \
        {k: v for k, v in unknown.json().items() if k != "instance"}
    assert await records.counts() == before
    assert client.get(f"/members/{member['id']}", headers=auth()).json()["union_id"] == b.union_ids[0]


async def test_a_federation_above_both_unions_initiates_as_federation(client):
    district = found_district(client, unions=2)
    member = admit(client, district.union_ids[0]).json()
    r = transfer(client, member["id"], headers=auth("staff", district.id), to_union_id=district.union_ids[1])
    assert r.status_code == 201 and r.json()["initiated_by"] == "federation"


async def test_district_cannot_transfer_another_districts_member(client, records):
    a, b, c = found_district(client, unions=2), found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    before = await records.counts()
    outsider = auth("staff", c.id)
    # neither within district A (the member's) nor into district C's own union: not theirs to move
    assert transfer(client, member["id"], headers=outsider, to_union_id=a.union_ids[1]).status_code == 404
    assert transfer(client, member["id"], headers=outsider, to_union_id=b.union_ids[0]).status_code == 404
    assert transfer(client, str(uuid.uuid4()), headers=outsider, to_union_id=c.union_ids[0]).status_code == 404
    assert transfer(client, member["id"], headers=auth("auditor", a.id), to_union_id=a.union_ids[1]).status_code == 403
    assert await records.counts() == before
    assert client.get(f"/members/{member['id']}", headers=auth()).json()["union_id"] == a.union_ids[0]


async def test_transfer_to_the_current_union_is_refused(client, records):
    district = found_district(client)
    member = admit(client, district.union_ids[0]).json()
    before = await records.counts()
    r = transfer(client, member["id"], to_union_id=district.union_ids[0])
    assert r.status_code == 422 and r.json()["type"] == "/problems/same-union"
    assert r.json()["errors"][0]["field"] == "body.to_union_id"
    assert await records.counts() == before


async def test_membership_is_transferred_only_into_a_grassroots_union(client):
    a, b = found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    r = transfer(client, member["id"], to_union_id=b.street_id)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.to_union_id"
    r = transfer(client, member["id"], to_union_id=b.union_ids[0], new_employer_credit_code="91350100M000100Y44")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.new_employer_credit_code"


async def test_transfer_follows_the_new_employers_union(client, records):
    a, b = found_district(client), found_district(client)
    code = register_employer(client, b.street_id, b.union_ids[0], name="乙精密制造有限公司")
    member = admit(client, a.union_ids[0]).json()
    r = transfer(client, member["id"], headers=auth("staff", a.id), new_employer="乙精密制造有限公司",
                 new_employer_credit_code=code)
    assert r.status_code == 201, r.text
    assert r.json()["to_union_id"] == b.union_ids[0] and r.json()["held_by_residence_union"] is False
    assert await records.fetchval("SELECT new_employer_credit_code FROM member_transfers WHERE member_id = $1::uuid",
                             member["id"]) == code


async def test_residence_area_union_holds_the_membership_when_the_employer_has_none(client, records):
    a, b = found_district(client), found_district(client)
    region = new_region_code()
    street = create_unit(client, b.id, "street", "street_union", region)
    joint = create_unit(client, street, "grassroots", "joint_grassroots_union", region)
    create_unit(client, street, "grassroots", "enterprise_union", region)  # tied to its employer: never a holder
    code = register_employer(client, street, None)  # registered, no union yet
    member = admit(client, a.union_ids[0]).json()
    r = transfer(client, member["id"], headers=auth("staff", a.id), new_employer_credit_code=code,
                 residence_region_code=region)
    assert r.status_code == 201, r.text
    assert r.json()["to_union_id"] == joint and r.json()["held_by_residence_union"] is True
    assert transferred_events(await records.events(member["id"]))[0]["held_by_residence_union"] is True

    # Where the area has no joint union, the street union itself holds the membership.
    lone_region = new_region_code()
    lone_street = create_unit(client, b.id, "street", "town_union", lone_region)
    other = admit(client, a.union_ids[0]).json()
    r = transfer(client, other["id"], residence_region_code=lone_region)
    assert r.status_code == 201 and r.json()["to_union_id"] == lone_street


async def test_no_residence_union_is_refused_clearly(client, records):
    district = found_district(client)
    member = admit(client, district.union_ids[0]).json()
    before = await records.counts()
    r = transfer(client, member["id"], residence_region_code=new_region_code())
    assert r.status_code == 422 and r.json()["type"] == "/problems/no-residence-union"
    assert r.json()["errors"][0]["field"] == "body.residence_region_code"
    r = transfer(client, member["id"])
    assert r.status_code == 422 and r.json()["type"] == "/problems/no-receiving-union"
    assert await records.counts() == before


async def test_a_retained_member_transferred_to_a_new_employer_becomes_active(client, records):
    a, b = found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    assert change_status(client, member["id"], "retained", "unemployed").status_code == 201
    r = transfer(client, member["id"], to_union_id=b.union_ids[0])
    assert r.status_code == 201 and r.json()["member"]["status"] == "active"
    kinds = [e["kind"] for e in client.get(f"/members/{member['id']}/file", headers=auth()).json()["entries"]]
    assert kinds == ["joined", "status_changed", "transferred", "status_changed"]
    last = [json.loads(p) for _, t, p in await records.events(member["id"]) if t == "MemberStatusChanged"][-1]
    assert (last["from_status"], last["to_status"], last["reason"], last["union_id"]) == (
        "retained", "active", "reactivated", b.union_ids[0])


async def test_member_file_is_readable_by_every_union_the_member_belonged_to(client):
    a, b, c = found_district(client), found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    assert transfer(client, member["id"], to_union_id=b.union_ids[0]).status_code == 201
    assert change_status(client, member["id"], "retained", "retired", headers=auth("staff", b.id)).status_code == 201
    # The former district reads the whole file, though no longer the member record itself.
    file = client.get(f"/members/{member['id']}/file", headers=auth("staff", a.id))
    assert file.status_code == 200
    assert [e["kind"] for e in file.json()["entries"]] == ["joined", "transferred", "status_changed"]
    assert client.get(f"/members/{member['id']}", headers=auth("staff", a.id)).status_code == 404
    assert client.get(f"/members/{member['id']}/file", headers=auth("staff", b.union_ids[0])).status_code == 200
    assert client.get(f"/members/{member['id']}/file", headers=auth("staff", c.id)).status_code == 404


async def test_transfer_replays_with_the_same_idempotency_key(client, records):
    a, b = found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    headers = auth() | {"Idempotency-Key": f"transfer-{member['id']}"}
    first = transfer(client, member["id"], headers=headers, to_union_id=b.union_ids[0])
    again = transfer(client, member["id"], headers=headers, to_union_id=b.union_ids[0])
    assert first.status_code == again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert await records.fetchval("SELECT count(*) FROM member_transfers WHERE member_id = $1::uuid", member["id"]) == 1


# ---- from an HR system ------------------------------------------------------------------------------

def employment_changed(number: str, *, credit_code: str | None, region: str, name: str = "黄磊",
                       employer: str = "丙科技有限公司", effective_on: date | None = None) -> EmploymentChanged:
    change_id = uuid.uuid4()
    # As the HR system does: the ID number sealed under the key it shares with membership.
    sealed = b64(KeyRing.from_config(CommonSettings().pii_hr_keys).seal_field("id_number", str(change_id), number))
    return EmploymentChanged(change_id=change_id, id_number_sealed=sealed, name=name, new_employer_name=employer,
                             new_employer_credit_code=credit_code, residence_region_code=region,
                             effective_on=effective_on or local_today(), hr_system="payroll-test")


async def test_hr_employment_change_moves_the_membership(client, records, stack_config):
    a, b = found_district(client), found_district(client)
    code = register_employer(client, b.street_id, b.union_ids[0], name="丙科技有限公司")
    number = new_resident_id()
    member = client.post("/members", headers=auth(), json={"union_id": a.union_ids[0], "name": "黄磊",
                                                           "id_number": number}).json()
    event = employment_changed(number, credit_code=code, region="510104")
    event_id = await publish_as_hr_system(stack_config.bootstrap, event)

    async def moved():
        union_id = await records.fetchval("SELECT union_id::text FROM members WHERE id = $1::uuid", member["id"])
        return union_id == b.union_ids[0]

    await eventually(moved, timeout=60)
    [t] = transferred_events(await records.events(member["id"]))
    assert t["initiated_by"] == "hr_system" and t["to_union_id"] == b.union_ids[0]
    assert number not in json.dumps(t)
    row = (await records.fetch("SELECT source_event_id, actor FROM member_transfers WHERE member_id = $1::uuid",
                          member["id"]))[0]
    assert row["source_event_id"] == event_id and row["actor"] == "hr:payroll-test"

    # The same event delivered again (a producer retry) changes nothing.
    await publish_as_hr_system(stack_config.bootstrap, event, event_id=event_id)
    sentinel = employment_changed(new_resident_id(), credit_code=None, region="510104")
    sentinel_id = await publish_as_hr_system(stack_config.bootstrap, sentinel)
    await eventually(lambda: records.fetchval("SELECT 1 FROM inbox WHERE event_id = $1", sentinel_id))
    assert await records.fetchval("SELECT count(*) FROM member_transfers WHERE member_id = $1::uuid", member["id"]) == 1


async def test_an_employment_change_announced_ahead_moves_the_membership_on_its_day_not_before(
        client, records, stack_config):
    a, b = found_district(client), found_district(client)
    code = register_employer(client, b.street_id, b.union_ids[0], name="丁制造有限公司")
    number = new_resident_id()
    member = client.post("/members", headers=auth(), json={"union_id": a.union_ids[0], "name": "孙倩",
                                                           "id_number": number}).json()
    day = local_today() + timedelta(days=7)
    event = employment_changed(number, credit_code=code, region="510104", name="孙倩", employer="丁制造有限公司",
                               effective_on=day)
    event_id = await publish_as_hr_system(stack_config.bootstrap, event)
    await eventually(lambda: records.fetchval("SELECT 1 FROM inbox WHERE event_id = $1", event_id), timeout=60)
    kept = await records.fetch("SELECT effective_on, applied_at, payload::text AS payload FROM scheduled_employment_changes"
                          " WHERE event_id = $1", event_id)
    assert len(kept) == 1 and kept[0]["effective_on"] == day and kept[0]["applied_at"] is None
    assert number not in kept[0]["payload"]  # kept sealed, as it arrived
    assert await records.fetchval("SELECT union_id::text FROM members WHERE id = $1::uuid", member["id"]) == a.union_ids[0]
    assert transferred_events(await records.events(member["id"])) == []

    # Its day comes (the test moves the day, not the clock): the next check applies it.
    from membership import background
    from membership.settings import Settings
    from unionops.pii import Vault

    pool = await database.create_pool(stack_config.dsn("membership"), max_size=2)  # jsonb decoded, as the service's
    try:
        assert await background.apply_due_changes(pool, Vault.from_settings(Settings()), local_today()) == 0
        assert await background.apply_due_changes(pool, Vault.from_settings(Settings()), day) >= 1
    finally:
        await pool.close()
    assert await records.fetchval("SELECT union_id::text FROM members WHERE id = $1::uuid", member["id"]) == b.union_ids[0]
    [t] = transferred_events(await records.events(member["id"]))
    assert t["initiated_by"] == "hr_system" and t["effective_on"] == day.isoformat()
    assert await records.fetchval("SELECT outcome FROM scheduled_employment_changes WHERE event_id = $1",
                             event_id) == "transferred"


async def test_hr_change_of_an_unknown_person_is_ignored_without_personal_data_in_logs(client, records, stack_config):
    number = new_resident_id()
    before = await records.counts()
    event = employment_changed(number, credit_code=None, region="510104", name="查无此人")
    event_id = await publish_as_hr_system(stack_config.bootstrap, event)
    await eventually(lambda: records.fetchval("SELECT status FROM inbox WHERE consumer = 'membership.hr'"
                                         " AND event_id = $1", event_id))
    assert await records.fetchval("SELECT status FROM inbox WHERE event_id = $1", event_id) == "applied"
    assert await records.counts() == before  # nothing but the inbox row
    log = (stack_config.state_dir / "logs" / "membership.log").read_text(encoding="utf-8", errors="replace")
    assert str(event.change_id) in log  # the log line is there …
    assert number not in log and "查无此人" not in log  # … without the person in it


async def test_hr_change_to_an_employer_without_a_union_goes_to_the_residence_union(client, records, stack_config):
    a, b = found_district(client), found_district(client)
    region = new_region_code()
    street = create_unit(client, b.id, "street", "street_union", region)
    holder = create_unit(client, street, "grassroots", "migrant_worker_federation", region)
    number = new_resident_id()
    member = client.post("/members", headers=auth(), json={"union_id": a.union_ids[0], "name": "马超",
                                                           "id_number": number}).json()
    await publish_as_hr_system(stack_config.bootstrap,
                               employment_changed(number, credit_code=new_credit_code(), region=region, name="马超"))

    async def moved():
        return await records.fetchval("SELECT union_id::text FROM members WHERE id = $1::uuid", member["id"]) == holder

    await eventually(moved, timeout=60)
    [t] = transferred_events(await records.events(member["id"]))
    assert t["held_by_residence_union"] is True and t["initiated_by"] == "hr_system"


async def test_hr_change_with_no_union_to_hold_the_membership_is_flagged_in_the_file(client, records, stack_config):
    district = found_district(client)
    number = new_resident_id()
    member = client.post("/members", headers=auth(), json={"union_id": district.union_ids[0], "name": "林涛",
                                                           "id_number": number}).json()
    event_id = await publish_as_hr_system(stack_config.bootstrap,
                                          employment_changed(number, credit_code=None, region=new_region_code()))
    await eventually(lambda: records.fetchval("SELECT 1 FROM inbox WHERE event_id = $1", event_id))
    entries = client.get(f"/members/{member['id']}/file", headers=auth("staff", district.id)).json()["entries"]
    assert entries[-1]["kind"] == "transfer_unresolved" and entries[-1]["union_id"] == district.union_ids[0]
    assert client.get(f"/members/{member['id']}", headers=auth()).json()["union_id"] == district.union_ids[0]


# ---- the receiving side asks (transfer requests) ------------------------------------------------------

def member_auth(member_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token('member', ROOT, subject=member_id)}"}


def ask(client: httpx.Client, district, number: str, **extra) -> httpx.Response:
    return client.post("/transfer-requests", headers=auth("staff", district.id), json={
        "id_number": number, "to_union_id": district.union_ids[0], "new_employer": "甲新单位有限公司", **extra})


def without_ids(body: dict) -> dict:
    """An answer with what differs between any two requests (ids, times, the masked number) left out."""
    return {k: v for k, v in body.items() if k not in ("id", "requested_at", "id_number_masked")}


def member_in(client, union_id: str) -> tuple[dict, str]:
    number = new_resident_id()
    r = client.post("/members", headers=auth(), json={"union_id": union_id, "name": "吴芳", "id_number": number})
    assert r.status_code == 201, r.text
    return r.json(), number


async def test_asking_for_a_transfer_answers_the_same_whether_or_not_the_person_is_a_member(client, records):
    a, b = found_district(client), found_district(client)
    member, number = member_in(client, b.union_ids[0])
    events_before = len(await records.events(member["id"]))
    known, unknown = ask(client, a, number), ask(client, a, new_resident_id())
    assert known.status_code == unknown.status_code == 202, known.text
    assert without_ids(known.json()) == without_ids(unknown.json())
    assert known.json()["status"] == "pending" and known.json()["to_union_id"] == a.union_ids[0]
    for text in (known.text, unknown.text):
        assert member["id"] not in text and b.union_ids[0] not in text and "吴芳" not in text and number not in text
    assert set(known.json()) == set(unknown.json())
    # Asking again answers with the same request, in both cases.
    assert ask(client, a, number).json()["id"] == known.json()["id"]
    # Nothing moved; only the member and the sending side hear of it.
    assert client.get(f"/members/{member['id']}", headers=auth()).json()["union_id"] == b.union_ids[0]
    assert [t for _, t, _ in await records.events(member["id"])][events_before:] == ["TransferRequested"]
    assert await records.fetchval("SELECT count(*) FROM transfer_requests WHERE id_number_masked = $1"
                             " AND to_union_id = $2::uuid", known.json()["id_number_masked"], a.union_ids[0]) == 1
    listed = client.get("/transfer-requests", headers=auth("staff", a.id)).json()
    mine = [r for r in listed if r["id"] == known.json()["id"]][0]
    assert "member_id" not in mine and "requested_by_org_name" not in mine
    # A district may ask only into its own union.
    r = client.post("/transfer-requests", headers=auth("staff", a.id), json={
        "id_number": number, "to_union_id": b.union_ids[0], "new_employer": "甲新单位有限公司"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.to_union_id"


async def test_a_transfer_request_takes_effect_when_the_member_confirms(client, records):
    a, b = found_district(client), found_district(client)
    member, number = member_in(client, b.union_ids[0])
    request_id = ask(client, a, number).json()["id"]
    # The member sees who asks.
    [seen] = client.get("/transfer-requests", headers=member_auth(member["id"])).json()
    assert seen["id"] == request_id and seen["to_union_id"] == a.union_ids[0] and seen["requested_by_org_name"]
    r = client.post(f"/transfer-requests/{request_id}/confirmation", headers=member_auth(member["id"]))
    assert r.status_code == 201, r.text
    assert r.json()["member"]["union_id"] == a.union_ids[0] and r.json()["initiated_by"] == "to_union"
    [event] = transferred_events(await records.events(member["id"]))
    assert event["request_id"] == request_id and event["to_union_id"] == a.union_ids[0]
    entries = client.get(f"/members/{member['id']}/file", headers=auth()).json()["entries"]
    asked, moved = [e for e in entries if e["kind"] == "transfer_requested"][0], entries[-1]
    assert asked["detail"]["to_union_id"] == a.union_ids[0] and asked["actor"] == "test-admin"
    assert moved["kind"] == "transferred" and moved["detail"]["request_id"] == request_id
    assert moved["detail"]["requested_by"] == "test-admin" and moved["detail"]["confirmed_as"] == "member"
    assert moved["detail"]["confirmed_by"] == member["id"]
    listed = client.get("/transfer-requests", headers=auth("staff", a.id)).json()
    assert [x["status"] for x in listed if x["id"] == request_id] == ["confirmed"]
    again = client.post(f"/transfer-requests/{request_id}/confirmation", headers=member_auth(member["id"]))
    assert again.status_code == 409


async def test_the_sending_side_confirms_a_transfer_request_but_cannot_decline_it(client, records):
    a, b = found_district(client), found_district(client)
    member, number = member_in(client, b.union_ids[0])
    request_id = ask(client, a, number).json()["id"]
    [seen] = [x for x in client.get("/transfer-requests?side=sending", headers=auth("staff", b.id)).json()
              if x["id"] == request_id]
    assert seen["member_id"] == member["id"] and seen["status"] == "pending"
    refused = client.post(f"/transfer-requests/{request_id}/declination", headers=auth("staff", b.id))
    assert refused.status_code == 403
    r = client.post(f"/transfer-requests/{request_id}/confirmation", headers=auth("staff", b.id))
    assert r.status_code == 201, r.text
    assert client.get(f"/members/{member['id']}", headers=auth()).json()["union_id"] == a.union_ids[0]
    entry = client.get(f"/members/{member['id']}/file", headers=auth()).json()["entries"][-1]
    assert entry["detail"]["confirmed_as"] == "from_union"


async def test_the_asker_cannot_confirm_and_an_outsider_cannot_see_a_transfer_request(client, records):
    a, b, c = found_district(client), found_district(client), found_district(client)
    member, number = member_in(client, b.union_ids[0])
    request_id = ask(client, a, number).json()["id"]
    unknown = client.post(f"/transfer-requests/{uuid.uuid4()}/confirmation", headers=auth("staff", a.id))
    assert unknown.status_code == 404
    for who in (auth("staff", a.id), auth("staff", c.id), member_auth(str(uuid.uuid4()))):
        for act in ("confirmation", "declination"):
            r = client.post(f"/transfer-requests/{request_id}/{act}", headers=who)
            assert r.status_code == 404 and r.json()["detail"] == unknown.json()["detail"]
    assert all(x["id"] != request_id for x in
               client.get("/transfer-requests?side=sending", headers=auth("staff", c.id)).json())
    assert all(x["id"] != request_id for x in
               client.get("/transfer-requests?side=sending", headers=auth("staff", a.id)).json())
    assert client.get(f"/members/{member['id']}", headers=auth()).json()["union_id"] == b.union_ids[0]
    # Asking gives the asker no way into her file either.
    assert client.get(f"/members/{member['id']}/file", headers=auth("staff", a.id)).status_code == 404


async def test_a_member_declines_and_the_asker_sees_it_as_a_request_about_nobody(client, records):
    a, b = found_district(client), found_district(client)
    member, number = member_in(client, b.union_ids[0])
    request_id = ask(client, a, number).json()["id"]
    r = client.post(f"/transfer-requests/{request_id}/declination", headers=member_auth(member["id"]))
    assert r.status_code == 200 and r.json()["status"] == "declined"
    listed = client.get("/transfer-requests", headers=auth("staff", a.id)).json()
    assert [x["status"] for x in listed if x["id"] == request_id] == ["pending"]
    assert ask(client, a, number).json()["id"] == request_id  # asking again: the same, as for nobody
    assert client.get(f"/members/{member['id']}", headers=auth()).json()["union_id"] == b.union_ids[0]
    closed = [json.loads(p) for _, t, p in await records.events(member["id"]) if t == "TransferRequestClosed"]
    assert [e["outcome"] for e in closed] == ["declined"]
    kinds = [e["kind"] for e in client.get(f"/members/{member['id']}/file", headers=auth()).json()["entries"]]
    assert kinds[-1] == "transfer_request_declined"


async def test_an_unanswered_transfer_request_expires_and_is_recorded_and_told(client, records):
    a, b = found_district(client), found_district(client)
    member, number = member_in(client, b.union_ids[0])
    asked = ask(client, a, number).json()
    nobody = ask(client, a, new_resident_id()).json()
    assert date.fromisoformat(asked["expires_on"]) == local_today() + timedelta(days=30)
    await records.fetch("UPDATE transfer_requests SET expires_on = $2 WHERE id = ANY($1::uuid[]) RETURNING id",
                   [asked["id"], nobody["id"]], local_today() - timedelta(days=1))
    listed = {x["id"]: x["status"] for x in client.get("/transfer-requests", headers=auth("staff", a.id)).json()}
    assert listed[asked["id"]] == listed[nobody["id"]] == "expired"
    r = client.post(f"/transfer-requests/{asked['id']}/confirmation", headers=member_auth(member["id"]))
    assert r.status_code == 409 and client.get(f"/members/{member['id']}", headers=auth()).json()["union_id"] \
        == b.union_ids[0]
    closed = [json.loads(p) for _, t, p in await records.events(member["id"]) if t == "TransferRequestClosed"]
    assert [e["outcome"] for e in closed] == ["expired"]
    entry = client.get(f"/members/{member['id']}/file", headers=auth()).json()["entries"][-1]
    assert entry["kind"] == "transfer_request_expired" and entry["detail"]["request_id"] == asked["id"]


async def test_a_member_moves_themself(client, records):
    a, b = found_district(client), found_district(client)
    member, _ = member_in(client, b.union_ids[0])
    r = transfer(client, member["id"], headers=member_auth(member["id"]), to_union_id=a.union_ids[0])
    assert r.status_code == 201, r.text
    assert r.json()["initiated_by"] == "member" and r.json()["member"]["union_id"] == a.union_ids[0]
    other, _ = member_in(client, b.union_ids[0])
    assert transfer(client, other["id"], headers=member_auth(member["id"]),
                    to_union_id=a.union_ids[0]).status_code == 404
