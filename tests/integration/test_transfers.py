"""Transfers follow employment (会员关系随劳动关系转移), over HTTP and from an HR system's
EmploymentChanged on Kafka, against the real PostgreSQL and broker."""
from __future__ import annotations

import json
import uuid

import httpx
import pytest

from contracts.events import EmploymentChanged
from unionops.pii import KeyRing, b64
from unionops.settings import CommonSettings
from devstack.processes import ServiceProcess
from unionops.clock import local_today
from tests.city import ROOT, admit, auth, found_district, new_resident_id
from tests.integration.stack import NO_TRACES, eventually, started
from tests.membership_helpers import (
    Database,
    change_status,
    create_unit,
    new_credit_code,
    new_region_code,
    publish_as_hr_system,
    register_employer,
    transfer,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def membership(infra, stack_config):
    with started(ServiceProcess(stack_config, "membership", NO_TRACES)) as processes:
        yield processes["membership"]


@pytest.fixture()
def client(membership):
    with httpx.Client(base_url=membership.url, timeout=10) as c:
        yield c


@pytest.fixture()
def db(stack_config) -> Database:
    return Database(stack_config.dsn("membership"))


def transferred_events(events) -> list[dict]:
    return [json.loads(p) for _, t, p in events if t == "MemberTransferred"]


# ---- over HTTP -----------------------------------------------------------------------------------

async def test_transfer_cannot_be_refused(client, db):
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

    [event] = transferred_events(await db.events(member["id"]))
    assert event["from_union_id"] == a.union_ids[0] and event["to_union_id"] == b.union_ids[0]
    assert event["from_org_path"] == [str(ROOT), a.id, a.street_id, a.union_ids[0]]
    assert event["to_org_path"] == [str(ROOT), b.id, b.street_id, b.union_ids[0]]
    assert event["reason"] == "employment_change" and event["held_by_residence_union"] is False
    entry = client.get(f"/members/{member['id']}/file", headers=auth()).json()["entries"][-1]
    assert entry["kind"] == "transferred" and entry["union_id"] == b.union_ids[0]
    assert entry["detail"]["from_union_id"] == a.union_ids[0] and entry["detail"]["new_employer"] == "乙公司"


async def test_receiving_district_can_transfer_a_member_into_its_own_union(client, db):
    a, b = found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    r = transfer(client, member["id"], headers=auth("staff", b.id), to_union_id=b.union_ids[0])
    assert r.status_code == 201, r.text
    assert r.json()["initiated_by"] == "to_union"
    assert transferred_events(await db.events(member["id"]))[0]["initiated_by"] == "to_union"


async def test_a_federation_above_both_unions_initiates_as_federation(client):
    district = found_district(client, unions=2)
    member = admit(client, district.union_ids[0]).json()
    r = transfer(client, member["id"], headers=auth("staff", district.id), to_union_id=district.union_ids[1])
    assert r.status_code == 201 and r.json()["initiated_by"] == "federation"


async def test_district_cannot_transfer_another_districts_member(client, db):
    a, b, c = found_district(client, unions=2), found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    before = await db.counts()
    outsider = auth("staff", c.id)
    # neither within district A (the member's) nor into district C's own union: not theirs to move
    assert transfer(client, member["id"], headers=outsider, to_union_id=a.union_ids[1]).status_code == 404
    assert transfer(client, member["id"], headers=outsider, to_union_id=b.union_ids[0]).status_code == 404
    assert transfer(client, str(uuid.uuid4()), headers=outsider, to_union_id=c.union_ids[0]).status_code == 404
    assert transfer(client, member["id"], headers=auth("auditor", a.id), to_union_id=a.union_ids[1]).status_code == 403
    assert await db.counts() == before
    assert client.get(f"/members/{member['id']}", headers=auth()).json()["union_id"] == a.union_ids[0]


async def test_transfer_to_the_current_union_is_refused(client, db):
    district = found_district(client)
    member = admit(client, district.union_ids[0]).json()
    before = await db.counts()
    r = transfer(client, member["id"], to_union_id=district.union_ids[0])
    assert r.status_code == 422 and r.json()["type"] == "/problems/same-union"
    assert r.json()["errors"][0]["field"] == "body.to_union_id"
    assert await db.counts() == before


async def test_membership_is_transferred_only_into_a_grassroots_union(client):
    a, b = found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    r = transfer(client, member["id"], to_union_id=b.street_id)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.to_union_id"
    r = transfer(client, member["id"], to_union_id=b.union_ids[0], new_employer_credit_code="91350100M000100Y44")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.new_employer_credit_code"


async def test_transfer_follows_the_new_employers_union(client, db):
    a, b = found_district(client), found_district(client)
    code = register_employer(client, b.street_id, b.union_ids[0], name="乙精密制造有限公司")
    member = admit(client, a.union_ids[0]).json()
    r = transfer(client, member["id"], headers=auth("staff", a.id), new_employer="乙精密制造有限公司",
                 new_employer_credit_code=code)
    assert r.status_code == 201, r.text
    assert r.json()["to_union_id"] == b.union_ids[0] and r.json()["held_by_residence_union"] is False
    assert await db.fetchval("SELECT new_employer_credit_code FROM member_transfers WHERE member_id = $1::uuid",
                             member["id"]) == code


async def test_residence_area_union_holds_the_membership_when_the_employer_has_none(client, db):
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
    assert transferred_events(await db.events(member["id"]))[0]["held_by_residence_union"] is True

    # Where the area has no joint union, the street union itself holds the membership.
    lone_region = new_region_code()
    lone_street = create_unit(client, b.id, "street", "town_union", lone_region)
    other = admit(client, a.union_ids[0]).json()
    r = transfer(client, other["id"], residence_region_code=lone_region)
    assert r.status_code == 201 and r.json()["to_union_id"] == lone_street


async def test_no_residence_union_is_refused_clearly(client, db):
    district = found_district(client)
    member = admit(client, district.union_ids[0]).json()
    before = await db.counts()
    r = transfer(client, member["id"], residence_region_code=new_region_code())
    assert r.status_code == 422 and r.json()["type"] == "/problems/no-residence-union"
    assert r.json()["errors"][0]["field"] == "body.residence_region_code"
    r = transfer(client, member["id"])
    assert r.status_code == 422 and r.json()["type"] == "/problems/no-receiving-union"
    assert await db.counts() == before


async def test_a_retained_member_transferred_to_a_new_employer_becomes_active(client, db):
    a, b = found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    assert change_status(client, member["id"], "retained", "unemployed").status_code == 201
    r = transfer(client, member["id"], to_union_id=b.union_ids[0])
    assert r.status_code == 201 and r.json()["member"]["status"] == "active"
    kinds = [e["kind"] for e in client.get(f"/members/{member['id']}/file", headers=auth()).json()["entries"]]
    assert kinds == ["joined", "status_changed", "transferred", "status_changed"]
    last = [json.loads(p) for _, t, p in await db.events(member["id"]) if t == "MemberStatusChanged"][-1]
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


async def test_transfer_replays_with_the_same_idempotency_key(client, db):
    a, b = found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    headers = auth() | {"Idempotency-Key": f"transfer-{member['id']}"}
    first = transfer(client, member["id"], headers=headers, to_union_id=b.union_ids[0])
    again = transfer(client, member["id"], headers=headers, to_union_id=b.union_ids[0])
    assert first.status_code == again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert await db.fetchval("SELECT count(*) FROM member_transfers WHERE member_id = $1::uuid", member["id"]) == 1


# ---- from an HR system ------------------------------------------------------------------------------

def employment_changed(number: str, *, credit_code: str | None, region: str, name: str = "黄磊",
                       employer: str = "丙科技有限公司") -> EmploymentChanged:
    change_id = uuid.uuid4()
    # As the HR system does: the ID number sealed under the key it shares with membership.
    sealed = b64(KeyRing.from_config(CommonSettings().pii_hr_keys).seal_field("id_number", str(change_id), number))
    return EmploymentChanged(change_id=change_id, id_number_sealed=sealed, name=name, new_employer_name=employer,
                             new_employer_credit_code=credit_code, residence_region_code=region,
                             effective_on=local_today(), hr_system="payroll-test")


async def test_hr_employment_change_moves_the_membership(client, db, stack_config):
    a, b = found_district(client), found_district(client)
    code = register_employer(client, b.street_id, b.union_ids[0], name="丙科技有限公司")
    number = new_resident_id()
    member = client.post("/members", headers=auth(), json={"union_id": a.union_ids[0], "name": "黄磊",
                                                           "id_number": number}).json()
    event = employment_changed(number, credit_code=code, region="510104")
    event_id = await publish_as_hr_system(stack_config.bootstrap, event)

    async def moved():
        union_id = await db.fetchval("SELECT union_id::text FROM members WHERE id = $1::uuid", member["id"])
        return union_id == b.union_ids[0]

    await eventually(moved, timeout=60)
    [t] = transferred_events(await db.events(member["id"]))
    assert t["initiated_by"] == "hr_system" and t["to_union_id"] == b.union_ids[0]
    assert number not in json.dumps(t)
    row = (await db.fetch("SELECT source_event_id, actor FROM member_transfers WHERE member_id = $1::uuid",
                          member["id"]))[0]
    assert row["source_event_id"] == event_id and row["actor"] == "hr:payroll-test"

    # The same event delivered again (a producer retry) changes nothing.
    await publish_as_hr_system(stack_config.bootstrap, event, event_id=event_id)
    sentinel = employment_changed(new_resident_id(), credit_code=None, region="510104")
    sentinel_id = await publish_as_hr_system(stack_config.bootstrap, sentinel)
    await eventually(lambda: db.fetchval("SELECT 1 FROM inbox WHERE event_id = $1", sentinel_id))
    assert await db.fetchval("SELECT count(*) FROM member_transfers WHERE member_id = $1::uuid", member["id"]) == 1


async def test_hr_change_of_an_unknown_person_is_ignored_without_personal_data_in_logs(client, db, stack_config):
    number = new_resident_id()
    before = await db.counts()
    event = employment_changed(number, credit_code=None, region="510104", name="查无此人")
    event_id = await publish_as_hr_system(stack_config.bootstrap, event)
    await eventually(lambda: db.fetchval("SELECT status FROM inbox WHERE consumer = 'membership.hr'"
                                         " AND event_id = $1", event_id))
    assert await db.fetchval("SELECT status FROM inbox WHERE event_id = $1", event_id) == "applied"
    assert await db.counts() == before  # nothing but the inbox row
    log = (stack_config.state_dir / "logs" / "membership.log").read_text(encoding="utf-8", errors="replace")
    assert str(event.change_id) in log  # the log line is there …
    assert number not in log and "查无此人" not in log  # … without the person in it


async def test_hr_change_to_an_employer_without_a_union_goes_to_the_residence_union(client, db, stack_config):
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
        return await db.fetchval("SELECT union_id::text FROM members WHERE id = $1::uuid", member["id"]) == holder

    await eventually(moved, timeout=60)
    [t] = transferred_events(await db.events(member["id"]))
    assert t["held_by_residence_union"] is True and t["initiated_by"] == "hr_system"


async def test_hr_change_with_no_union_to_hold_the_membership_is_flagged_in_the_file(client, db, stack_config):
    district = found_district(client)
    number = new_resident_id()
    member = client.post("/members", headers=auth(), json={"union_id": district.union_ids[0], "name": "林涛",
                                                           "id_number": number}).json()
    event_id = await publish_as_hr_system(stack_config.bootstrap,
                                          employment_changed(number, credit_code=None, region=new_region_code()))
    await eventually(lambda: db.fetchval("SELECT 1 FROM inbox WHERE event_id = $1", event_id))
    entries = client.get(f"/members/{member['id']}/file", headers=auth("staff", district.id)).json()["entries"]
    assert entries[-1]["kind"] == "transfer_unresolved" and entries[-1]["union_id"] == district.union_ids[0]
    assert client.get(f"/members/{member['id']}", headers=auth()).json()["union_id"] == district.union_ids[0]
