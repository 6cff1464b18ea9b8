"""Personal data never in clear at rest or on the wire, and erasable by destroying one key: all four
services as processes, real PostgreSQL and broker. After an admission, a contact change, an import,
an officer entered in notify's directory and an HR employment change (and the notifications they
cause, to the member and to the officers), no table of any database, no outbox payload and no record
on any topic holds a phone, e-mail or ID number used, in clear."""
from __future__ import annotations

import json
import uuid

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from devstack.config import SERVICES
from tests.support.broker import publish_as_hr_system, read_topic
from tests.support.membership import found_district, register_employer
from tests.support.people import auth, new_resident_id
from tests.support.waiting import eventually
from tests.integration.test_member_import import person, upload, xlsx
from tests.integration.test_transfers import employment_changed
from unionops.clock import local_today
from unionops.pii import unb64

pytestmark = [pytest.mark.integration,
              pytest.mark.services(*SERVICES, subject="membership")]


@pytest.fixture()
def notify(services):
    with httpx.Client(base_url=services["notify"].url, timeout=30) as c:
        yield c


async def add_officer(notify, org_id: str, email: str, phone: str) -> dict:
    """An organisation officer of the unit, once the unit reached notify (UnionEstablished)."""
    async def added():
        r = notify.post("/officers", headers=auth(), json={"name": "周组织", "org_id": org_id, "email": email,
                                                           "phone": phone, "roles": ["organisation_officer"]})
        return r if r.status_code != 422 else None
    r = await eventually(added, "the union reached notify", timeout=60)
    assert r.status_code == 201, r.text
    return r.json()


async def fetch(stack_config, service: str, query: str, *args):
    conn = await asyncpg.connect(stack_config.dsn(service))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def clear_copies(stack_config, needles: list[str]) -> list[str]:
    """Where any needle stands in clear: every text/json/bytea/array column of every table of the
    four databases (outbox payloads included), and every record (value, key, headers) on every topic."""
    found = []
    for service in SERVICES:
        conn = await asyncpg.connect(stack_config.dsn(service))
        try:
            columns = await conn.fetch(
                "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
                " JOIN information_schema.tables t USING (table_schema, table_name)"
                " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
                " AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY')")
            for col in columns:
                expr = f'"{col["column_name"]}"'
                test = (f"position(convert_to($1, 'UTF8') in {expr}) > 0" if col["data_type"] == "bytea"
                        else f"strpos({expr}::text, $1) > 0")
                for needle in needles:
                    if await conn.fetchval(f'SELECT count(*) FROM "{col["table_name"]}" WHERE {test}', needle):
                        found.append(f"{service}.{col['table_name']}.{col['column_name']}: {needle}")
        finally:
            await conn.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=stack_config.bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if not t.startswith("__")]
    finally:
        await admin.close()
    for topic in topics:
        for record in await read_topic(stack_config.bootstrap, topic):
            raw = (record.value or b"") + (record.key or b"") + b"".join(v for _, v in record.headers or ())
            text = raw.decode("utf-8", "replace")
            for needle in needles:
                if needle in text:
                    found.append(f"topic {topic}: {needle}")
    return found


async def test_no_clear_id_number_phone_or_email_in_any_table_event_or_topic(client, notify, stack_config):
    tag = uuid.uuid4().hex[:8]
    a, b = found_district(client), found_district(client)
    number, email, phone = new_resident_id(), f"clear-{tag}@example.cn", "139" + str(uuid.uuid4().int)[:8]
    r = client.post("/members", headers=auth(), json={"union_id": a.union_ids[0], "name": "林晓", "id_number": number,
                                                      "phone": phone, "email": email})
    assert r.status_code == 201, r.text
    member_id = r.json()["id"]
    officer_email, officer_phone = f"officer-{tag}@example.cn", "137" + str(uuid.uuid4().int)[:8]
    officer = await add_officer(notify, a.union_ids[0], officer_email, officer_phone)
    assert officer_email not in str(officer) and officer_phone not in str(officer)
    new_email, new_phone = f"changed-{tag}@example.cn", "138" + str(uuid.uuid4().int)[:8]
    r = client.patch(f"/members/{member_id}", headers=auth(), json={"email": new_email, "phone": new_phone})
    assert r.status_code == 200, r.text
    sheet = [person(a.union_ids[0], n, 手机号="137" + str(uuid.uuid4().int)[:8], 电子邮箱=f"imp{n}-{tag}@example.cn")
             for n in range(1, 4)]
    assert upload(client, xlsx(sheet)).status_code == 201
    code = register_employer(client, b.street_id, b.union_ids[0], name=f"丙{tag}有限公司")
    change = employment_changed(number, credit_code=code, region="510104")
    await publish_as_hr_system(stack_config.bootstrap, change.model_copy(update={"effective_on": local_today()}))

    async def settled():  # moved by HR, and notify has every contact and some notification
        moved = await fetch(stack_config, "membership", "SELECT 1 FROM members WHERE id = $1::uuid AND union_id ="
                            " $2::uuid", member_id, b.union_ids[0])
        known = await fetch(stack_config, "notify", "SELECT count(*) AS n FROM contacts c JOIN deliveries d"
                            " ON d.member_id = c.member_id WHERE c.member_id = $1::uuid", member_id)
        told = await fetch(stack_config, "notify", "SELECT 1 FROM deliveries WHERE recipient_kind = 'officer'"
                           " AND recipient_id = $1::uuid", officer["id"])
        return moved and known[0]["n"] >= 2 and told
    await eventually(settled, "the admission, change, import and HR move reached every service", timeout=90)

    needles = [number, email, phone, new_email, new_phone, officer_email, officer_phone,
               *[p["身份证号"] for p in sheet], *[p["手机号"] for p in sheet], *[p["电子邮箱"] for p in sheet]]
    assert await clear_copies(stack_config, needles) == []


async def test_erasing_a_member_makes_their_contact_unreadable_everywhere(client, stack_config):
    tag = uuid.uuid4().hex[:8]
    district = found_district(client)
    email, phone = f"erase-{tag}@example.cn", "139" + str(uuid.uuid4().int)[:8]
    r = client.post("/members", headers=auth(), json={"union_id": district.union_ids[0], "name": "赵敏",
                                                      "id_number": new_resident_id(), "phone": phone, "email": email})
    assert r.status_code == 201, r.text
    member_id = r.json()["id"]
    await eventually(lambda: fetch(stack_config, "notify", "SELECT 1 FROM member_keys WHERE member_id = $1::uuid",
                                   member_id), "notify holds the member's data key", timeout=60)
    assert client.delete(f"/members/{member_id}/personal-data", headers=auth("staff", district.id)).status_code == 403
    r = client.delete(f"/members/{member_id}/personal-data", headers=auth())
    assert r.status_code == 200, r.text
    assert r.json()["data_key_destroyed"] is True

    async def dropped():
        rows = await fetch(stack_config, "notify", "SELECT 1 FROM member_keys WHERE member_id = $1::uuid", member_id)
        return not rows
    await eventually(dropped, "notify dropped the member's data key", timeout=60)

    # Membership: the key destroyed, no contact left, no outbox row that carried the wrapped key.
    [key] = await fetch(stack_config, "membership", "SELECT * FROM member_data_keys WHERE member_id = $1::uuid",
                        member_id)
    assert key["wrapped_key"] is None and key["destroyed_at"] is not None
    [m] = await fetch(stack_config, "membership", "SELECT * FROM members WHERE id = $1::uuid", member_id)
    assert m["phone_enc"] is None and m["email_enc"] is None and m["email"] is None
    kept = await fetch(stack_config, "membership", "SELECT event_type FROM outbox WHERE key = $1"
                       " AND topic = 'membership.member-contact.v2'", member_id)
    assert [k["event_type"] for k in kept] == ["MemberPersonalDataErased"]
    # Notify: nothing sealed left, and no key to open it.
    [c] = await fetch(stack_config, "notify", "SELECT * FROM contacts WHERE member_id = $1::uuid", member_id)
    assert c["email_sealed"] is None and c["phone_sealed"] is None and c["erased_at"] is not None
    # The topic: compacted by member id in production, its latest record per member is all that stays —
    # the erasure, which carries no key. Every sealed value that passed cannot be opened by notify's state.
    records = [json.loads(r.value) for r in await read_topic(stack_config.bootstrap, "membership.member-contact.v2")
               if r.key and r.key.decode() == member_id]
    assert "data_key" not in records[-1] and records[-1]["member_id"] == member_id
    for rec in records[:-1]:
        assert email not in json.dumps(rec) and phone not in json.dumps(rec)
        assert unb64(rec["email_sealed"])  # sealed under a key that no longer exists in membership or notify
    assert await clear_copies(stack_config, [email, phone]) == []


async def test_an_officers_address_kept_in_clear_before_is_encrypted_when_notify_starts(services, stack_config):
    """Directory entries written before notify encrypted officers' e-mail addresses (migration 009)."""
    tag = uuid.uuid4().hex[:8]
    address = f"old-officer-{tag}@example.cn"
    officer_id = uuid.uuid4()
    conn = await asyncpg.connect(stack_config.dsn("notify"))
    try:
        await conn.execute("INSERT INTO officers (id, name, org_id, org_path, roles, email, created_by)"
                           " VALUES ($1, '旧录入', $2, ARRAY[$2]::uuid[], ARRAY['chair'], $3, 'before-009')",
                           officer_id, uuid.uuid4(), address)
    finally:
        await conn.close()
    services["notify"].stop()
    services["notify"].start()
    [row] = await fetch(stack_config, "notify", "SELECT email, email_enc, email_masked FROM officers WHERE id = $1",
                        officer_id)
    assert row["email"] is None and row["email_enc"] is not None and row["email_masked"] == "o***@example.cn"
    assert await clear_copies(stack_config, [address]) == []
