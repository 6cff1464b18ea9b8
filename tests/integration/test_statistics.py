"""The figures an office files upward (统计): coverage flows where a reorganisation is not a
transfer, and the union's statistical report (工会组织和会员统计) as JSON and as a report form."""
from __future__ import annotations

import io
import json
import uuid
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from membership.domain.statistics import AGE_BAND_STARTS
from tests.integration.test_member_import import person, upload, xlsx
from tests.support.membership import admit, change_status, found_district, register_employer, transfer
from tests.support.people import auth, new_credit_code
from unionops.clock import local_today

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership")]


def admitted(client, union_id, **extra) -> str:
    r = admit(client, union_id, **extra)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def moved(client, member_id, to_union_id) -> None:
    r = transfer(client, member_id, to_union_id=to_union_id)
    assert r.status_code == 201, r.text


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


# ---- the statistical report (工会组织和会员统计) ------------------------------------------------------

def report(client, org_id, year=None, **params) -> dict:
    r = client.get(f"/statistics/{org_id}", headers=auth("staff", org_id),
                   params={"year": year or local_today().year, **params})
    assert r.status_code == 200, r.text
    return r.json()


def age_band(birth_date: str, on: date) -> int:
    born = date.fromisoformat(birth_date)
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return sum(age >= start for start in AGE_BAND_STARTS)


def by_key(rows, key, value="members"):
    return {r[key]: r[value] for r in rows}


async def test_the_report_counts_members_by_gender_age_band_migrant_status_and_employer_ownership(client):
    d = found_district(client, unions=3)
    state_union, plain_union, joint = d.union_ids
    r = client.post("/employers", headers=auth(), json={"org_id": d.street_id, "name": "统计国有机械厂",
                                                        "ownership": "state_owned", "headcount": 300,
                                                        "union_id": state_union})
    assert r.status_code == 201, r.text
    people = [admit(client, state_union, female=True, is_migrant_worker=True).json(),
              admit(client, state_union, female=False).json(),
              admit(client, plain_union, female=True).json(),
              admit(client, plain_union, female=False, is_migrant_worker=True).json()]
    # one moves to a registered non-public employer (its credit code says the ownership)
    code = register_employer(client, d.street_id, joint)
    assert transfer(client, people[3]["id"], to_union_id=joint, new_employer_credit_code=code).status_code == 201
    stats = report(client, d.id)
    members = stats["members"]
    assert members["total"] == 4
    assert members["by_gender"] == {"male": 2, "female": 2}
    assert members["migrant_workers"] == 2
    today = local_today()
    expected = [0] * (len(AGE_BAND_STARTS) + 1)
    for p in people:
        expected[age_band(p["birth_date"], today)] += 1
    assert [b["members"] for b in members["by_age_band"]] == expected
    assert by_key(members["by_employer_ownership"], "ownership") == {
        "state_owned": 2, "collective": 0, "non_public": 1, "unknown": 1}
    assert members["public_sector"] == 2


async def test_the_report_counts_units_by_level_and_kind_and_the_years_founding_against_the_target(client):
    d = found_district(client, unions=2)
    r = client.post("/organisations", headers=auth(), json={
        "parent_id": d.street_id, "name": f"统计联合工会{uuid.uuid4().hex[:4]}", "level": "grassroots",
        "kind": "joint_grassroots_union", "region_code": "510104"})
    assert r.status_code == 201, r.text
    assert client.post(f"/organisations/{d.union_ids[1]}/merge", headers=auth(),
                       json={"into_org_id": d.union_ids[0]}).status_code == 200
    year = local_today().year
    assert client.put(f"/organisations/{d.id}/targets/{year}", headers=auth(),
                      json={"unions_target": 6}).status_code == 200
    units = report(client, d.id)["units"]
    counts = {(u["level"], u["kind"]): (u["total"], u["founded_this_year"]) for u in units["by_level_kind"]}
    assert counts == {("district", "district_federation"): (1, 1), ("street", "street_union"): (1, 1),
                      ("grassroots", "enterprise_union"): (1, 2), ("grassroots", "joint_grassroots_union"): (1, 1)}
    assert units["grassroots_total"] == 2
    assert (units["founded_this_year"], units["target"], units["progress"]) == (3, 6, 0.5)
    labels = {u["kind"]: u["kind_label"] for u in units["by_level_kind"]}
    assert labels["joint_grassroots_union"] == "联合基层工会"


async def test_members_at_the_start_of_the_year_plus_its_flows_are_the_members_at_its_end(client):
    d, other = found_district(client, unions=3), found_district(client)
    year = local_today().year
    admitted(client, d.union_ids[0], joined_on=f"{year - 1}-06-01")
    leaver, goer = admitted(client, d.union_ids[0]), admitted(client, d.union_ids[1])
    moved(client, admitted(client, other.union_ids[0]), d.union_ids[0])
    moved(client, goer, other.union_ids[0])
    assert change_status(client, leaver, "left", "resigned").status_code == 201
    admitted(client, d.union_ids[2])
    assert client.post(f"/organisations/{d.union_ids[2]}/merge", headers=auth(),
                       json={"into_org_id": d.union_ids[1]}).status_code == 200
    stats = report(client, d.id)
    m, f = stats["members"], stats["flows"]
    assert (m["at_start_of_year"], f["joins"], f["transfers_in"], f["transfers_out"], f["leaves"]) == (1, 3, 1, 1, 1)
    assert (f["reorganised_in"], f["reorganised_out"]) == (0, 0)
    assert m["total"] == m["at_start_of_year"] + f["joins"] + f["transfers_in"] - f["transfers_out"] - f["leaves"] == 3


async def test_a_past_years_report_counts_that_years_members_by_beijing_dates(client):
    d = found_district(client)
    year = local_today().year
    admitted(client, d.union_ids[0], joined_on=f"{year - 1}-12-31")
    admitted(client, d.union_ids[0], joined_on=f"{year}-01-01")
    last = report(client, d.id, year - 1)
    assert last["as_of"] == f"{year - 1}-12-31"
    assert (last["members"]["at_start_of_year"], last["flows"]["joins"], last["members"]["total"]) == (0, 1, 1)
    this = report(client, d.id, year)
    assert (this["members"]["at_start_of_year"], this["flows"]["joins"], this["members"]["total"]) == (1, 1, 2)


async def test_a_report_for_a_future_year_is_refused_naming_the_year(client):
    d = found_district(client)
    r = client.get(f"/statistics/{d.id}", headers=auth("staff", d.id), params={"year": local_today().year + 1})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.year"
    assert "统计年度" in r.json()["detail"]


async def test_a_unit_outside_the_callers_scope_has_no_report_exactly_like_an_unknown_one(client):
    a, b = found_district(client), found_district(client)
    outside = client.get(f"/statistics/{b.id}", headers=auth("staff", a.id))
    unknown = client.get(f"/statistics/{uuid.uuid4()}", headers=auth("staff", a.id))
    def said(r):
        return r.status_code, {k: v for k, v in r.json().items() if k != "instance"}
    assert said(outside) == said(unknown) and outside.status_code == 404
    form = client.get(f"/statistics/{b.id}", headers=auth("staff", a.id), params={"format": "xlsx"})
    assert said(form) == said(unknown)


def form_figures(content: bytes) -> tuple[list[tuple], dict[str, object]]:
    """The form's unit rows (level, kind, total, founded) and its label → figure rows."""
    sheet = load_workbook(io.BytesIO(content)).active
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    start = next(i for i, r in enumerate(rows) if r[0] == "层级") + 1
    end = next(i for i, r in enumerate(rows) if r[0] == "合计")
    return rows, {"units": rows[start:end], "totals": rows[end], **{r[0]: r[2] for r in rows[end:] if r[0]}}


async def test_the_report_form_xlsx_carries_the_reports_figures_and_its_totals_add_up(client, records):
    d, other = found_district(client, unions=2), found_district(client)
    for female in (True, True, False):
        admitted(client, d.union_ids[0], female=female)
    moved(client, admitted(client, d.union_ids[1]), other.union_ids[0])
    stats = report(client, d.id)
    r = client.get(f"/statistics/{d.id}", headers=auth("staff", d.id), params={"format": "xlsx"})
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    rows, form = form_figures(r.content)
    assert rows[0][0] == f"工会组织和会员统计表（{local_today().year}年）" and stats["org_name"] in rows[1][0]
    assert form["totals"][2] == sum(u[2] for u in form["units"]) == sum(u["total"] for u in stats["units"]["by_level_kind"])
    assert form["totals"][3] == sum(u[3] for u in form["units"]) == 4
    members = stats["members"]
    held = await records.fetchval("SELECT count(*) FROM members m JOIN org_units o ON o.id = m.union_id"
                                  " WHERE $1 = ANY(o.path) AND m.status <> 'left'", uuid.UUID(d.id))
    assert form["期末会员数"] == members["total"] == held == 3
    assert form["其中：男"] + form["其中：女"] == form["期末会员数"] and form["其中：女"] == 2
    assert sum(v for k, v in form.items() if k.startswith("年龄：")) == members["total"]
    assert sum(v for k, v in form.items() if k.startswith("所在单位：")) == members["total"]
    assert (form["新入会"], form["转入"], form["转出"], form["退会"]) == (4, 0, 1, 0)


async def test_an_admission_may_name_the_employers_credit_code_and_the_report_counts_its_ownership(client, records):
    d = found_district(client)
    code = new_credit_code()
    r = client.post("/employers", headers=auth(), json={"org_id": d.street_id, "name": "统计集体商店",
                                                        "ownership": "collective", "credit_code": code})
    assert r.status_code == 201, r.text
    admitted(client, d.union_ids[0], employer="统计集体商店", employer_credit_code=code.lower())
    before = await records.counts()
    bad = admit(client, d.union_ids[0], employer_credit_code="91510104ABCDEFGHI0")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.employer_credit_code"
    assert await records.counts() == before
    ownership = by_key(report(client, d.id)["members"]["by_employer_ownership"], "ownership")
    assert ownership["collective"] == 1 and sum(ownership.values()) == 1


async def test_an_imported_register_counts_its_members_but_not_as_joins_of_this_year(client):
    d = found_district(client)
    year = local_today().year
    register = [person(d.union_ids[0], n, 入会日期=f"{year - 3}-05-01") for n in range(3)]
    r = upload(client, xlsx(register), name="存量会员.xlsx")
    assert r.status_code == 201, r.text
    stats = report(client, d.id)
    assert (stats["members"]["at_start_of_year"], stats["flows"]["joins"], stats["members"]["total"]) == (3, 0, 3)
    assert report(client, d.id, year - 3)["flows"]["joins"] == 3


async def test_an_import_of_the_existing_register_is_counted_as_registered_not_as_joins(client):
    d = found_district(client)
    today = local_today()
    new_joins = [person(d.union_ids[0], n, 入会日期=str(today)) for n in range(2)]
    register = [person(d.union_ids[0], n, 入会日期=str(today)) for n in range(2, 5)]
    assert upload(client, xlsx(new_joins), name="新会员.xlsx", intake="new_joins").status_code == 201
    r = upload(client, xlsx(register), name="存量会员.xlsx", intake="register")
    assert r.status_code == 201, r.text
    flows = report(client, d.id)["flows"]
    assert (flows["joins"], flows["registered"]) == (2, 3)
    month = client.get(f"/coverage/{d.id}", params={"year": today.year}, headers=auth()).json()["months"][today.month - 1]
    assert (month["joins"], month["registered"]) == (2, 3)


async def test_a_merger_across_districts_counts_as_a_reorganisation_in_the_month_of_its_date(client):
    a, b = found_district(client), found_district(client)
    for _ in range(2):
        admitted(client, a.union_ids[0], joined_on=str(local_today() - timedelta(days=60)))
    merged_on = local_today() - timedelta(days=40)
    r = client.post(f"/organisations/{a.union_ids[0]}/merge", headers=auth(),
                    json={"into_org_id": b.union_ids[0], "merged_on": str(merged_on)})
    assert r.status_code == 200, r.text
    for org_id, figure in ((a.id, "reorganised_out"), (b.id, "reorganised_in")):
        month = report(client, org_id, merged_on.year)["months"][merged_on.month - 1]
        assert (month[figure], month["transfers_in"], month["transfers_out"]) == (2, 0, 0)
