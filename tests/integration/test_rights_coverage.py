"""The rights-protection rates of a subtree (维权建制率) and their yearly targets: set from above,
in whole percent, one per measure; outside the caller's subtree nothing exists. (The counts of each
measure are tested with their areas: test_collective_contracts.py, test_workers_congresses.py.)"""
from __future__ import annotations

import pytest

from membership.domain.rights import MEASURES
from tests.support.membership import found_district
from tests.support.people import auth
from unionops.clock import local_today

pytestmark = [pytest.mark.integration, pytest.mark.services("membership")]


def put_targets(client, org_id, body, headers=None, year=None):
    return client.put(f"/organisations/{org_id}/rights-targets/{year or local_today().year}",
                      headers=headers or auth(), json=body)


async def test_targets_are_set_from_above_in_whole_percent_and_replace_the_years_targets(client, records):
    d = found_district(client)
    r = put_targets(client, d.id, {"collective_contract": 50, "wage_bargaining": 30})
    assert r.status_code == 200, r.text
    r = put_targets(client, d.id, {"congress": 50}, headers=auth("staff", d.id))
    assert r.status_code == 403  # a unit does not set its own targets
    r = put_targets(client, d.street_id, {"congress": 50}, headers=auth("staff", d.id))
    assert r.status_code == 200, r.text
    assert put_targets(client, d.id, {"congress": 50, "openness": 90}).status_code == 200
    rows = await records.fetch("SELECT measure, target_percent FROM rights_targets WHERE org_id = $1"
                               " AND year = $2 ORDER BY measure", d.id, local_today().year)
    assert [tuple(r) for r in rows] == [("congress", 50), ("openness", 90)]


@pytest.mark.parametrize("body,field", [
    ({"congress": "50"}, "congress"), ({"congress": 50.0}, "congress"), ({"congress": True}, "congress"),
    ({"congress": 101}, "congress"), ({"congress": -1}, "congress"), ({"coverage": 50}, "coverage")])
async def test_a_target_is_a_whole_percent_of_a_known_measure(client, records, body, field):
    d = found_district(client)
    r = put_targets(client, d.id, body)
    assert r.status_code == 422, r.text
    assert any(field in e["field"] for e in r.json()["errors"])
    assert await records.fetchval("SELECT count(*) FROM rights_targets WHERE org_id = $1", d.id) == 0


async def test_outside_the_callers_subtree_the_rates_and_targets_answer_as_for_no_unit(client):
    d, other = found_district(client), found_district(client)
    unknown = "00000000-0000-4000-8000-000000000000"
    outside = client.get(f"/rights/coverage/{other.id}", headers=auth("staff", d.id))
    missing = client.get(f"/rights/coverage/{unknown}", headers=auth("staff", d.id))
    assert outside.status_code == missing.status_code == 404
    def without_instance(r):  # the instance is the path the caller asked for
        return {k: v for k, v in r.json().items() if k != "instance"}
    assert without_instance(outside) == without_instance(missing)
    refused = put_targets(client, other.street_id, {"congress": 50}, headers=auth("staff", d.id))
    assert refused.status_code == 404 and refused.json()["detail"] == missing.json()["detail"]


async def test_the_rates_of_a_unit_name_every_measure_in_the_plans_words(client):
    d = found_district(client)
    r = client.get(f"/rights/coverage/{d.id}", headers=auth("staff", d.id))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["year"] == local_today().year and body["as_of"] == local_today().isoformat()
    assert {rate["measure"] for rate in body["rates"]} <= set(MEASURES)
    assert all(rate["label"] == MEASURES[rate["measure"]] for rate in body["rates"])
    coming = client.get(f"/rights/coverage/{d.id}", headers=auth("staff", d.id),
                        params={"year": local_today().year + 1})
    assert coming.status_code == 200 and coming.json()["as_of"] == local_today().isoformat()
    coverage = client.get(f"/coverage/{d.id}", headers=auth("staff", d.id))
    assert coverage.status_code == 200 and coverage.json()["rights"] == body["rates"]
