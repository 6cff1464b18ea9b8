"""The organisation tree as the organisation department (组织部) runs it: founding, merging,
dissolving and moving units, employers to cover, targets and coverage figures."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import asyncpg
import pytest

from tests.support.membership import admit, found_district
from tests.support.people import ROOT, auth
from unionops.clock import local_today

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership")]


async def fetch(stack_config, sql, *args):
    conn = await asyncpg.connect(stack_config.dsn("membership"))
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def union(client, parent_id, name, **extra):
    r = client.post("/organisations", headers=auth(), json={
        "parent_id": parent_id, "name": name, "level": "grassroots", "kind": "enterprise_union",
        "region_code": "510104", **extra})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def employer(client, org_id, name, ownership="non_public", **extra):
    r = client.post("/employers", headers=auth(), json={"org_id": org_id, "name": name, "ownership": ownership,
                                                        "headcount": 120, **extra})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_merging_a_union_moves_its_members_and_employers(client, stack_config):
    d = found_district(client, unions=2)
    source, target = d.union_ids
    members = [admit(client, source).json()["id"] for _ in range(3)]
    employer(client, d.street_id, "合并前科技有限公司", union_id=source)
    r = client.post(f"/organisations/{source}/merge", headers=auth(), json={"into_org_id": target})
    assert r.status_code == 200, r.text
    assert r.json()["members_moved"] == 3
    for m in members:
        assert client.get(f"/members/{m}", headers=auth()).json()["union_id"] == target
    assert client.get(f"/organisations/{source}", headers=auth()).json()["status"] == "merged"
    rows = await fetch(stack_config, "SELECT event_type, payload->>'reason' AS reason FROM outbox"
                       " WHERE payload->>'from_union_id' = $1 OR key = $1", source)
    kinds = sorted((r["event_type"], r["reason"]) for r in rows)
    assert kinds.count(("MemberTransferred", "union_merged")) == 3 and ("UnionMerged", None) in kinds
    employers = await fetch(stack_config, "SELECT union_id::text FROM employers WHERE name = '合并前科技有限公司'")
    assert employers[0]["union_id"] == target
    # a merged union admits no one
    assert admit(client, source).status_code == 409


async def test_dissolving_a_union_hands_its_members_to_the_parent(client, stack_config):
    d = found_district(client)
    member = admit(client, d.union_ids[0]).json()["id"]
    r = client.post(f"/organisations/{d.union_ids[0]}/dissolve", headers=auth(), json={"reason": "企业关闭"})
    assert r.status_code == 200, r.text
    held = client.get(f"/members/{member}", headers=auth()).json()
    assert held["union_id"] == d.street_id and held["status"] == "retained"
    rows = await fetch(stack_config, "SELECT event_type FROM outbox WHERE key = $1 ORDER BY id", member)
    assert [r["event_type"] for r in rows][-2:] == ["MemberTransferred", "MemberStatusChanged"]
    history = client.get(f"/organisations/{d.union_ids[0]}/history", headers=auth()).json()["entries"]
    assert [e["kind"] for e in history] == ["established", "dissolved"]


async def test_a_unit_with_active_children_cannot_be_dissolved(client):
    d = found_district(client)
    r = client.post(f"/organisations/{d.street_id}/dissolve", headers=auth(), json={"reason": "调整"})
    assert r.status_code == 409 and r.json()["type"] == "/problems/unit-has-children"


async def test_moving_a_street_moves_its_subtree_and_keeps_history(client, stack_config):
    a, b = found_district(client), found_district(client)
    member = admit(client, a.union_ids[0]).json()["id"]
    r = client.post(f"/organisations/{a.street_id}/move", headers=auth(), json={"new_parent_id": b.id})
    assert r.status_code == 200, r.text
    moved_union = client.get(f"/organisations/{a.union_ids[0]}", headers=auth()).json()
    assert moved_union["path"][:3] == [str(ROOT), b.id, a.street_id]
    # the new district now sees the member, the old one no longer does
    assert client.get(f"/members/{member}", headers=auth("staff", b.id)).status_code == 200
    assert client.get(f"/members/{member}", headers=auth("staff", a.id)).status_code == 404
    rows = await fetch(stack_config, "SELECT payload FROM outbox WHERE event_type = 'UnionMoved' AND key = $1",
                       a.street_id)
    assert rows and rows[0]["payload"]["new_path"] == [str(ROOT), b.id, a.street_id]


async def test_a_unit_cannot_move_under_its_own_subtree_or_skip_a_level(client):
    d = found_district(client)
    r = client.post(f"/organisations/{d.id}/move", headers=auth(), json={"new_parent_id": d.street_id})
    assert r.status_code == 422
    other = found_district(client)
    r = client.post(f"/organisations/{d.union_ids[0]}/move", headers=auth(), json={"new_parent_id": other.id})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.level"


async def test_a_district_cannot_merge_or_move_another_districts_units_and_learns_nothing_of_them(client):
    a, b = found_district(client), found_district(client)
    r = client.post(f"/organisations/{b.union_ids[0]}/merge", headers=auth("staff", a.id),
                    json={"into_org_id": a.union_ids[0]})
    unknown = client.post(f"/organisations/{uuid.uuid4()}/merge", headers=auth("staff", a.id),
                          json={"into_org_id": a.union_ids[0]})
    assert r.status_code == unknown.status_code == 422 and r.json()["detail"] == unknown.json()["detail"]
    r = client.post(f"/organisations/{b.street_id}/move", headers=auth("staff", a.id), json={"new_parent_id": a.id})
    unknown = client.post(f"/organisations/{uuid.uuid4()}/move", headers=auth("staff", a.id),
                          json={"new_parent_id": a.id})
    assert r.status_code == unknown.status_code == 422 and r.json()["detail"] == unknown.json()["detail"]
    # Founding a unit under another district's street, likewise.
    r = client.post("/organisations", headers=auth("staff", a.id), json={
        "parent_id": b.street_id, "name": "越权工会", "level": "grassroots", "kind": "enterprise_union",
        "region_code": "510104"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.parent_id"


async def test_employers_without_a_union_are_the_founding_targets(client):
    d = found_district(client)
    first = employer(client, d.street_id, "无工会一号商贸有限公司")
    employer(client, d.street_id, "无工会二号物流有限公司")
    targets = client.get("/employers", headers=auth("staff", d.id), params={"without_union": "true"}).json()
    assert {e["name"] for e in targets} == {"无工会一号商贸有限公司", "无工会二号物流有限公司"}
    union(client, d.street_id, "一号商贸工会", employer_ids=[first])
    targets = client.get("/employers", headers=auth("staff", d.id), params={"without_union": "true"}).json()
    assert [e["name"] for e in targets] == ["无工会二号物流有限公司"]


async def test_coverage_counts_unions_members_and_non_public_employers(client):
    d = found_district(client, unions=2)
    for _ in range(3):
        assert admit(client, d.union_ids[0]).status_code == 201
    employer(client, d.street_id, "覆盖率甲有限公司", union_id=d.union_ids[0], has_collective_contract=True)
    employer(client, d.street_id, "覆盖率乙有限公司")
    employer(client, d.street_id, "覆盖率国企", ownership="state_owned")
    year = local_today().year
    # targets come from above: the district may not set its own
    assert client.put(f"/organisations/{d.id}/targets/{year}", headers=auth("staff", d.id),
                      json={"unions_target": 50}).status_code == 403
    assert client.put(f"/organisations/{d.id}/targets/{year}", headers=auth(),
                      json={"unions_target": 4, "members_target": 100}).status_code == 200
    c = client.get(f"/coverage/{d.id}", headers=auth("staff", d.id)).json()
    assert c["unions"] == {"total": 2, "founded_this_year": 2, "target": 4, "progress": 0.5}
    assert c["members"] == {"total": 3, "target": 100}
    assert c["non_public_employers"] == {"total": 2, "covered": 1, "coverage_rate": 0.5}
    # The flag marks a legacy contract with unknown dates: only contracts in force on the day count
    # (issue 14; tests/integration/test_collective_contracts.py).
    assert c["collective_contract_employers"] == 0
    this_month = c["months"][local_today().month - 1]
    assert this_month["joins"] == 3


async def test_a_district_cannot_read_another_districts_coverage(client):
    a, b = found_district(client), found_district(client)
    assert client.get(f"/coverage/{b.id}", headers=auth("staff", a.id)).status_code == 404


async def test_coverage_summaries_are_published_for_dashboards(client, stack_config):
    d = found_district(client)
    admit(client, d.union_ids[0])
    assert client.post("/coverage/summaries", headers=auth("staff", d.id)).status_code == 403
    r = client.post("/coverage/summaries", headers=auth())
    assert r.status_code == 202 and r.json()["summaries"] >= 2
    rows = await fetch(stack_config, "SELECT payload FROM outbox WHERE event_type = 'CoverageSummaryPublished'"
                       " AND key = $1 ORDER BY id DESC LIMIT 1", d.id)
    summary = rows[0]["payload"]
    assert summary["members_total"] == 1 and summary["unions_total"] == 1 and summary["level"] == "district"


async def test_a_merger_dissolution_move_or_founding_dated_in_the_future_changes_nothing(client, stack_config):
    d, other = found_district(client, unions=2), found_district(client)
    member = admit(client, d.union_ids[0]).json()["id"]
    tomorrow, too_early = str(local_today() + timedelta(days=1)), str(local_today() - timedelta(days=181))
    keys = [*d.union_ids, d.street_id, member]
    counts = ("SELECT (SELECT count(*) FROM outbox WHERE key = ANY($1::text[])) AS events,"
              " (SELECT count(*) FROM member_transfers WHERE member_id = $2::uuid) AS transfers")
    before = await fetch(stack_config, counts, keys, member)
    for path, body, field in (
            (f"/organisations/{d.union_ids[0]}/merge", {"into_org_id": d.union_ids[1]}, "merged_on"),
            (f"/organisations/{d.union_ids[0]}/dissolve", {"reason": "企业关闭"}, "dissolved_on"),
            (f"/organisations/{d.street_id}/move", {"new_parent_id": other.id}, "moved_on")):
        for day, refusal in ((tomorrow, "/problems/dated-in-the-future"), (too_early, "/problems/backdated-too-far")):
            r = client.post(path, headers=auth(), json=body | {field: day})
            assert r.status_code == 422 and r.json()["type"] == refusal, (path, r.text)
            assert r.json()["errors"][0]["field"] == f"body.{field}"
    r = client.post("/organisations", headers=auth(), json={
        "parent_id": d.street_id, "name": "未来公司工会", "level": "grassroots", "kind": "enterprise_union",
        "region_code": "510104", "established_on": tomorrow})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.established_on"
    assert await fetch(stack_config, counts, keys, member) == before
    assert client.get(f"/members/{member}", headers=auth()).json()["union_id"] == d.union_ids[0]
