"""Membership over HTTP, as a process, against the real PostgreSQL and broker."""
from __future__ import annotations

import asyncpg
import pytest

from tests.support.membership import admit, found_district
from tests.support.people import ROOT, auth, new_resident_id

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership")]


async def counts(stack_config) -> tuple[int, int]:
    conn = await asyncpg.connect(stack_config.dsn("membership"))
    try:
        return (await conn.fetchval("SELECT count(*) FROM members"), await conn.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await conn.close()


async def test_admission_stores_masked_identity_and_stages_events_without_id_or_phone(client, stack_config):
    district = found_district(client)
    number = new_resident_id()
    r = client.post("/members", headers=auth(), json={
        "union_id": district.union_ids[0], "name": "李娜", "id_number": number, "phone": "13912345678",
        "email": "lina@example.cn"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id_number_masked"] == number[:4] + "*" * 10 + number[-4:]
    assert body["phone_masked"] == "139****5678"
    assert "id_number" not in body and "phone" not in body
    conn = await asyncpg.connect(stack_config.dsn("membership"))
    try:
        row = await conn.fetchrow("SELECT id_number_enc, phone_enc FROM members WHERE id = $1::uuid", body["id"])
        assert number.encode() not in bytes(row["id_number_enc"]) and b"13912345678" not in bytes(row["phone_enc"])
        events = await conn.fetch("SELECT topic, event_type, payload::text AS payload FROM outbox"
                                  " WHERE key = $1 ORDER BY id", body["id"])
    finally:
        await conn.close()
    assert [(e["topic"], e["event_type"]) for e in events] == [
        ("membership.member.v1", "MemberJoined"), ("membership.member-contact.v2", "MemberContactChanged")]
    for e in events:
        assert number not in e["payload"] and "13912345678" not in e["payload"] and "lina@" not in e["payload"]


async def test_one_person_one_membership(client, stack_config):
    district = found_district(client, unions=2)
    number = new_resident_id()
    first = client.post("/members", headers=auth(), json={"union_id": district.union_ids[0], "name": "赵六",
                                                          "id_number": number})
    assert first.status_code == 201
    before = await counts(stack_config)
    second = client.post("/members", headers=auth(), json={"union_id": district.union_ids[1], "name": "赵六",
                                                           "id_number": number})
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["type"] == "/problems/already-a-member"
    assert number not in second.text  # the refusal shows the number masked
    assert await counts(stack_config) == before


async def test_bad_input_gets_a_precise_4xx_and_changes_nothing(client, stack_config):
    district = found_district(client)
    other = found_district(client)
    union = district.union_ids[0]
    before = await counts(stack_config)
    cases = [
        # malformed ID number: 422 naming the field
        (client.post("/members", headers=auth(), json={"union_id": union, "name": "钱七", "id_number": "110105194912310021"}),
         422, "body.id_number"),
        # unknown organisation
        (client.post("/members", headers=auth(), json={"union_id": "00000000-0000-0000-0000-000000000001",
                                                       "name": "钱七", "id_number": new_resident_id()}),
         422, "body.union_id"),
        # a member must join a grassroots union, not a street union
        (client.post("/members", headers=auth(), json={"union_id": district.street_id, "name": "钱七",
                                                       "id_number": new_resident_id()}), 422, "body.union_id"),
        # missing token
        (client.post("/members", json={"union_id": union, "name": "钱七", "id_number": new_resident_id()}), 401, None),
        # wrong scope: staff of another district — answered as for an unknown union
        (client.post("/members", headers=auth("staff", other.id), json={"union_id": union, "name": "钱七",
                                                                        "id_number": new_resident_id()}), 422,
         "body.union_id"),
        # a role without write permission
        (client.post("/members", headers=auth("auditor", district.id), json={"union_id": union, "name": "钱七",
                                                                             "id_number": new_resident_id()}), 403, None),
        # invalid JSON
        (client.post("/members", headers=auth() | {"content-type": "application/json"}, content=b'{"union_id": '),
         400, None),
        # unknown field
        (client.post("/members", headers=auth(), json={"union_id": union, "name": "钱七", "id_number": new_resident_id(),
                                                       "salary": 1}), 422, "body.salary"),
    ]
    for response, status, field in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status and problem["title"] and problem["detail"]
        if field:
            assert field in [e["field"] for e in problem["errors"]], problem
    assert await counts(stack_config) == before


async def test_a_district_cannot_read_another_districts_members(client):
    a, b = found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()
    assert client.get(f"/members/{member['id']}", headers=auth("staff", a.id)).status_code == 200
    assert client.get(f"/members/{member['id']}", headers=auth("staff", b.id)).status_code == 404
    listed = client.get("/organisations", headers=auth("staff", b.id)).json()
    assert {o["id"] for o in listed} == {b.id, b.street_id, *b.union_ids}


async def test_idempotency_key_replays_the_first_answer_and_creates_once(client, stack_config):
    district = found_district(client)
    body = {"union_id": district.union_ids[0], "name": "孙八", "id_number": new_resident_id()}
    headers = auth() | {"Idempotency-Key": "admit-sun-ba-1"}
    before = await counts(stack_config)
    first = client.post("/members", json=body, headers=headers)
    again = client.post("/members", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    members, events = await counts(stack_config)
    assert members == before[0] + 1 and events == before[1] + 1
    reused = client.post("/members", json=body | {"name": "孙九"}, headers=headers)
    assert reused.status_code == 422


async def test_the_tree_grows_one_level_at_a_time(client):
    district = found_district(client)
    r = client.post("/organisations", headers=auth(), json={
        "parent_id": str(ROOT), "name": "越级工会", "level": "grassroots", "kind": "enterprise_union",
        "region_code": "510104"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.level"
    r = client.post("/organisations", headers=auth(), json={
        "parent_id": district.union_ids[0], "name": "下级", "level": "grassroots", "kind": "enterprise_union",
        "region_code": "510104"})
    assert r.status_code == 422


async def test_member_file_records_the_join(client):
    district = found_district(client)
    member = admit(client, district.union_ids[0]).json()
    file = client.get(f"/members/{member['id']}/file", headers=auth()).json()
    assert [e["kind"] for e in file["entries"]] == ["joined"]


async def test_metrics_show_requests_and_published_events(client):
    district = found_district(client)
    assert admit(client, district.union_ids[0]).status_code == 201
    import time

    deadline = time.monotonic() + 20
    while True:
        text = client.get("/metrics").text
        if "unionops_outbox_published" in text or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert 'unionops_outbox_published_total{' in text and 'topic="membership.member.v1"' in text
    assert "http_server" in text and "unionops_outbox_backlog" in text
    assert "11010519" not in text  # no personal data in metrics


async def test_asyncapi_document_describes_the_published_events(client):
    doc = client.get("/asyncapi.json").json()
    text = str(doc)
    assert doc["asyncapi"].startswith("3.") or doc["asyncapi"].startswith("2.")
    for name in ("membership.member.v1", "MemberJoined", "membership.organisation.v1", "UnionEstablished"):
        assert name in text, name
    assert client.get("/asyncapi").status_code == 200


@pytest.mark.parametrize("change", [{"name": "王\u0000芳"}, {"name": "王\u202e芳"}, {"name": "张三😀"},
                                    {"is_migrant_worker": "yes"}, {"employer": "公司\u200d"},
                                    {"name": "李" + "\u0301" * 30}])
async def test_a_refused_admission_writes_and_publishes_nothing(client, stack_config, change):
    union_id = found_district(client).union_ids[0]
    before = await counts(stack_config)
    r = client.post("/members", json={"union_id": union_id, "name": "王芳", "id_number": new_resident_id()} | change,
                    headers=auth())
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert await counts(stack_config) == before


async def test_a_partial_update_refuses_null_where_a_field_cannot_be_cleared(client):
    union_id = found_district(client).union_ids[0]
    member_id = admit(client, union_id).json()["id"]
    for field in ("name", "is_migrant_worker", "honours"):
        r = client.patch(f"/members/{member_id}", json={field: None}, headers=auth())
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == f"body.{field}", r.text
    r = client.patch(f"/members/{member_id}", json={"employer": None}, headers=auth())
    assert r.status_code == 200 and r.json()["employer"] is None, r.text


async def test_a_body_over_the_limit_is_refused_with_413_by_the_running_service(client, stack_config):
    before = await counts(stack_config)
    big = b'{"union_id": "' + b"x" * 2_000_000 + b'"}'

    def chunks():
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]

    for content in (big, chunks()):  # with Content-Length, then chunked
        r = client.post("/members", content=content, headers=auth() | {"content-type": "application/json"})
        assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json"), r.text
        assert client.get("/health/live").status_code == 200  # the service answers the next request
    assert await counts(stack_config) == before
