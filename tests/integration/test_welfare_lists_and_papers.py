"""The lists an office of welfare works from and the papers it prints, through the HTTP API against
the real broker and PostgreSQL: cases, campaigns, funds, households due for re-verification and
hotline tickets — filtered, sorted, paged, within the caller's subtree, with names (masked for
auditors) and units; a run's unpaid files with names and the reason in Chinese; the payee rosters
(发放花名册) of a campaign run and of 金秋助学 as .xlsx whose totals are the ledger's."""
from __future__ import annotations

import io
import uuid
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from tests.integration.test_campaigns import add_file, campaign_body, funded
from tests.integration.test_golden_autumn import applicant, application, to_approval
from tests.support.people import ROOT, auth, new_resident_id
from tests.support.processes import next_year_typed_in
from tests.support.rows import projected
from unionops.clock import local_today
from unionops.pii import mask_name

pytestmark = [pytest.mark.integration,
              # as test_golden_autumn's (the welfare process is kept between the two modules)
              pytest.mark.services("membership", "welfare", env={"welfare": next_year_typed_in()})]

TODAY = local_today()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def world(membership):
    east, west = membership.branch("新都"), membership.branch("龙泉驿")
    second = membership.unit(east.street, f"新都纺织厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    people = {"周大福": membership.admit(east.grassroots, "周大福"), "吴小芳": membership.admit(east.grassroots, "吴小芳"),
              "郑国强": membership.admit(second, "郑国强"), "冯逾期": membership.admit(second, "冯逾期"),
              "西区人": membership.admit(west.grassroots, "西区人")}
    yield {"east": east, "west": west, "second": second, "people": people, "membership": membership,
           "branch": east}


@pytest.fixture
async def ready(world, db):
    await projected(db, members=world["people"].values(),
                    units=[world["second"], world["east"].grassroots, world["west"].grassroots])
    return world


def district(world, role="staff", name="区总-帮扶科"):
    return auth(role, world["east"].district, name)


async def open_case(http, world, member, kind="living") -> dict:
    r = await http.post("/cases", headers=auth("staff", world["east"].street, "街道-社工"), json={
        "member_id": str(member), "kind": kind, "source": "application", "summary": "家中老人住院，生活困难"})
    assert r.status_code == 201, r.text
    return r.json()


async def launched_and_run(http, db, world) -> tuple[dict, dict, str]:
    """A district campaign over files of new members in two grassroots unions, run once: 周大福,
    吴小芳 and 郑国强 paid, 冯逾期 not (the review overdue). Every earlier file of the district is
    closed first, and the members are new each time (the per-person yearly cap counts earlier runs)."""
    east = world["east"]
    await db.execute("UPDATE hardship_files SET status = 'closed', closed_on = $2, retain_until = $2,"
                     " close_reason = 'other' WHERE org_path @> ARRAY[$1]::uuid[] AND status = 'open'",
                     east.district, TODAY)
    admit = world["membership"].admit
    people = {"周大福": admit(east.grassroots, "周大福"), "吴小芳": admit(east.grassroots, "吴小芳"),
              "郑国强": admit(world["second"], "郑国强"), "冯逾期": admit(world["second"], "冯逾期")}
    await projected(db, members=people.values())
    await add_file(db, people["周大福"], "deep")
    await add_file(db, people["吴小芳"], "relative")
    await add_file(db, people["郑国强"], "accident")
    await add_file(db, people["冯逾期"], "deep", review_due_on=TODAY - timedelta(days=3))
    fund = await funded(http, world, 5_000_000)
    r = await http.post("/campaigns", json=campaign_body(world["east"].district, fund, budget_fen=2_000_000),
                        headers=district(world, name="区总主席"))
    assert r.status_code == 201, r.text
    campaign = r.json()
    r = await http.post(f"/campaigns/{campaign['id']}/runs", json={}, headers=district(world, name="区总出纳"))
    assert r.status_code == 201, r.text
    return campaign, r.json(), fund


# ---- lists --------------------------------------------------------------------------------------

async def test_cases_are_listed_by_status_kind_unit_and_date_with_names_masked_for_auditors(ready, http):
    p = ready["people"]
    living = await open_case(http, ready, p["周大福"], "living")
    legal = await open_case(http, ready, p["郑国强"], "legal")
    r = await http.get("/cases", params={"unit": str(ready["east"].district), "kind": "living", "status": "opened",
                                         "opened_from": str(TODAY), "opened_to": str(TODAY)}, headers=district(ready))
    assert r.status_code == 200, r.text
    page = r.json()
    ids = [c["id"] for c in page["items"]]
    assert living["id"] in ids and legal["id"] not in ids and page["total"] >= 1
    row = next(c for c in page["items"] if c["id"] == living["id"])
    assert row["member_name"] == "周大福" and row["union_name"].startswith("新都机械厂工会")
    assert row["kind_label"] == "生活救助" and row["status_label"] == "已立案"

    by_unit = [c["id"] for c in (await http.get("/cases", params={"unit": str(ready["second"]), "limit": 500},
                                                headers=district(ready))).json()["items"]]
    assert legal["id"] in by_unit and living["id"] not in by_unit

    audit = (await http.get("/cases", params={"kind": "living"}, headers=district(ready, "auditor"))).json()
    row = next(c for c in audit["items"] if c["id"] == living["id"])
    assert row["member_name"] == mask_name("周大福") and "周大福" not in str(audit)
    theirs = (await http.get(f"/members/{p['周大福']}/cases", headers=district(ready, "auditor"))).json()
    assert {c["member_name"] for c in theirs} == {mask_name("周大福")}

    first = (await http.get("/cases", params={"limit": 1}, headers=district(ready))).json()
    second = (await http.get("/cases", params={"limit": 1, "offset": 1}, headers=district(ready))).json()
    assert len(first["items"]) == 1 and first["items"] != second["items"] and first["total"] >= 2


async def test_a_list_outside_the_callers_subtree_is_empty(ready, http):
    await open_case(http, ready, ready["people"]["吴小芳"])
    west = auth("staff", ready["west"].district, "龙泉驿-帮扶科")
    for path in ("/cases", "/campaigns", "/funds"):
        r = await http.get(path, params={"unit": str(ready["east"].district)}, headers=west)
        assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == 0, (path, r.text)
    r = await http.get("/cases", params={"unit": str(uuid.uuid4())}, headers=west)   # unknown: the same answer
    assert r.status_code == 200 and r.json()["total"] == 0
    r = await http.get("/hardship-files/due", params={"unit": str(ready["east"].district)}, headers=west)
    assert r.status_code == 200 and r.json() == []


async def test_a_bad_list_parameter_is_refused_in_chinese_naming_it(ready, http):
    staff = district(ready)
    for path, params, field in (
            ("/cases", {"limit": 0}, "limit"), ("/cases", {"limit": 501}, "limit"),
            ("/cases", {"offset": -1}, "offset"), ("/cases", {"stauts": "opened"}, "stauts"),
            ("/cases", {"status": "lost"}, "status"), ("/cases", {"sort": "member_name; DROP TABLE x"}, "sort"),
            ("/cases", {"opened_from": "2026-13-01"}, "opened_from"), ("/cases", {"unit": "东区"}, "unit"),
            ("/campaigns", {"year": 1999}, "year"), ("/funds", {"limit": "many"}, "limit"),
            ("/hardship-files/due", {"within_days": 400}, "within_days"),
            ("/hardship-files/due", {"overdue": "perhaps"}, "overdue"),
            ("/hotline/tickets", {"category": "urgent"}, "category"), ("/hotline/tickets", {"page": 2}, "page")):
        r = await http.get(path, params=params, headers=staff)
        assert r.status_code == 422, (path, params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        errors = r.json()["errors"]
        assert any(field in e["field"] and field in e["message"] for e in errors), (path, errors)
        assert all(e["message"].startswith(f"字段 {e['field'].removeprefix('query.')}：") for e in errors), errors
    r = await http.get("/cases", params={"opened_from": str(TODAY), "opened_to": str(TODAY - timedelta(days=1))},
                       headers=staff)
    assert r.status_code == 422 and "opened_to" in r.text and "不能早于" in r.text


async def test_campaigns_are_listed_with_their_progress(ready, http, db):
    campaign, result, _ = await launched_and_run(http, db, ready)
    r = await http.get("/campaigns", params={"year": TODAY.year, "kind": "spring_festival", "status": "open",
                                             "unit": str(ready["east"].district)}, headers=district(ready))
    assert r.status_code == 200, r.text
    row = next(c for c in r.json()["items"] if c["id"] == campaign["id"])
    assert row["paid_count"] == 3 and row["unpaid_count"] == 1
    assert row["paid"]["fen"] == 300_000 + 200_000 + 250_000 == result["paid"]["fen"]
    assert row["budget"]["fen"] == 2_000_000 and row["budget_left"]["fen"] == 2_000_000 - 750_000
    assert row["paid_permille"] == 375 and row["org_name"].startswith("新都区总工会") and row["kind_label"] == "送温暖"


async def test_funds_are_listed_with_their_balance_and_unit(ready, http):
    fund = await funded(http, ready, 1_234_500)
    r = await http.get("/funds", params={"year": TODAY.year, "sort": "-available"}, headers=district(ready))
    assert r.status_code == 200, r.text
    row = next(f for f in r.json()["items"] if f["id"] == fund)
    assert row["balance"]["available"] == {"fen": 1_234_500, "yuan": "12,345.00元"}
    assert row["org_name"].startswith("新都区总工会")
    # the district sees its own funds, not the city's root fund it was allocated from
    assert all(f["org_id"] != str(ROOT) for f in r.json()["items"])


async def test_households_due_for_reverification_are_listed_soonest_first_with_names_and_units(ready, http, db):
    p = ready["people"]
    await db.execute("UPDATE hardship_files SET status = 'closed', closed_on = $2, retain_until = $2,"
                     " close_reason = 'other' WHERE member_id = ANY($1) AND status = 'open'", list(p.values()), TODAY)
    late = await add_file(db, p["冯逾期"], "deep", review_due_on=TODAY - timedelta(days=5))
    soon = await add_file(db, p["周大福"], "relative", review_due_on=TODAY + timedelta(days=10))
    later = await add_file(db, p["吴小芳"], "relative", review_due_on=TODAY + timedelta(days=100))
    r = await http.get("/hardship-files/due", params={"within_days": 30, "unit": str(ready["east"].district)},
                       headers=district(ready))
    assert r.status_code == 200, r.text
    listed = [f for f in r.json() if f["id"] in {str(late), str(soon), str(later)}]
    assert [f["id"] for f in listed] == [str(late), str(soon)]
    assert listed[0]["review_overdue"] is True and listed[1]["review_overdue"] is False
    assert listed[0]["member_name"] == "冯逾期" and listed[0]["union_name"].startswith("新都纺织厂工会")
    overdue = (await http.get("/hardship-files/due", params={"overdue": "true"}, headers=district(ready))).json()
    assert str(late) in [f["id"] for f in overdue] and str(soon) not in [f["id"] for f in overdue]
    audit = (await http.get("/hardship-files/due", headers=district(ready, "auditor"))).json()
    assert next(f for f in audit if f["id"] == str(late))["member_name"] == mask_name("冯逾期")


async def test_review_overdue_follows_the_date_without_waiting_for_the_sweep(ready, http, db):
    member = await applicant(ready, db, http, "钱复核")   # a file opened through the API
    file_id = await db.fetchval("SELECT id FROM hardship_files WHERE member_id = $1 AND status = 'open'", member)
    await db.execute("UPDATE hardship_files SET review_due_on = $2 WHERE id = $1", file_id, TODAY)
    f = await http.get(f"/hardship-files/{file_id}", headers=district(ready))
    assert f.status_code == 200 and f.json()["review_overdue"] is False   # due today: not yet overdue
    # The review date passes (moved back, as the calendar moves on); the hourly sweep has not run
    # since — the file and every list say overdue at once.
    await db.execute("UPDATE hardship_files SET review_due_on = $2 WHERE id = $1", file_id, TODAY - timedelta(days=1))
    assert await db.fetchval("SELECT review_overdue FROM hardship_files WHERE id = $1", file_id) is False
    f = await http.get(f"/hardship-files/{file_id}", headers=district(ready))
    assert f.status_code == 200 and f.json()["review_overdue"] is True
    listed = (await http.get("/hardship-files", params={"member_id": str(member), "status": "open"},
                             headers=district(ready))).json()
    assert [x["review_overdue"] for x in listed] == [True]
    due = (await http.get("/hardship-files/due", params={"within_days": 0, "overdue": "true"},
                          headers=district(ready))).json()
    assert str(file_id) in [x["id"] for x in due]


async def test_hotline_tickets_are_listed_by_deadline_overdue_first_with_unit_and_caller(ready, http, db):
    desk = auth("staff", ready["east"].district, "12351话务员")
    caller = ready["people"]["吴小芳"]
    made = []
    for _ in range(2):
        r = await http.post("/hotline/tickets", headers=desk, json={
            "member_id": str(caller), "category": "general", "summary": "工资被拖欠两个月"})
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    on_time, late = made
    await db.execute("UPDATE hotline_tickets SET due_at = now() - interval '2 hours' WHERE id = $1", uuid.UUID(late))
    r = await http.get("/hotline/tickets", params={"unit": str(ready["east"].district), "category": "general"},
                       headers=desk)
    assert r.status_code == 200, r.text
    order = [t["id"] for t in r.json() if t["id"] in made]
    assert order == [late, on_time]
    row = next(t for t in r.json() if t["id"] == late)
    assert row["overdue"] is True and row["org_name"].startswith("新都机械厂工会") and row["member_name"] == "吴小芳"
    audit = (await http.get("/hotline/tickets", headers=auth("auditor", ready["east"].district))).json()
    assert next(t for t in audit if t["id"] == late)["member_name"] == mask_name("吴小芳")
    paged = (await http.get("/hotline/tickets", params={"limit": 1, "offset": 1}, headers=desk)).json()
    assert len(paged) == 1


# ---- a run's unpaid files -------------------------------------------------------------------------

async def test_the_unpaid_list_of_a_run_names_the_member_the_unit_and_the_reason(ready, http, db):
    campaign, result, _ = await launched_and_run(http, db, ready)
    [skipped] = result["not_paid"]
    # The run's own answer is kept under its Idempotency-Key: masked there.
    assert skipped["member_name"] == mask_name("冯逾期") and skipped["reason_text"] == "困难档案逾期未复核"
    assert skipped["union_name"].startswith("新都纺织厂工会") and skipped["level_label"] == "深度困难"
    r = await http.get(f"/campaigns/{campaign['id']}/runs/{result['run_id']}/not-paid", headers=district(ready))
    assert r.status_code == 200, r.text
    [row] = r.json()["items"]
    assert row["member_name"] == "冯逾期" and row["union_name"].startswith("新都纺织厂工会")
    assert row["reason"] == "review_overdue" and row["reason_text"] == "困难档案逾期未复核"
    audit = (await http.get(f"/campaigns/{campaign['id']}/runs/{result['run_id']}/not-paid",
                            headers=district(ready, "auditor"))).json()
    assert audit["items"][0]["member_name"] == mask_name("冯逾期")
    west = await http.get(f"/campaigns/{campaign['id']}/runs/{result['run_id']}/not-paid",
                          headers=auth("staff", ready["west"].district))
    assert west.status_code == 404 and west.json()["detail"] == "帮扶活动不存在或不在您的管辖范围内"
    assert "冯" not in west.text and "errors" not in west.json()


# ---- papers ---------------------------------------------------------------------------------------

def sheet_rows(content: bytes) -> list[tuple]:
    return [tuple(c for c in row) for row in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)]


def yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def amounts(rows: list[tuple], label: str) -> dict[str, Decimal]:
    """The amount column of the rows whose second cell contains `label` (小计 / 合计)."""
    return {r[1]: Decimal(str(r[-2])) for r in rows if isinstance(r[1], str) and label in r[1]}


async def test_the_payee_roster_of_a_run_is_an_xlsx_whose_totals_are_the_ledgers(ready, http, db):
    campaign, result, fund = await launched_and_run(http, db, ready)
    r = await http.get(f"/campaigns/{campaign['id']}/runs/{result['run_id']}/roster",
                       headers=district(ready, name="区总主席"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX and r.headers["cache-control"] == "no-store"
    assert f"filename*=UTF-8''{quote(campaign['name'] + '发放花名册', safe='')}" in r.headers["content-disposition"]
    rows = sheet_rows(r.content)
    assert rows[0][0] == f"{campaign['name']}发放花名册"
    header = next(row for row in rows if row[0] == "序号")
    assert list(header) == ["序号", "单位", "姓名", "家庭人口", "困难等级", "金额（元）", "领取人签名"]
    payees = [row for row in rows if isinstance(row[0], int)]
    assert sorted(row[2] for row in payees) == ["吴小芳", "周大福", "郑国强"]   # real names, to sign
    assert all(row[-1] in (None, "") for row in payees)                    # the signature cell is empty

    ledger = await db.fetch("SELECT e.amount_fen, p.union_id FROM ledger_entries e"
                            " JOIN campaign_payments p ON p.ledger_entry_id = e.id"
                            " WHERE e.campaign_id = $1 AND e.kind = 'disbursement'", uuid.UUID(campaign["id"]))
    by_unit: dict[str, int] = {}
    for e in ledger:
        by_unit[str(e["union_id"])] = by_unit.get(str(e["union_id"]), 0) + e["amount_fen"]
    subtotals = amounts(rows, "小计")
    names = {str(ready["east"].grassroots): "新都机械厂工会", str(ready["second"]): "新都纺织厂工会"}
    assert len(subtotals) == len(by_unit) == 2
    for union_id, fen in by_unit.items():
        [label] = [k for k in subtotals if k.startswith(names[union_id])]
        assert subtotals[label] == yuan(fen)
    [total] = amounts(rows, "合计").values()
    audit = (await http.get(f"/funds/{fund}/audit", params={"from": str(TODAY), "to": str(TODAY)},
                            headers=auth())).json()
    assert total == yuan(sum(e["amount_fen"] for e in ledger)) == yuan(audit["totals"]["disbursement"]["fen"])


async def test_a_reversed_payment_leaves_the_roster_and_its_totals_are_the_ledgers_net(ready, http, db):
    campaign, result, fund = await launched_and_run(http, db, ready)
    wrong = await db.fetchrow("SELECT p.ledger_entry_id, m.name FROM campaign_payments p"
                              " JOIN members m ON m.member_id = p.member_id WHERE p.run_id = $1 ORDER BY m.name LIMIT 1",
                              uuid.UUID(result["run_id"]))
    r = await http.post("/reversals", json={"entry_id": str(wrong["ledger_entry_id"]), "reason": "重复发放"},
                        headers=district(ready, name="区总出纳"))
    assert r.status_code == 201, r.text
    r = await http.post(f"/reversals/{r.json()['id']}/approve", json={}, headers=district(ready, name="区总主席"))
    assert r.status_code == 200, r.text
    r = await http.get(f"/campaigns/{campaign['id']}/runs/{result['run_id']}/roster",
                       headers=district(ready, name="区总主席"))
    assert r.status_code == 200, r.text
    rows = sheet_rows(r.content)
    payees = [row for row in rows if isinstance(row[0], int)]
    assert len(payees) == 2 and wrong["name"] not in {row[2] for row in payees}
    net = await db.fetchval(
        "SELECT sum(CASE WHEN e.kind = 'disbursement' THEN e.amount_fen ELSE -e.amount_fen END) FROM ledger_entries e"
        " WHERE e.campaign_id = $1 AND e.kind = 'disbursement'"
        " OR e.reverses_entry_id IN (SELECT id FROM ledger_entries WHERE campaign_id = $1 AND kind = 'disbursement')",
        uuid.UUID(campaign["id"]))
    [total] = amounts(rows, "合计").values()
    assert total == yuan(net) == yuan(sum(int(row[5] * 100) for row in payees))


async def test_only_the_organising_units_officers_download_the_roster(ready, http, db):
    campaign, result, _ = await launched_and_run(http, db, ready)
    path = f"/campaigns/{campaign['id']}/runs/{result['run_id']}/roster"
    for who in (auth("federation_admin", ROOT), auth("service", ready["east"].district)):
        r = await http.get(path, headers=who)
        assert r.status_code == 403 and "周大福" not in r.text, r.text
        assert r.json()["detail"] == "发放花名册含实名信息，仅限主办单位的工作人员下载"
    r = await http.get(path, headers=district(ready, "auditor"))
    assert r.status_code == 403
    # the street below the organiser, and another district, do not see the campaign at all
    for who in (auth("staff", ready["east"].street, "街道-社工"), auth("staff", ready["west"].district)):
        r = await http.get(path, headers=who)
        assert r.status_code == 404 and r.json()["detail"] == "帮扶活动不存在或不在您的管辖范围内"
    r = await http.get(f"/campaigns/{campaign['id']}/runs/{uuid.uuid4()}/roster", headers=district(ready))
    assert r.status_code == 404


async def test_the_golden_autumn_roster_is_an_xlsx_whose_total_is_the_ledgers(ready, http, db):
    people = {"grassroots": auth("staff", ready["east"].grassroots, "工会主席-何"),
              "street": auth("staff", ready["east"].street, "街道-罗"),
              "district": auth("staff", ready["east"].district, "区总-复核员"),
              "city": auth("federation_admin", ROOT, "市总-集体决定")}
    fund = await funded(http, ready, 2_000_000)
    member = await applicant(ready, db, http, "林秀兰")
    r = await http.post("/cases", json=application(member, new_resident_id(female=False), name="林小雨"),
                        headers=people["grassroots"])
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    await to_approval(http, people, case_id, fund)
    r = await http.post("/golden-autumn/notices", headers=people["district"],
                        json={"org_id": str(ready["east"].district)})
    assert r.status_code == 201, r.text
    await db.execute("UPDATE golden_autumn_notices SET posted_on = posted_on - 30, ends_on = ends_on - 30,"
                     " payable_from = payable_from - 30 WHERE id = $1", uuid.UUID(r.json()["id"]))
    assert (await http.post(f"/cases/{case_id}/pay", headers=people["street"])).status_code == 200

    params = {"org_id": str(ready["east"].district), "year": TODAY.year}
    r = await http.get("/golden-autumn/roster", params=params, headers=people["district"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX and "filename*=UTF-8''" in r.headers["content-disposition"]
    rows = sheet_rows(r.content)
    header = next(row for row in rows if row[0] == "序号")
    assert list(header) == ["序号", "单位", "职工姓名", "学生姓名", "学段", "家庭人口", "困难等级", "金额（元）", "领取人签名"]
    mine = [row for row in rows if isinstance(row[0], int) and row[2] == "林秀兰"]
    assert [(row[3], row[4]) for row in mine] == [("林小雨", "普通高中")]
    ledger = await db.fetch(
        "SELECT e.amount_fen FROM assistance_cases c JOIN golden_autumn_students s ON s.case_id = c.id"
        " JOIN ledger_entries e ON e.id = c.disbursement_id WHERE c.kind = 'education' AND $1 = ANY(c.org_path)"
        " AND s.grant_year = $2", ready["east"].district, TODAY.year)
    [total] = amounts(rows, "合计").values()
    assert total == yuan(sum(e["amount_fen"] for e in ledger)) and total == Decimal(str(mine[0][-2]))
    r = await http.get("/golden-autumn/roster", params=params, headers=people["city"])
    assert r.status_code == 403
    for who in (people["street"], auth("staff", ready["west"].district)):
        assert (await http.get("/golden-autumn/roster", params=params, headers=who)).status_code == 404
    r = await http.get("/golden-autumn/roster", params=params | {"year": "this"}, headers=people["district"])
    assert r.status_code == 422 and "year" in r.json()["errors"][0]["message"]
