"""Seasonal campaigns (送温暖 …) in the welfare process: launching commits the budget from a fund;
a run pays every eligible hardship file of the organising unit's subtree at once, each file at
most once per campaign, within the per-payment and per-person-per-year caps and never beyond the
budget; closing returns what is left. Members arrive through membership; hardship files are put
straight into welfare's `hardship_files` table (the hardship API's own tests cover opening them)."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest

from contracts.events import AidDisbursed, CampaignLaunched
from tests.support.people import ROOT, auth
from tests.support.waiting import eventually
from unionops.clock import local_today
from welfare.queries.funds import sums_from_entries

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "welfare")]

TODAY = local_today()


@pytest.fixture(scope="module")
def world(membership):
    east, west = membership.branch("成华"), membership.branch("武侯")
    people = {name: membership.admit(east.grassroots, name) for name in
              ("张深困", "李相对", "王意外", "赵逾期", "钱退休", "孙已关", "周新档", "吴两档",
                            "冯补录", "陈未来")}
    people["郑外区"] = membership.admit(west.grassroots, "郑外区")
    r = membership.http.post(f"/members/{people['钱退休']}/status-changes",
                             json={"status": "retained", "reason": "retired"})
    assert r.status_code == 201, r.text
    yield {"east": east, "west": west, "people": people}


@pytest.fixture
async def ready(world, db):
    """Welfare knows the units and the members (retired one included, as retained)."""
    people = world["people"]
    await eventually(lambda: db.fetchval("SELECT count(*) = $2 FROM members WHERE member_id = ANY($1)",
                                         list(people.values()), len(people)), what="members in welfare")
    await eventually(lambda: db.fetchval("SELECT status = 'retained' FROM members WHERE member_id = $1",
                                         people["钱退休"]), what="the retirement in welfare")
    await eventually(lambda: db.fetchval("SELECT 1 FROM org_units WHERE org_id = $1", world["west"].grassroots),
                     what="units in welfare")
    return world


async def add_file(db, member_id, level, *, opened_on=None, status="open", review_due_on=None,
                   review_overdue=False) -> uuid.UUID:
    """A hardship file as the hardship service stores it (sensitive columns hold test bytes)."""
    m = await db.fetchrow("SELECT union_id, union_name, org_path FROM members WHERE member_id = $1", member_id)
    file_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO hardship_files (id, member_id, union_id, union_name, org_path, file_kind, level, status,"
        " opened_on, review_due_on, review_overdue, closed_on, retain_until, close_reason, causes, household_size,"
        " minimum_living_standard_fen, annual_income_enc, unavoidable_costs_enc, largest_event_cost_enc,"
        " per_capita_monthly_enc, opened_by)"
        " VALUES ($1, $2, $3, $4, $5, 'worker', $6, $7, $8, $9, $10, $11, $12, $13, '{illness}', 3, 120000,"
        " '\\x00', '\\x00', '\\x00', '\\x00', 'test')",
        file_id, member_id, m["union_id"], m["union_name"], m["org_path"], level, status,
        opened_on or TODAY - timedelta(days=100), review_due_on or TODAY + timedelta(days=200), review_overdue,
        TODAY if status == "closed" else None, TODAY + timedelta(days=3650) if status == "closed" else None,
        "out_of_hardship" if status == "closed" else None)
    return file_id


async def funded(http, world, amount_fen: int) -> str:
    """The east district's fund holding `amount_fen`, allocated from the city's root fund."""
    tag = uuid.uuid4().hex[:6]
    r = await http.post("/funds", json={"org_id": str(ROOT), "name": f"帮扶资金{tag}", "year": TODAY.year},
                        headers=auth())
    assert r.status_code == 201, r.text
    city = r.json()["id"]
    r = await http.post(f"/funds/{city}/budget", json={"amount_fen": amount_fen}, headers=auth())
    assert r.status_code == 201, r.text
    r = await http.post("/funds", json={"org_id": str(world["east"].district), "name": f"区帮扶资金{tag}",
                                        "year": TODAY.year, "parent_fund_id": city}, headers=auth())
    assert r.status_code == 201, r.text
    fund = r.json()["id"]
    r = await http.post(f"/funds/{city}/allocations", json={"to_fund_id": fund, "amount_fen": amount_fen},
                        headers=auth())
    assert r.status_code == 201, r.text
    return fund


def campaign_body(org_id, fund_id, budget_fen=10_000_000, **extra) -> dict:
    return {"name": f"{TODAY.year}年春节送温暖{uuid.uuid4().hex[:4]}", "kind": "spring_festival",
            "org_id": str(org_id), "fund_id": fund_id, "budget_fen": budget_fen,
            "level_amounts": {"deep": 300_000, "accident": 250_000, "relative": 200_000},
            "starts_on": str(TODAY - timedelta(days=1)), "ends_on": str(TODAY + timedelta(days=30))} | extra


async def launch(http, world, fund, **extra) -> dict:
    r = await http.post("/campaigns", json=campaign_body(world["east"].district, fund, **extra),
                        headers=auth("staff", world["east"].district, "区总主席"))
    assert r.status_code == 201, r.text
    return r.json()


async def run(http, world, campaign_id) -> dict:
    r = await http.post(f"/campaigns/{campaign_id}/runs", json={}, headers=auth("staff", world["east"].district,
                                                                                   "区总出纳"))
    assert r.status_code == 201, r.text
    return r.json()


async def close_open_files(db, people):
    """Each test starts from its own files: earlier tests' files are closed."""
    await db.execute("UPDATE hardship_files SET status = 'closed', closed_on = $2, retain_until = $2,"
                     " close_reason = 'other' WHERE member_id = ANY($1) AND status = 'open'", list(people.values()), TODAY)


async def test_launching_a_campaign_commits_its_budget_and_publishes_campaign_launched(ready, http, db):
    fund = await funded(http, ready, 20_000_000)
    c = await launch(http, ready, fund, budget_fen=5_000_000)
    assert c["per_payment_cap"] == {"fen": 300_000, "yuan": "3,000.00元"}  # 送温暖 defaults
    assert c["per_person_year_cap"] == {"fen": 600_000, "yuan": "6,000.00元"}
    assert c["budget_left"]["fen"] == 5_000_000 and c["kind_label"] == "送温暖"
    f = (await http.get(f"/funds/{fund}", headers=auth())).json()
    assert f["balance"]["committed"]["fen"] == 5_000_000 and f["balance"]["available"]["fen"] == 15_000_000
    payload = await db.fetchval("SELECT payload FROM outbox WHERE event_type = 'CampaignLaunched' AND key = $1",
                                c["id"])
    assert CampaignLaunched.model_validate(payload).budget_fen == 5_000_000


async def test_a_campaign_beyond_the_fund_is_refused(ready, http, db):
    fund = await funded(http, ready, 1_000_000)
    r = await http.post("/campaigns", json=campaign_body(ready["east"].district, fund, budget_fen=1_000_001),
                        headers=auth())
    assert r.status_code == 409 and r.json()["type"] == "/problems/insufficient-funds"
    assert "10,000.00元" in r.json()["detail"]


async def test_a_level_amount_above_the_per_payment_cap_is_refused(ready, http):
    fund = await funded(http, ready, 1_000_000)
    body = campaign_body(ready["east"].district, fund, budget_fen=100_000,
                         level_amounts={"deep": 300_001})
    r = await http.post("/campaigns", json=body, headers=auth())
    assert r.status_code == 422 and r.json()["type"] == "/problems/over-cap"


async def test_a_run_pays_every_eligible_file_of_the_subtree_with_aid_disbursed(ready, http, db):
    p = ready["people"]
    await close_open_files(db, p)
    paid_files = {
        await add_file(db, p["张深困"], "deep"): 300_000,
        await add_file(db, p["李相对"], "relative"): 200_000,
        await add_file(db, p["王意外"], "accident"): 250_000,
    }
    overdue = await add_file(db, p["赵逾期"], "deep", review_due_on=TODAY - timedelta(days=1))
    retired = await add_file(db, p["钱退休"], "deep")
    closed = await add_file(db, p["孙已关"], "deep", status="closed")
    other_district = await add_file(db, p["郑外区"], "deep")
    fund = await funded(http, ready, 20_000_000)
    c = await launch(http, ready, fund)

    result = await run(http, ready, c["id"])
    assert result["paid_count"] == 3 and result["paid"]["fen"] == 750_000
    assert result["not_paid_by_reason"] == {"review_overdue": 1, "member_not_active": 1}
    reasons = {n["file_id"]: n["reason"] for n in result["not_paid"]}
    assert reasons == {str(overdue): "review_overdue", str(retired): "member_not_active"}
    assert str(closed) not in reasons and str(other_district) not in reasons

    payments = await db.fetch("SELECT file_id, amount_fen, id, ledger_entry_id FROM campaign_payments"
                              " WHERE campaign_id = $1", uuid.UUID(c["id"]))
    assert {r["file_id"]: r["amount_fen"] for r in payments} == paid_files
    events = await db.fetch("SELECT payload FROM outbox WHERE event_type = 'AidDisbursed' AND key = ANY($1)",
                            [str(r["id"]) for r in payments])
    assert len(events) == 3
    for e in events:
        event = AidDisbursed.model_validate(e["payload"])  # the contract, field for field
        assert event.campaign_id == uuid.UUID(c["id"]) and event.kind == "living" and event.paid_on == TODAY
    entries = await db.fetch("SELECT kind, case_id, campaign_id, approver FROM ledger_entries WHERE id = ANY($1)",
                             [r["ledger_entry_id"] for r in payments])
    assert all(e["kind"] == "disbursement" and e["approver"] == "区总主席" for e in entries)
    f = (await http.get(f"/funds/{fund}", headers=auth())).json()["balance"]
    assert f["disbursed"]["fen"] == 750_000 and f["committed"]["fen"] == 10_000_000 - 750_000
    sums = await sums_from_entries(db, [uuid.UUID(fund)])
    assert sums[uuid.UUID(fund)]["disbursed_fen"] == 750_000  # the balance row agrees with the ledger


async def test_a_file_is_paid_once_per_campaign(ready, http, db):
    p = ready["people"]
    await close_open_files(db, p)
    await add_file(db, p["张深困"], "deep")
    fund = await funded(http, ready, 20_000_000)
    c = await launch(http, ready, fund)
    assert (await run(http, ready, c["id"]))["paid_count"] == 1
    again = await run(http, ready, c["id"])
    assert again["paid_count"] == 0 and again["not_paid_count"] == 0
    newcomer = await add_file(db, p["周新档"], "relative")  # newly eligible: only it is paid
    third = await run(http, ready, c["id"])
    assert third["paid_count"] == 1 and third["paid"]["fen"] == 200_000
    assert await db.fetchval("SELECT count(*) FROM campaign_payments WHERE campaign_id = $1",
                             uuid.UUID(c["id"])) == 2
    assert await db.fetchval("SELECT file_id FROM campaign_payments WHERE run_id = $1",
                             uuid.UUID(third["run_id"])) == newcomer


async def test_per_person_year_cap_is_respected(ready, http, db):
    """¥3,000 a payment, ¥6,000 a person a year across 送温暖 campaigns of the year: a third
    campaign pays nothing, a lower cap trims the payment."""
    p = ready["people"]
    await close_open_files(db, p)
    await add_file(db, p["吴两档"], "deep")
    fund = await funded(http, ready, 50_000_000)
    already = await db.fetchval(
        "SELECT coalesce(sum(amount_fen), 0) FROM campaign_payments WHERE member_id = $1 AND year = $2"
        " AND campaign_kind = 'spring_festival'", p["吴两档"], TODAY.year)
    assert already == 0
    first = await launch(http, ready, fund)
    assert (await run(http, ready, first["id"]))["paid"]["fen"] == 300_000
    trimmed = await launch(http, ready, fund, per_person_year_cap_fen=500_000)
    assert (await run(http, ready, trimmed["id"]))["paid"]["fen"] == 200_000  # 5,000 − 3,000
    second = await launch(http, ready, fund)
    result = await run(http, ready, second["id"])
    assert result["paid"]["fen"] == 100_000  # 6,000 − 5,000
    third = await launch(http, ready, fund)
    result = await run(http, ready, third["id"])
    assert result["paid_count"] == 0 and result["not_paid_by_reason"] == {"person_year_cap_reached": 1}
    other_kind = await launch(http, ready, fund, kind="mid_autumn", level_amounts={"deep": 100_000})
    assert (await run(http, ready, other_kind["id"]))["paid"]["fen"] == 100_000  # another kind, its own cap


async def test_by_level_never_exceeds_the_budget_and_pays_deep_hardship_first(ready, http, db):
    p = ready["people"]
    await close_open_files(db, p)
    rel = await add_file(db, p["李相对"], "relative", opened_on=TODAY - timedelta(days=900))
    deep_late = await add_file(db, p["张深困"], "deep", opened_on=TODAY - timedelta(days=10))
    deep_early = await add_file(db, p["周新档"], "deep", opened_on=TODAY - timedelta(days=500))
    acc = await add_file(db, p["王意外"], "accident")
    fund = await funded(http, ready, 20_000_000)
    # A kind no earlier test paid these people in, so no yearly cap interferes.
    c = await launch(http, ready, fund, budget_fen=800_000, kind="golden_autumn",  # 3,000 + 3,000 fit; 2,500 not
                     allocation="by_level")
    result = await run(http, ready, c["id"])
    assert result["allocation"] == "by_level" and result["need"]["shortfall"]["fen"] == 250_000
    assert await db.fetchval("SELECT allocation FROM campaign_runs WHERE id = $1", uuid.UUID(result["run_id"])) \
        == "by_level"
    assert result["paid"]["fen"] == 600_000 and result["budget_left"]["fen"] == 200_000
    paid = {r["file_id"] for r in await db.fetch("SELECT file_id FROM campaign_payments WHERE campaign_id = $1",
                                                 uuid.UUID(c["id"]))}
    assert paid == {deep_early, deep_late}
    assert [(n["file_id"], n["reason"]) for n in result["not_paid"]] == [
        (str(acc), "budget_exhausted"), (str(rel), "budget_exhausted")]  # in payment order
    # Closing returns the unused budget to the fund.
    r = await http.post(f"/campaigns/{c['id']}/close", headers=auth("staff", ready["east"].district))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed" and r.json()["budget_left"]["fen"] == 0
    f = (await http.get(f"/funds/{fund}", headers=auth())).json()["balance"]
    assert f["committed"]["fen"] == 0 and f["available"]["fen"] == 20_000_000 - 600_000
    r = await http.post(f"/campaigns/{c['id']}/runs", json={}, headers=auth())
    assert r.status_code == 409 and r.json()["type"] == "/problems/campaign-closed"


async def test_staff_of_another_district_cannot_run_or_see_the_campaign(ready, http):
    fund = await funded(http, ready, 1_000_000)
    c = await launch(http, ready, fund, budget_fen=100_000, allocation="by_level")  # less than earlier files need
    outsider = auth("staff", ready["west"].district)
    assert (await http.get(f"/campaigns/{c['id']}", headers=outsider)).status_code == 404
    assert (await http.post(f"/campaigns/{c['id']}/runs", json={}, headers=outsider)).status_code == 404
    r = await http.post("/campaigns", json=campaign_body(ready["east"].district, fund), headers=outsider)
    unknown = await http.post("/campaigns", json=campaign_body(uuid.uuid4(), fund), headers=outsider)
    assert r.status_code == unknown.status_code == 422 and r.json()["detail"] == unknown.json()["detail"]


async def test_a_campaign_run_dated_in_the_future_pays_nothing_and_tells_no_one(ready, http, db):
    p = ready["people"]
    await close_open_files(db, p)
    await add_file(db, p["陈未来"], "deep")
    fund = await funded(http, ready, 20_000_000)
    c = await launch(http, ready, fund)
    r = await http.post(f"/campaigns/{c['id']}/runs", json={"run_on": str(TODAY + timedelta(days=1))},
                        headers=auth("staff", ready["east"].district, "区总出纳"))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/dated-in-the-future"
    assert r.json()["errors"][0]["field"] == "body.run_on" and "发放日期" in r.json()["errors"][0]["message"]
    assert await db.fetchval("SELECT count(*) FROM campaign_runs WHERE campaign_id = $1", uuid.UUID(c["id"])) == 0
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'AidDisbursed'"
                             " AND payload->>'campaign_id' = $1", c["id"]) == 0
    f = (await http.get(f"/funds/{fund}", headers=auth())).json()["balance"]
    assert f["disbursed"]["fen"] == 0


async def test_a_backdated_campaign_run_is_bounded_and_its_ledger_entries_say_who_backdated_it(ready, http, db):
    p = ready["people"]
    await close_open_files(db, p)
    await add_file(db, p["冯补录"], "deep", opened_on=TODAY - timedelta(days=300))
    fund = await funded(http, ready, 20_000_000)
    c = await launch(http, ready, fund, starts_on=str(TODAY - timedelta(days=200)))
    cashier = auth("staff", ready["east"].district, "区总出纳")
    r = await http.post(f"/campaigns/{c['id']}/runs", json={"run_on": str(TODAY - timedelta(days=91))}, headers=cashier)
    assert r.status_code == 422 and r.json()["type"] == "/problems/backdated-too-far"
    assert r.json()["errors"][0]["field"] == "body.run_on" and "90天" in r.json()["errors"][0]["message"]
    assert await db.fetchval("SELECT count(*) FROM campaign_runs WHERE campaign_id = $1", uuid.UUID(c["id"])) == 0

    r = await http.post(f"/campaigns/{c['id']}/runs", json={"run_on": str(TODAY - timedelta(days=10))}, headers=cashier)
    assert r.status_code == 201, r.text
    entries = await db.fetch("SELECT e.reason, e.actor FROM ledger_entries e JOIN campaign_payments p"
                             " ON p.ledger_entry_id = e.id WHERE p.campaign_id = $1", uuid.UUID(c["id"]))
    assert entries and all("补录10天" in e["reason"] and "区总出纳" in e["reason"] for e in entries)
    paid_on = await db.fetchval("SELECT payload->>'paid_on' FROM outbox WHERE event_type = 'AidDisbursed'"
                                " AND payload->>'campaign_id' = $1", c["id"])
    assert paid_on == str(TODAY - timedelta(days=10))


# ---- a budget short of the need (issue 13) ---------------------------------------------------------

SMALL = {"deep": 30_000, "accident": 25_000, "relative": 20_000}  # kind "other": far below its caps


async def three_households(db, p) -> dict:
    """深度困难 ¥300, 意外致困 ¥250, 相对困难 ¥200: ¥750 in all."""
    await close_open_files(db, p)
    return {"deep": await add_file(db, p["张深困"], "deep"), "accident": await add_file(db, p["王意外"], "accident"),
            "relative": await add_file(db, p["李相对"], "relative")}


async def test_a_shortfall_without_a_rule_is_refused_at_launch_naming_need_and_budget(ready, http, db):
    await three_households(db, ready["people"])
    fund = await funded(http, ready, 1_000_000)
    body = campaign_body(ready["east"].district, fund, budget_fen=50_000, kind="other", level_amounts=SMALL)
    staff = auth("staff", ready["east"].district, "区总主席")
    preview = await http.post("/campaigns/preview", json=body, headers=staff)
    assert preview.status_code == 200, preview.text
    assert preview.json() | {"as_of": None} == {
        "as_of": None, "households": 3, "need": {"fen": 75_000, "yuan": "750.00元"},
        "budget": {"fen": 50_000, "yuan": "500.00元"}, "shortfall": {"fen": 25_000, "yuan": "250.00元"}, "fits": False}
    r = await http.post("/campaigns", json=body, headers=staff)
    assert r.status_code == 409 and r.json()["type"] == "/problems/budget-shortfall"
    assert "3户共需750.00元，预算500.00元，缺口250.00元" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "body.allocation"
    assert r.json()["need"]["shortfall"]["fen"] == 25_000
    assert await db.fetchval("SELECT count(*) FROM campaigns WHERE name = $1", body["name"]) == 0
    assert (await http.get(f"/funds/{fund}", headers=auth())).json()["balance"]["available"]["fen"] == 1_000_000
    # The same campaign within its budget needs no rule, and its answer says so.
    fits = await launch(http, ready, fund, budget_fen=75_000, kind="other", level_amounts=SMALL)
    assert fits["allocation"] is None and fits["need_at_launch"]["fits"] is True
    assert fits["need_at_launch"]["households"] == 3


async def test_a_run_facing_a_new_shortfall_is_refused_unless_it_names_a_rule(ready, http, db):
    p = ready["people"]
    await close_open_files(db, p)
    deep = await add_file(db, p["张深困"], "deep")
    fund = await funded(http, ready, 1_000_000)
    c = await launch(http, ready, fund, budget_fen=50_000, kind="other", level_amounts=SMALL)
    await add_file(db, p["王意外"], "accident")  # opened after the launch: now ¥550 for ¥500
    await add_file(db, p["李相对"], "relative")
    staff = auth("staff", ready["east"].district, "区总出纳")
    r = await http.post(f"/campaigns/{c['id']}/runs", json={}, headers=staff)
    assert r.status_code == 409 and r.json()["type"] == "/problems/budget-shortfall"
    assert r.json()["need"]["need"]["fen"] == 75_000 and r.json()["need"]["budget"]["fen"] == 50_000
    assert await db.fetchval("SELECT count(*) FROM campaign_runs WHERE campaign_id = $1", uuid.UUID(c["id"])) == 0
    r = await http.post(f"/campaigns/{c['id']}/runs", json={"allocation": "by_level"}, headers=staff)
    assert r.status_code == 201, r.text
    assert r.json()["paid"]["fen"] == 30_000 and r.json()["allocation"] == "by_level"
    assert {n["reason"] for n in r.json()["not_paid"]} == {"budget_exhausted"}
    assert {row["file_id"] for row in await db.fetch("SELECT file_id FROM campaign_payments WHERE campaign_id = $1",
                                                     uuid.UUID(c["id"]))} == {deep}


async def test_pro_rata_gives_every_household_the_same_share_and_spends_exactly_the_budget(ready, http, db):
    files = await three_households(db, ready["people"])
    files["deep2"] = await add_file(db, ready["people"]["周新档"], "deep", opened_on=TODAY - timedelta(days=700))
    fund = await funded(http, ready, 1_000_000)
    budget = 70_001  # need ¥1,050: every household gets 70,001/105,000 of its amount
    c = await launch(http, ready, fund, budget_fen=budget, kind="other", level_amounts=SMALL, allocation="pro_rata")
    assert c["allocation"] == "pro_rata" and c["need_at_launch"]["need"]["fen"] == 105_000
    result = await run(http, ready, c["id"])
    paid = {r["file_id"]: r["amount_fen"] for r in await db.fetch(
        "SELECT file_id, amount_fen FROM campaign_payments WHERE campaign_id = $1", uuid.UUID(c["id"]))}
    full = {files["deep"]: 30_000, files["deep2"]: 30_000, files["accident"]: 25_000, files["relative"]: 20_000}
    assert sum(paid.values()) == budget and result["paid"]["fen"] == budget and result["budget_left"]["fen"] == 0
    for file_id, amount in full.items():  # rounded down, the leftover fen to the largest remainders
        assert amount * budget // 105_000 <= paid[file_id] <= amount * budget // 105_000 + 1 and paid[file_id] < amount
    # 20,000.29 / 20,000.29 / 16,666.91 / 13,333.52: 69,999 rounded down, the 2 fen left to the two largest remainders
    assert [paid[files[k]] for k in ("deep", "deep2", "accident", "relative")] == [20_000, 20_000, 16_667, 13_334]
    # Every household paid less is in the unpaid list with its code, what it wanted and what it got.
    listed = {n["file_id"]: n for n in result["not_paid"]}
    assert set(listed) == {str(f) for f in full} and {n["reason"] for n in listed.values()} == {"pro_rata_share"}
    assert listed[str(files["relative"])]["wanted_fen"] == 20_000 and listed[str(files["relative"])]["paid_fen"] == 13_334
    assert result["not_paid_by_reason"] == {"pro_rata_share": 4}
    run_row = await db.fetchrow("SELECT allocation, need_fen, budget_fen FROM campaign_runs WHERE id = $1",
                                uuid.UUID(result["run_id"]))
    assert dict(run_row) == {"allocation": "pro_rata", "need_fen": 105_000, "budget_fen": budget}
    entries = await db.fetchval("SELECT sum(amount_fen) FROM ledger_entries WHERE campaign_id = $1 AND kind = 'disbursement'",
                                uuid.UUID(c["id"]))
    balance = (await http.get(f"/funds/{fund}", headers=auth())).json()["balance"]
    assert entries == budget == 1_000_000 - balance["available"]["fen"] - balance["committed"]["fen"]


async def test_cap_pays_each_household_at_most_the_cap_and_lists_those_cut(ready, http, db):
    files = await three_households(db, ready["people"])
    fund = await funded(http, ready, 1_000_000)
    c = await launch(http, ready, fund, budget_fen=70_000, kind="other", level_amounts=SMALL, allocation="cap",
                     household_cap_fen=22_000)
    assert c["household_cap"]["fen"] == 22_000
    result = await run(http, ready, c["id"])
    paid = {r["file_id"]: r["amount_fen"] for r in await db.fetch(
        "SELECT file_id, amount_fen FROM campaign_payments WHERE campaign_id = $1", uuid.UUID(c["id"]))}
    assert paid == {files["deep"]: 22_000, files["accident"]: 22_000, files["relative"]: 20_000}
    assert result["paid"]["fen"] == 64_000 and result["budget_left"]["fen"] == 6_000
    assert [(n["file_id"], n["reason"], n["paid_fen"]) for n in result["not_paid"]] == [
        (str(files["deep"]), "household_cap", 22_000), (str(files["accident"]), "household_cap", 22_000)]
    assert await db.fetchval("SELECT allocation FROM campaign_runs WHERE id = $1", uuid.UUID(result["run_id"])) == "cap"
    r = await http.post("/campaigns", json=campaign_body(ready["east"].district, fund, allocation="cap"),
                        headers=auth("staff", ready["east"].district))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.household_cap_fen"


# ---- reversal (冲正) of a wrong payment (issue 13) -------------------------------------------------

async def paid_once(ready, http, db) -> tuple[str, dict, uuid.UUID]:
    """A campaign that paid 张深困 ¥300: (fund, the payment row, its ledger entry)."""
    p = ready["people"]
    await close_open_files(db, p)
    await add_file(db, p["张深困"], "deep")
    fund = await funded(http, ready, 1_000_000)
    c = await launch(http, ready, fund, budget_fen=30_000, kind="other", level_amounts=SMALL)
    await run(http, ready, c["id"])
    payment = await db.fetchrow("SELECT * FROM campaign_payments WHERE campaign_id = $1", uuid.UUID(c["id"]))
    r = await http.post(f"/campaigns/{c['id']}/close", headers=auth("staff", ready["east"].district))
    assert r.status_code == 200, r.text
    return fund, dict(payment), payment["ledger_entry_id"]


async def test_a_wrong_payment_is_reversed_once_with_four_eyes_and_the_audit_shows_both_entries(ready, http, db):
    fund, payment, entry = await paid_once(ready, http, db)
    district = ready["east"].district
    asker, checker = auth("staff", district, "区总出纳"), auth("staff", district, "区总主席")
    r = await http.post("/reversals", json={"entry_id": str(entry), "reason": "重复发放：该户已由街道工会发放"},
                        headers=asker)
    assert r.status_code == 201, r.text
    reversal = r.json()
    assert reversal["status"] == "requested" and reversal["amount"]["fen"] == 30_000
    assert (await http.get(f"/funds/{fund}", headers=auth())).json()["balance"]["available"]["fen"] == 970_000
    # Four eyes: the officer who asked cannot approve.
    r = await http.post(f"/reversals/{reversal['id']}/approve", json={}, headers=asker)
    assert r.status_code == 403 and r.json()["type"] == "/problems/four-eyes"
    r = await http.post(f"/reversals/{reversal['id']}/approve", json={"note": "核实无误"}, headers=checker)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "approved" and done["requested_by"] == "区总出纳" and done["decided_by"] == "区总主席"
    assert done["decided_at"] and done["reversal_entry_id"]
    balance = (await http.get(f"/funds/{fund}", headers=auth())).json()["balance"]
    assert balance["available"]["fen"] == 1_000_000 and balance["disbursed"]["fen"] == 0
    # The campaign still shows what it paid out of its budget, and what of it was reversed since.
    shown = (await http.get(f"/campaigns/{payment['campaign_id']}", headers=auth())).json()
    assert (shown["paid"]["fen"], shown["reversed"]["fen"], shown["reversed_count"]) == (30_000, 30_000, 1)
    listed = (await http.get("/campaigns", params={"limit": 500}, headers=auth())).json()["items"]
    [row] = [c for c in listed if c["id"] == str(payment["campaign_id"])]
    assert (row["reversed"]["fen"], row["reversed_count"]) == (30_000, 1)
    # The money invariant: what the ledger paid out net is what the fund no longer holds.
    sums = (await sums_from_entries(db, [uuid.UUID(fund)]))[uuid.UUID(fund)]
    assert sums["available_fen"] == balance["available"]["fen"] and sums["disbursed_fen"] == 0
    # The household is told (AidReversed, keyed like the payment).
    event = await db.fetchval("SELECT payload FROM outbox WHERE key = $1 AND event_type = 'AidReversed'",
                              str(payment["id"]))
    assert event["member_id"] == str(payment["member_id"]) and event["amount_fen"] == 30_000
    assert event["ledger_entry_id"] == str(entry) and event["reversal_entry_id"] == done["reversal_entry_id"]
    # The audit CSV lists the payment and its reversal, who asked, who approved and why.
    r = await http.get(f"/funds/{fund}/audit", params={"from": str(TODAY), "to": str(TODAY), "format": "csv"},
                       headers=auth("auditor"))
    rows = {row[-1]: row for row in csv.reader(io.StringIO(r.text.lstrip("\ufeff"))) if len(row) == 14}
    assert rows[str(entry)][2] == "disbursement" and rows[str(entry)][3] == "30000"
    back = rows[done["reversal_entry_id"]]
    assert back[2] == "reversal" and back[3] == "30000" and back[11] == str(entry)
    assert (back[8], back[9], back[12]) == ("区总主席", "区总出纳", "重复发放：该户已由街道工会发放")
    # Once only; and a reversal is never reversed.
    r = await http.post("/reversals", json={"entry_id": str(entry), "reason": "再次冲正"}, headers=asker)
    assert r.status_code == 409 and r.json()["type"] == "/problems/already-reversed"
    r = await http.post("/reversals", json={"entry_id": done["reversal_entry_id"], "reason": "冲正有误"}, headers=asker)
    assert r.status_code == 409 and r.json()["type"] == "/problems/reversal-of-reversal"
    r = await http.post(f"/reversals/{reversal['id']}/approve", json={}, headers=auth("staff", district, "第三人"))
    assert r.status_code == 409 and r.json()["type"] == "/problems/reversal-decided"
    assert await db.fetchval("SELECT count(*) FROM ledger_entries WHERE reverses_entry_id = $1", entry) == 1


async def test_a_reversal_needs_a_reason_and_a_payment_within_scope(ready, http, db):
    fund, payment, entry = await paid_once(ready, http, db)
    staff = auth("staff", ready["east"].district, "区总出纳")
    for reason in (None, "", "   ", "a\u0000b", "长" * 501):
        body = {"entry_id": str(entry)} | ({"reason": reason} if reason is not None else {})
        r = await http.post("/reversals", json=body, headers=staff)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.reason", (reason, r.text)
    outsider = await http.post("/reversals", json={"entry_id": str(entry), "reason": "越权冲正"},
                               headers=auth("staff", ready["west"].district))
    unknown = await http.post("/reversals", json={"entry_id": str(uuid.uuid4()), "reason": "越权冲正"},
                              headers=auth("staff", ready["west"].district))
    assert outsider.status_code == unknown.status_code == 404 and outsider.json()["detail"] == unknown.json()["detail"]
    commitment = await db.fetchval("SELECT commitment_id FROM ledger_entries WHERE id = $1", entry)
    r = await http.post("/reversals", json={"entry_id": str(commitment), "reason": "不是支付"}, headers=staff)
    assert r.status_code == 409 and r.json()["type"] == "/problems/not-reversible"
    # A rejected request books nothing; the payment may be asked for again.
    asked = (await http.post("/reversals", json={"entry_id": str(entry), "reason": "疑似重复"}, headers=staff)).json()
    again = await http.post("/reversals", json={"entry_id": str(entry), "reason": "疑似重复"}, headers=staff)
    assert again.status_code == 409 and again.json()["type"] == "/problems/reversal-pending"
    r = await http.post(f"/reversals/{asked['id']}/reject", json={"note": "核实并非重复"},
                        headers=auth("staff", ready["east"].district, "区总主席"))
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert await db.fetchval("SELECT count(*) FROM ledger_entries WHERE reverses_entry_id = $1", entry) == 0
    assert (await http.get(f"/reversals/{asked['id']}", headers=auth("staff", ready["west"].district))).status_code == 404
