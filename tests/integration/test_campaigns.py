"""Seasonal campaigns (送温暖 …) in the welfare process: launching commits the budget from a fund;
a run pays every eligible hardship file of the organising unit's subtree at once, each file at
most once per campaign, within the per-payment and per-person-per-year caps and never beyond the
budget; closing returns what is left. Members arrive through membership; hardship files are put
straight into welfare's `hardship_files` table (the hardship API's own tests cover opening them)."""
from __future__ import annotations

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


async def test_the_budget_is_never_exceeded_and_deep_hardship_is_paid_first(ready, http, db):
    p = ready["people"]
    await close_open_files(db, p)
    rel = await add_file(db, p["李相对"], "relative", opened_on=TODAY - timedelta(days=900))
    deep_late = await add_file(db, p["张深困"], "deep", opened_on=TODAY - timedelta(days=10))
    deep_early = await add_file(db, p["周新档"], "deep", opened_on=TODAY - timedelta(days=500))
    acc = await add_file(db, p["王意外"], "accident")
    fund = await funded(http, ready, 20_000_000)
    # A kind no earlier test paid these people in, so no yearly cap interferes.
    c = await launch(http, ready, fund, budget_fen=800_000, kind="golden_autumn")  # 3,000 + 3,000 fit; 2,500 not
    result = await run(http, ready, c["id"])
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
    c = await launch(http, ready, fund, budget_fen=100_000)
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
