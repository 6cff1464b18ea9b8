"""The year-end summaries a district files upward, through welfare's HTTP API: households on file
by level, aid paid by campaign and kind (checked against the fund ledger), cases by outcome, and
the 12351 hotline's tickets by category, on time, overdue and satisfaction."""
from __future__ import annotations

import uuid

import pytest

from tests.integration.test_campaigns import add_file, funded, launch, run
from tests.integration.test_case_workflow import Desk
from tests.integration.test_hotline import open_ticket
from tests.integration.test_visits import visit
from tests.support.people import auth
from tests.support.rows import projected
from unionops.auth import issue_token
from unionops.clock import local_today
from welfare.settings import Settings

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "welfare")]

YEAR = local_today().year


@pytest.fixture(scope="module")
def world(membership):
    east, west = membership.branch("新都"), membership.branch("温江")
    yield {"east": east, "west": west, "membership": membership}


def summary(kind: str, org_id, headers=None, **params):
    return f"/summaries/{kind}/{org_id}", {"params": {"year": YEAR, **params},
                                           "headers": headers or auth("staff", org_id)}


async def get(http, kind, org_id, headers=None):
    path, extra = summary(kind, org_id, headers)
    r = await http.get(path, **extra)
    assert r.status_code == 200, r.text
    return r.json()


def by(rows, key, value):
    return {r[key]: r[value] for r in rows}


async def test_the_welfare_summary_counts_households_by_level_aid_by_campaign_and_kind_and_cases_by_outcome(
        http, db, world):
    m = world["membership"]
    deep, relative, closed = (m.admit(world["east"].grassroots, n) for n in ("汇总深困", "汇总相对", "汇总已关"))
    elsewhere = m.admit(world["west"].grassroots, "汇总外区")
    await projected(db, members=[deep, relative, closed, elsewhere])
    await add_file(db, deep, "deep")
    await add_file(db, relative, "relative")
    await add_file(db, closed, "relative", status="closed")
    await add_file(db, elsewhere, "deep")
    campaign = await launch(http, world, await funded(http, world, 10_000_000))
    assert (await run(http, world, campaign["id"]))["paid_count"] == 2  # 深度 ¥3,000 + 相对 ¥2,000

    desk = Desk(http, db, world)
    fund = await desk.street_fund(1_000_000)
    paid_case, rejected_case = [], []
    for name, outcome in (("汇总医疗", paid_case), ("汇总驳回", rejected_case)):
        member = await desk.member(name)
        await desk.hardship_file(member)  # deep: no income
        outcome.append(await desk.open(member, kind="medical"))
        assert (await desk.assess(outcome[0], 150_000)).status_code == 200
    assert (await desk.approve(paid_case[0], fund)).status_code == 200
    assert (await http.post(f"/cases/{paid_case[0]}/pay", headers=desk.street_clerk)).status_code == 200
    assert (await http.post(f"/cases/{rejected_case[0]}/reject", headers=desk.street_chair,
                            json={"reason": "insufficient_evidence"})).status_code == 200

    gift = await http.post("/visits", json=visit(deep, gift_fen=20_000, fund_id=await funded(http, world, 100_000)),
                           headers=auth("staff", world["east"].district, "汇总走访"))
    assert gift.status_code == 201, gift.text

    s = await get(http, "welfare", world["east"].district)
    households = s["households"]
    assert households["on_file"] == 4 and households["closed"] == 1
    assert by(households["by_level"], "level", "on_file") == {"deep": 3, "relative": 1, "accident": 0}
    aid = s["aid_paid"]
    assert [(c["campaign_id"], c["payments"], c["net_fen"]) for c in aid["by_campaign"]] == [
        (campaign["id"], 2, 500_000)]
    assert (aid["cases"]["payments"], aid["cases"]["net_fen"]) == (1, 150_000)
    assert (aid["visits"]["payments"], aid["visits"]["net_fen"]) == (1, 20_000)
    assert by(aid["by_kind"], "kind", "net_fen") == {"living": 520_000, "medical": 150_000, "education": 0,
                                                       "employment": 0, "legal": 0, "temporary": 0}
    ledger = await db.fetchval(
        "SELECT sum(amount_fen) FROM ledger_entries WHERE kind = 'disbursement'"
        " AND (campaign_id = $1 OR case_id = ANY($2::uuid[]))", uuid.UUID(campaign["id"]),
        [uuid.UUID(paid_case[0]), uuid.UUID(gift.json()["id"])])
    assert aid["net_fen"] == aid["paid_fen"] == ledger == 670_000
    cases = s["cases"]
    assert cases["opened"] == 2 and by(cases["by_outcome"], "outcome", "cases") == {
        "paid": 1, "rejected": 1, "withdrawn": 0, "referred": 0, "in_progress": 0}

    west = await get(http, "welfare", world["west"].district)
    assert west["households"]["on_file"] == 1 and west["aid_paid"]["net_fen"] == 0


async def test_the_hotline_summary_counts_tickets_by_category_on_time_overdue_and_satisfaction(http, db, world):
    caller = world["membership"].admit(world["east"].grassroots, "汇总来电")
    await projected(db, members=[caller])
    street = auth("staff", world["east"].street, "街道-承办科")
    member = {"Authorization": "Bearer " + issue_token(Settings(), subject=str(caller), role="member",
                                                        org_id=world["east"].grassroots)}
    on_time, late, overdue = [await open_ticket(http, world, caller, "general") for _ in range(3)]
    await open_ticket(http, world, caller, "complex")
    for ticket, score in ((on_time, 5), (late, 2)):
        if ticket is late:  # its deadline passed before it was resolved
            await db.execute("UPDATE hotline_tickets SET due_at = now() - interval '1 minute' WHERE id = $1",
                             uuid.UUID(ticket["id"]))
        assert (await http.post(f"/hotline/tickets/{ticket['id']}/assign", json={"assignee": "维权干事-邱"},
                                headers=street)).status_code == 200
        assert (await http.post(f"/hotline/tickets/{ticket['id']}/resolve", json={"resolution": "已协调解决"},
                                headers=street)).status_code == 200
        assert (await http.post(f"/hotline/tickets/{ticket['id']}/rating", json={"satisfaction": score},
                                headers=member)).status_code == 200
    await db.execute("UPDATE hotline_tickets SET due_at = now() - interval '1 minute' WHERE id = $1",
                     uuid.UUID(overdue["id"]))

    s = await get(http, "hotline", world["east"].district)
    assert (s["opened"], s["resolved"], s["resolved_on_time"], s["overdue"]) == (4, 2, 1, 2)
    general = next(c for c in s["by_category"] if c["category"] == "general")
    assert (general["opened"], general["resolved_late"], general["open_overdue"]) == (3, 1, 1)
    complex_ = next(c for c in s["by_category"] if c["category"] == "complex")
    assert (complex_["opened"], complex_["open_within_deadline"], complex_["overdue"]) == (1, 1, 0)
    assert s["satisfaction"] == {"rated": 2, "average": 3.5, "satisfied": 1, "satisfied_rate": 0.5,
                                 "by_score": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}}
    assert (await get(http, "hotline", world["west"].district))["opened"] == 0


@pytest.mark.parametrize("kind", ["welfare", "hotline"])
async def test_a_unit_outside_the_callers_scope_has_no_summary_exactly_like_an_unknown_one(http, db, world, kind):
    await projected(db, units=[world["west"].district])
    east_staff = auth("staff", world["east"].district)
    replies = []
    for org_id in (world["west"].district, uuid.uuid4()):
        path, extra = summary(kind, org_id, east_staff)
        r = await http.get(path, **extra)
        replies.append((r.status_code, {k: v for k, v in r.json().items() if k != "instance"}))
    assert replies[0] == replies[1] and replies[0][0] == 404


@pytest.mark.parametrize("kind", ["welfare", "hotline"])
async def test_a_summary_of_a_future_year_is_refused_naming_the_year(http, world, kind):
    path, extra = summary(kind, world["east"].district, year=YEAR + 1)
    r = await http.get(path, **extra)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.year"
