"""The figures an office files upward (统计): coverage flows where a reorganisation is not a
transfer, and the union's statistical report (工会组织和会员统计) as JSON and as a report form."""
from __future__ import annotations

import json

import pytest

from tests.support.membership import admit, found_district, transfer
from tests.support.people import auth
from unionops.clock import local_today

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership")]


def admitted(client, union_id, **extra) -> str:
    r = admit(client, union_id, **extra)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def moved(client, member_id, to_union_id) -> None:
    r = transfer(client, member_id, to_union_id=to_union_id)
    assert r.status_code in (200, 201), r.text


def this_month(client, org_id) -> dict:
    c = client.get(f"/coverage/{org_id}", headers=auth("staff", org_id))
    assert c.status_code == 200, c.text
    return c.json()["months"][local_today().month - 1]


async def test_a_merger_or_dissolution_inside_a_district_is_not_a_transfer(client):
    d, other = found_district(client, unions=3), found_district(client)
    moved(client, admitted(client, other.union_ids[0]), d.union_ids[0])  # one real transfer in
    for _ in range(3):
        admitted(client, d.union_ids[1])
    admitted(client, d.union_ids[2])
    before = this_month(client, d.id)
    assert client.post(f"/organisations/{d.union_ids[1]}/merge", headers=auth(),
                       json={"into_org_id": d.union_ids[0]}).status_code == 200
    assert client.post(f"/organisations/{d.union_ids[2]}/dissolve", headers=auth(),
                       json={"reason": "企业关闭"}).status_code == 200
    after = this_month(client, d.id)
    assert before["transfers_in"] == after["transfers_in"] == 1
    assert after["transfers_out"] == 0 and after["joins"] == 4


async def test_a_transfer_out_of_a_subtree_is_counted_as_a_transfer_out_and_one_inside_as_neither(client):
    d, other = found_district(client, unions=2), found_district(client)
    leaving, staying = admitted(client, d.union_ids[0]), admitted(client, d.union_ids[0])
    moved(client, leaving, other.union_ids[0])
    moved(client, staying, d.union_ids[1])
    district = this_month(client, d.id)
    assert (district["transfers_in"], district["transfers_out"]) == (0, 1)
    first_union = this_month(client, d.union_ids[0])
    assert (first_union["transfers_in"], first_union["transfers_out"]) == (0, 2)
    assert this_month(client, other.id)["transfers_in"] == 1


async def test_coverage_summaries_carry_transfers_out_and_no_reorganisation(client, records):
    d, other = found_district(client, unions=2), found_district(client)
    moved(client, admitted(client, d.union_ids[0]), other.union_ids[0])
    for _ in range(2):
        admitted(client, d.union_ids[1])
    assert client.post(f"/organisations/{d.union_ids[1]}/merge", headers=auth(),
                       json={"into_org_id": d.union_ids[0]}).status_code == 200
    assert client.post("/coverage/summaries", headers=auth()).status_code == 202
    rows = await records.fetch("SELECT payload FROM outbox WHERE event_type = 'CoverageSummaryPublished'"
                               " AND key = $1 ORDER BY id DESC LIMIT 1", d.id)
    summary = json.loads(rows[0]["payload"])
    assert (summary["transfers_in_period"], summary["transfers_out_period"]) == (0, 1)
