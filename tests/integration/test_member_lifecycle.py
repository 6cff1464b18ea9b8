"""The member lifecycle over HTTP, as a process, against the real PostgreSQL and broker: profile
changes audited, active → retained → left, re-joining with the gap kept, and scope."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.support.membership import admit, change_status, found_district, transfer
from tests.support.people import ROOT, auth, new_resident_id, open_contact
from unionops.clock import local_today
from unionops.pii import check_character

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership")]


def file_of(client, member_id, headers=None) -> list[dict]:
    r = client.get(f"/members/{member_id}/file", headers=headers or auth())
    assert r.status_code == 200, r.text
    return r.json()["entries"]


# ---- profile ----------------------------------------------------------------------------------------

async def test_profile_changes_are_audited_with_contact_data_masked(client, records):
    district = found_district(client)
    member = admit(client, district.union_ids[0], name="刘芳", phone="13800138000", email="liufang@example.cn").json()
    r = client.patch(f"/members/{member['id']}", headers=auth("staff", district.id), json={
        "phone": "139 0013 9000", "email": "fang.liu@example.cn", "occupation": "数控车工", "education": "junior_college",
        "is_migrant_worker": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["phone_masked"] == "139****9000" and "13900139000" not in r.text
    assert body["occupation"] == "数控车工" and body["is_migrant_worker"] is True

    entry = file_of(client, member["id"])[-1]
    assert entry["kind"] == "profile_changed" and entry["actor"] == "test-admin"
    assert entry["detail"]["fields"] == ["education", "email", "is_migrant_worker", "occupation", "phone"]
    assert entry["detail"]["changes"]["phone"] == {"from": "138****8000", "to": "139****9000"}
    assert entry["detail"]["changes"]["email"] == {"from": "l***@example.cn", "to": "f***@example.cn"}
    stored = json.dumps(await records.fetch("SELECT detail::text FROM member_file_entries WHERE member_id = $1::uuid",
                                       member["id"]), default=str)
    assert "13900139000" not in stored and "13800138000" not in stored and "fang.liu@" not in stored

    events = await records.events(member["id"])
    changed = [e for e in events if e[1] == "MemberProfileChanged"]
    contact = [e for e in events if e[1] == "MemberContactChanged"]
    assert len(changed) == 1 and changed[0][0] == "membership.member.v1"
    payload = json.loads(changed[0][2])
    assert sorted(payload["changed_fields"]) == ["education", "is_migrant_worker", "occupation"]
    assert "13900139000" not in changed[0][2] and "fang.liu" not in changed[0][2]
    assert contact[-1][0] == "membership.member-contact.v2"
    assert "13900139000" not in contact[-1][2] and "fang.liu" not in contact[-1][2]
    assert open_contact(json.loads(contact[-1][2]))["phone"] == "13900139000"  # what notify reads


async def test_honours_are_recorded_in_the_member_file(client, records):
    district = found_district(client)
    member = admit(client, district.union_ids[0]).json()
    r = client.patch(f"/members/{member['id']}", headers=auth(),
                     json={"honours": ["model_worker", "gold_medal_worker"]})
    assert r.status_code == 200, r.text
    assert r.json()["honours"] == [{"code": "model_worker", "label": "劳动模范（劳模）"},
                                   {"code": "gold_medal_worker", "label": "金牌工人"}]
    r = client.patch(f"/members/{member['id']}", headers=auth(), json={"honours": ["gold_medal_worker"]})
    assert r.status_code == 200
    kinds = [(e["kind"], e["detail"].get("honour")) for e in file_of(client, member["id"])]
    assert kinds == [("joined", None), ("honour_awarded", "model_worker"), ("honour_awarded", "gold_medal_worker"),
                     ("honour_revoked", "model_worker")]
    contact_events = [e for e in await records.events(member["id"]) if e[1] == "MemberContactChanged"]
    assert contact_events == []  # honours are not contact data


async def test_honours_come_from_the_fixed_list(client):
    district = found_district(client)
    member = admit(client, district.union_ids[0]).json()
    r = client.patch(f"/members/{member['id']}", headers=auth(), json={"honours": ["nobel_prize"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.honours.0"
    r = client.patch(f"/members/{member['id']}", headers=auth(), json={"name": None})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.name"
    assert client.patch(f"/members/{member['id']}", headers=auth(), json={}).status_code == 422


async def test_an_unchanged_profile_leaves_no_entry_and_no_event(client, records):
    district = found_district(client)
    member = admit(client, district.union_ids[0], name="陈静", employer="甲公司").json()
    before = await records.counts()
    r = client.patch(f"/members/{member['id']}", headers=auth(), json={"name": "陈静", "employer": "甲公司"})
    assert r.status_code == 200
    assert await records.counts() == before


# ---- status ------------------------------------------------------------------------------------------

async def test_a_member_is_retained_and_reactivated(client, records):
    district = found_district(client)
    member = admit(client, district.union_ids[0]).json()
    r = change_status(client, member["id"], "retained", "unemployed", headers=auth("staff", district.id))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "retained" and r.json()["status_reason"] == "unemployed"
    assert change_status(client, member["id"], "active", "reactivated").json()["status"] == "active"
    entries = file_of(client, member["id"])
    assert [(e["kind"], e["detail"].get("to_status")) for e in entries] == [
        ("joined", None), ("status_changed", "retained"), ("status_changed", "active")]
    changes = [json.loads(p) for _, t, p in await records.events(member["id"]) if t == "MemberStatusChanged"]
    assert [(c["from_status"], c["to_status"], c["reason"]) for c in changes] == [
        ("active", "retained", "unemployed"), ("retained", "active", "reactivated")]


async def test_retention_needs_a_retention_reason(client):
    district = found_district(client)
    member = admit(client, district.union_ids[0]).json()
    r = change_status(client, member["id"], "retained", "resigned")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.reason"


async def test_left_is_final_except_by_rejoining(client, records):
    district = found_district(client, unions=2)
    member = admit(client, district.union_ids[0]).json()
    r = change_status(client, member["id"], "left", "resigned")
    assert r.status_code == 201 and r.json()["status"] == "left" and r.json()["left_on"] == local_today().isoformat()
    left = [json.loads(p) for _, t, p in await records.events(member["id"]) if t == "MemberLeft"]
    assert left and left[0]["reason"] == "resigned"
    before = await records.counts()
    assert change_status(client, member["id"], "active", "reactivated").status_code == 422
    assert client.patch(f"/members/{member['id']}", headers=auth(), json={"occupation": "电工"}).status_code == 422
    assert transfer(client, member["id"], to_union_id=district.union_ids[1]).status_code == 422
    assert await records.counts() == before


async def test_administrative_departure_needs_a_federation_administrator(client):
    district = found_district(client)
    member = admit(client, district.union_ids[0]).json()
    r = change_status(client, member["id"], "left", "administrative", headers=auth("staff", district.id))
    assert r.status_code == 403 and r.json()["type"] == "/problems/admin-only-reason"
    assert change_status(client, member["id"], "left", "administrative").status_code == 201


# ---- re-joining -----------------------------------------------------------------------------------

async def test_rejoining_keeps_the_gap_visible(client, records):
    district = found_district(client, unions=2)
    number = new_resident_id()
    joined_on = local_today() - timedelta(days=400)
    left_on = local_today() - timedelta(days=100)
    first = client.post("/members", headers=auth(), json={"union_id": district.union_ids[0], "name": "周强",
                                                          "id_number": number, "joined_on": joined_on.isoformat()})
    assert first.status_code == 201
    member_id = first.json()["id"]
    assert change_status(client, member_id, "left", "resigned", effective_on=left_on.isoformat()).status_code == 201

    again = client.post("/members", headers=auth(), json={"union_id": district.union_ids[1], "name": "周强",
                                                          "id_number": number, "phone": "13700137000"})
    assert again.status_code == 201, again.text
    assert again.json()["id"] == member_id  # the same member record
    assert again.json()["rejoined_after_days"] == 100 and again.json()["status"] == "active"
    assert again.json()["union_id"] == district.union_ids[1]

    entries = file_of(client, member_id)
    assert [e["kind"] for e in entries] == ["joined", "left", "rejoined"]
    assert entries[-1]["detail"]["gap_days"] == 100 and entries[-1]["detail"]["left_on"] == left_on.isoformat()
    joins = [json.loads(p) for _, t, p in await records.events(member_id) if t == "MemberJoined"]
    assert [j["rejoined_after_days"] for j in joins] == [None, 100]
    assert await records.fetchval("SELECT count(*) FROM members WHERE id = $1::uuid", member_id) == 1


async def test_one_membership_per_person_holds_for_retained_members(client, records):
    district = found_district(client, unions=2)
    number = new_resident_id()
    member = client.post("/members", headers=auth(), json={"union_id": district.union_ids[0], "name": "吴敏",
                                                           "id_number": number}).json()
    assert change_status(client, member["id"], "retained", "retired").status_code == 201
    before = await records.counts()
    r = client.post("/members", headers=auth(), json={"union_id": district.union_ids[1], "name": "吴敏",
                                                      "id_number": number})
    assert r.status_code == 409 and r.json()["type"] == "/problems/already-a-member"
    # The refusal gives the receiving union what it needs to start a transfer, and no ID number.
    assert r.json()["member_id"] == member["id"] and number not in r.text
    assert await records.counts() == before


# ---- scope --------------------------------------------------------------------------------------

async def test_duplicate_admission_tells_an_out_of_scope_caller_nothing(client, records):
    """Staff of another subtree learn only that the person is registered elsewhere and whom to
    ask: the office above both (here the city federation, their own ancestor)."""
    a, b = found_district(client), found_district(client)
    number = new_resident_id()
    member = client.post("/members", headers=auth(), json={"union_id": b.union_ids[0], "name": "郑洁",
                                                           "id_number": number}).json()
    assert change_status(client, member["id"], "retained", "retired").status_code == 201
    before = await records.counts()
    r = client.post("/members", headers=auth("staff", a.union_ids[0]),
                    json={"union_id": a.union_ids[0], "name": "郑洁", "id_number": number})
    assert r.status_code == 409 and r.json()["type"] == "/problems/already-a-member"
    assert "member_id" not in r.json()
    b_names = [u["name"] for u in (client.get(f"/organisations/{x}", headers=auth()).json()
                                   for x in (b.id, b.street_id, b.union_ids[0]))]
    for secret in (member["id"], b.id, b.street_id, b.union_ids[0], number, "会籍保留", *b_names,
                   *(n[:2] + "*" for n in b_names)):
        assert secret not in r.text
    root_name = client.get(f"/organisations/{ROOT}", headers=auth()).json()["name"]
    assert root_name in r.json()["detail"] and "其他工会" in r.json()["detail"]
    assert await records.counts() == before
    # Within the caller's subtree the refusal may say more, as before.
    inside = client.post("/members", headers=auth("staff", b.id),
                         json={"union_id": b.union_ids[0], "name": "郑洁", "id_number": number})
    assert inside.status_code == 409 and inside.json()["member_id"] == member["id"]


async def test_district_cannot_change_another_districts_member(client, records):
    a, b = found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    before = await records.counts()
    other = auth("staff", b.id)
    assert client.patch(f"/members/{member['id']}", headers=other, json={"occupation": "焊工"}).status_code == 404
    assert change_status(client, member["id"], "left", "expelled", headers=other).status_code == 404
    assert client.get(f"/members/{member['id']}/file", headers=other).status_code == 404
    assert client.get(f"/members/{member['id']}", headers=auth("auditor", a.id)).status_code == 200
    assert client.patch(f"/members/{member['id']}", headers=auth("auditor", a.id),
                        json={"occupation": "焊工"}).status_code == 403
    assert await records.counts() == before


# ---- dates that happened: never in the future, back-dated within bounds and audited -------------

def resident_id_born(born: date) -> str:
    first17 = f"510104{born:%Y%m%d}123"
    return first17 + check_character(first17)


async def test_an_admission_dated_in_the_future_is_refused_and_writes_nothing(client, records):
    district = found_district(client)
    before = await records.counts()
    for joined_on in ("9999-12-31", (local_today() + timedelta(days=1)).isoformat()):
        r = admit(client, district.union_ids[0], joined_on=joined_on)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "/problems/dated-in-the-future"
        assert r.json()["errors"][0]["field"] == "body.joined_on" and "入会日期" in r.json()["errors"][0]["message"]
    assert await records.counts() == before


async def test_an_admission_is_not_dated_before_the_sixteenth_birthday_nor_before_1925(client, records):
    district = found_district(client)
    number = resident_id_born(date(1990, 6, 15))
    before = await records.counts()
    r = admit(client, district.union_ids[0], id_number=number, joined_on="2006-06-14")
    assert r.status_code == 422 and "16周岁" in r.json()["errors"][0]["message"]
    r = admit(client, district.union_ids[0], id_number=resident_id_born(date(1908, 3, 1)), joined_on="1924-12-31")
    assert r.status_code == 422 and "1925-05-01" in r.json()["errors"][0]["message"]
    assert await records.counts() == before
    r = admit(client, district.union_ids[0], id_number=number, joined_on="2006-06-15")  # a historic date is fine
    assert r.status_code == 201, r.text
    joined = file_of(client, r.json()["id"])[0]
    assert joined["detail"]["backdated_days"] == (local_today() - date(2006, 6, 15)).days
    assert joined["detail"]["backdated_by"] == joined["actor"]


async def test_a_status_change_is_never_in_the_future_and_backdated_at_most_the_configured_days(client, records):
    district = found_district(client)
    member = client.post("/members", headers=auth(), json={
        "union_id": district.union_ids[0], "name": "郑补录", "id_number": new_resident_id(),
        "joined_on": (local_today() - timedelta(days=1000)).isoformat()}).json()
    before = await records.counts()
    for days, refusal in ((-1, "/problems/dated-in-the-future"), (181, "/problems/backdated-too-far")):
        r = change_status(client, member["id"], "left", "resigned",
                          effective_on=(local_today() - timedelta(days=days)).isoformat())
        assert r.status_code == 422 and r.json()["type"] == refusal
        assert r.json()["errors"][0]["field"] == "body.effective_on"
    assert await records.counts() == before
    r = change_status(client, member["id"], "retained", "unemployed", headers=auth("staff", district.id),
                      effective_on=(local_today() - timedelta(days=30)).isoformat())
    assert r.status_code == 201, r.text
    entry = file_of(client, member["id"])[-1]
    assert entry["detail"]["backdated_days"] == 30 and entry["detail"]["backdated_by"] == entry["actor"]


async def test_a_transfer_is_never_effective_in_the_future_and_backdated_at_most_the_configured_days(client, records):
    district = found_district(client, unions=2)
    member = client.post("/members", headers=auth(), json={
        "union_id": district.union_ids[0], "name": "钱转移", "id_number": new_resident_id(),
        "joined_on": (local_today() - timedelta(days=1000)).isoformat()}).json()
    before = await records.counts()
    for days, refusal in ((-1, "/problems/dated-in-the-future"), (181, "/problems/backdated-too-far")):
        r = transfer(client, member["id"], to_union_id=district.union_ids[1],
                     effective_on=(local_today() - timedelta(days=days)).isoformat())
        assert r.status_code == 422 and r.json()["type"] == refusal, r.text
        assert r.json()["errors"][0]["field"] == "body.effective_on"
    assert await records.counts() == before
    r = transfer(client, member["id"], to_union_id=district.union_ids[1],
                 effective_on=(local_today() - timedelta(days=7)).isoformat())
    assert r.status_code == 201, r.text
    entry = [e for e in file_of(client, member["id"]) if e["kind"] == "transferred"][-1]
    assert entry["detail"]["backdated_days"] == 7 and entry["detail"]["backdated_by"] == entry["actor"]
