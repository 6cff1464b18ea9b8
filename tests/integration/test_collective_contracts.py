"""Collective contracts (集体合同, 工资集体协商) through the HTTP API against the real broker and
PostgreSQL: the written offer answered within 20 days (an overdue one raised once and told to the
union's rights officer), the workers' vote (two thirds present, more than half of all in favour),
the term of one to three years, the 15-day review of the labour administration, the six-month
renewal window and expiry, and the rates against the targets set from above — within the
caller's subtree, refused input naming the field and writing nothing.

Deadlines: the dates of offers and contracts lie in the past, and the periodic check
(`commands.collective_contracts.watch_deadlines`) is run with the day it would run on."""
from __future__ import annotations

import io
import json
import uuid
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from membership.commands.collective_contracts import watch_deadlines
from membership.domain.collective_contracts import add_years
from tests.integration.test_notify_service import db_fetch, new_address
from tests.integration.test_notify_subscriptions import add_officer, count_mails, mails
from tests.support.people import auth, new_credit_code
from tests.support.processes import client_fixture
from tests.support.waiting import eventually
from unionops.clock import local_today
from unionops.unit_of_work import UnitOfWork

# as test_notify_subscriptions' (the processes are kept between the two modules)
pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "notify", sinks=("smtpsink",),
                                   env={"notify": {"NOTIFY_POLL_INTERVAL_SECONDS": "0.5"}}, subject="membership")]

TODAY = local_today()
notify = client_fixture(lambda stack: stack.url("notify"))


@pytest.fixture(scope="module")
def branch(membership):
    return membership.branch("集体协商")


def officer_of(branch):
    return auth("staff", branch.district, "区总-维权部")


async def employer(http, branch, union_id=None, *, above=True, ownership="non_public", name=None) -> str:
    r = await http.post("/employers", headers=auth(), json={
        "org_id": str(branch.street), "union_id": str(union_id) if union_id else None,
        "name": name or f"协商测试{uuid.uuid4().hex[:6]}有限公司", "credit_code": new_credit_code(),
        "ownership": ownership, "headcount": 300, "above_designated_size": above})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def open_contract(http, org_id, employer_ids, *, kind="comprehensive", coverage="enterprise",
                        headers=None) -> dict:
    r = await http.post("/collective-contracts", headers=headers or auth(), json={
        "org_id": str(org_id), "title": f"测试{uuid.uuid4().hex[:4]}集体合同", "kind": kind, "coverage": coverage,
        "employer_ids": [str(e) for e in employer_ids]})
    assert r.status_code == 201, r.text
    return r.json()


async def post(http, contract, step, body, status=200, headers=None) -> dict:
    r = await http.post(f"/collective-contracts/{contract['id']}/{step}", json=body, headers=headers or auth())
    assert r.status_code == status, r.text
    return r.json()


async def adopted_draft(http, org_id, employer_ids, on: date, **kw) -> dict:
    """A negotiation up to an adopted draft, every step dated `on`."""
    c = await open_contract(http, org_id, employer_ids, **kw)
    offer = await post(http, c, "offers", {"offered_by": "union", "sent_on": str(on), "received_on": str(on)}, 201)
    await post(http, c, f"offers/{offer['id']}/answer", {"answer": "accepted", "answered_on": str(on)})
    await post(http, c, "sessions", {"held_on": str(on), "summary": "双方就工资调整幅度达成一致"}, 201)
    vote = await post(http, c, "vote", {"body": "all_workers", "voted_on": str(on), "electorate": 60, "present": 50,
                                        "in_favour": 45})
    assert vote["outcome"] == "adopted"
    return c


async def contract_in_force(http, org_id, employer_ids, starts_on: date, *, received_on: date | None = None,
                            years: int = 2, **kw) -> dict:
    """Signed on `starts_on` for `years`, received by the labour administration on `received_on`."""
    c = await adopted_draft(http, org_id, employer_ids, starts_on, **kw)
    await post(http, c, "signing", {"signed_on": str(starts_on), "union_representative": "李协商",
                                    "employer_representative": "王厂长", "starts_on": str(starts_on),
                                    "ends_on": str(add_years(starts_on, years) - timedelta(days=1))})
    return await post(http, c, "submission", {"received_on": str(received_on or starts_on)})


async def check(db, today: date) -> dict:
    async with db.transaction():
        return await watch_deadlines(UnitOfWork(db), today)


async def events(db, contract_id, event_type) -> list[dict]:
    rows = await db.fetch("SELECT payload FROM outbox WHERE key = $1 AND event_type = $2 ORDER BY id",
                          str(contract_id), event_type)
    return [r["payload"] for r in rows]


async def test_an_offer_unanswered_for_20_days_is_overdue_and_the_officer_is_told(http, db, branch, notify, sink,
                                                                                 membership):
    union = membership.unit(branch.street, f"要约测试厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    officer = add_officer(notify, str(union), "钱维权", ["rights_officer"])
    street_officer = add_officer(notify, str(branch.street), "街道维权", ["rights_officer"])
    e = await employer(http, branch, union)
    c = await open_contract(http, union, [e])
    received = TODAY - timedelta(days=21)
    offer = await post(http, c, "offers", {"offered_by": "union", "sent_on": str(received - timedelta(days=1)),
                                           "received_on": str(received)}, 201)
    assert offer["answer_due_on"] == str(received + timedelta(days=20))
    # Day 20 is still in time; the day after, the offer is overdue — raised once however often it runs.
    assert await check(db, received + timedelta(days=20)) is not None
    assert await events(db, c["id"], "CollectiveOfferOverdue") == []
    await check(db, TODAY)
    await check(db, TODAY)
    [overdue] = await events(db, c["id"], "CollectiveOfferOverdue")
    assert overdue["offer_id"] == offer["id"] and overdue["offered_by"] == "union"
    assert overdue["org_path"][-1] == str(union)
    detail = (await http.get(f"/collective-contracts/{c['id']}", headers=auth())).json()
    assert detail["offers"][0]["overdue"] is True and detail["status"] == "negotiating"

    [mail] = [m for m in await mails(sink, officer["email"], 1) if m["subject"].startswith("【超期提醒】")]
    assert c["title"] in mail["subject"] and "钱维权同志" in mail["text"] and "劳动保障行政部门" in mail["text"]
    assert count_mails(sink, street_officer["email"]) == 0   # the nearest unit with a rights officer only

    # A late answer is still recorded, and says it was late.
    answered = await post(http, c, f"offers/{offer['id']}/answer", {"answer": "accepted", "answered_on": str(TODAY)})
    assert answered["late"] is True


async def test_an_employers_offer_is_the_unions_to_answer_and_its_officer_is_reminded_before_the_deadline(
        http, db, branch, notify, sink, membership):
    union = membership.unit(branch.street, f"企业要约厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    officer = add_officer(notify, str(union), "孙维权", ["rights_officer"])
    c = await open_contract(http, union, [await employer(http, branch, union)], kind="wage")
    received = TODAY - timedelta(days=16)   # due in 4 days
    await post(http, c, "offers", {"offered_by": "employer", "sent_on": str(received), "received_on": str(received)},
               201)
    await check(db, TODAY)
    await check(db, TODAY)
    assert len(await events(db, c["id"], "CollectiveOfferAnswerDue")) == 1
    assert await events(db, c["id"], "CollectiveOfferOverdue") == []
    subjects = {m["subject"] for m in await mails(sink, officer["email"], 2)}
    assert any(s.startswith("【工作事项】企业发出集体协商要约") for s in subjects)
    assert any(s.startswith("【到期提醒】") for s in subjects)


async def test_the_draft_needs_two_thirds_present_and_more_than_half_of_all_in_favour(http, db, branch, membership):
    union = membership.unit(branch.street, f"表决厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    c = await open_contract(http, union, [await employer(http, branch, union)])
    offer = await post(http, c, "offers", {"offered_by": "union", "sent_on": str(TODAY), "received_on": str(TODAY)},
                       201)
    # No vote before the negotiation began (an accepted offer, a session).
    r = await http.post(f"/collective-contracts/{c['id']}/vote", headers=auth(), json={
        "body": "all_workers", "voted_on": str(TODAY), "electorate": 90, "present": 80, "in_favour": 70})
    assert r.status_code == 409
    await post(http, c, f"offers/{offer['id']}/answer", {"answer": "accepted", "answered_on": str(TODAY)})
    await post(http, c, "sessions", {"held_on": str(TODAY), "summary": "第一次协商会议"}, 201)

    def vote(present, in_favour):
        return {"body": "all_workers", "voted_on": str(TODAY), "electorate": 90, "present": present, "in_favour": in_favour}
    assert (await post(http, c, "vote", vote(59, 59)))["outcome"] == "inquorate"   # 59 < 60 = two thirds of 90
    signing = {"signed_on": str(TODAY), "union_representative": "李协商", "employer_representative": "王厂长",
               "starts_on": str(TODAY), "ends_on": str(add_years(TODAY, 1) - timedelta(days=1))}
    r = await http.post(f"/collective-contracts/{c['id']}/signing", json=signing, headers=auth())
    assert r.status_code == 409 and r.json()["type"] == "/problems/contract-step-out-of-order"
    assert (await post(http, c, "vote", vote(60, 45)))["outcome"] == "rejected"    # half of all is not more than half
    assert (await post(http, c, "vote", vote(60, 46)))["outcome"] == "adopted"     # 46 of 90, though only 60 came
    signed = await post(http, c, "signing", signing)
    assert signed["status"] == "signed" and signed["vote"]["in_favour"] == 46
    # The chief representatives are officials named in the API, not in events.
    [event] = await events(db, c["id"], "CollectiveContractSigned")
    assert "李协商" not in str(event) and "王厂长" not in str(event)

    r = await http.post(f"/collective-contracts/{c['id']}/vote", json=vote(90, 1), headers=auth())
    assert r.status_code == 409   # signed: no more votes
    bad = await http.post(f"/collective-contracts/{c['id']}/vote", json=vote(60, 61), headers=auth())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.in_favour"


async def test_the_term_is_one_to_three_years_and_nothing_is_written_on_refusal(http, db, branch, membership):
    union = membership.unit(branch.street, f"期限厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    c = await adopted_draft(http, union, [await employer(http, branch, union)], TODAY)
    start = TODAY

    def signing(ends_on):
        return {"signed_on": str(TODAY), "union_representative": "李协商", "employer_representative": "王厂长",
                "starts_on": str(start), "ends_on": str(ends_on)}
    for ends_on in (add_years(start, 3), add_years(start, 1) - timedelta(days=2), start - timedelta(days=1)):
        r = await http.post(f"/collective-contracts/{c['id']}/signing", json=signing(ends_on), headers=auth())
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "body.ends_on" and "1至3年" in r.json()["errors"][0]["message"]
    assert await db.fetchval("SELECT signed_on FROM collective_contracts WHERE id = $1", uuid.UUID(c["id"])) is None
    assert await events(db, c["id"], "CollectiveContractSigned") == []
    assert (await post(http, c, "signing", signing(add_years(start, 3) - timedelta(days=1))))["status"] == "signed"


async def test_a_contract_is_in_force_on_day_15_after_receipt_only_without_objection(http, db, branch, membership,
                                                                                   notify, sink):
    union = membership.unit(branch.street, f"审查厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    officer = add_officer(notify, str(union), "赵维权", ["rights_officer"])
    start = TODAY - timedelta(days=30)
    fifteen = await contract_in_force(http, union, [await employer(http, branch, union)], start,
                                      received_on=TODAY - timedelta(days=15))
    fourteen = await contract_in_force(http, union, [await employer(http, branch, union)], start,
                                       received_on=TODAY - timedelta(days=14))
    assert fifteen["status"] == "in_force" and fifteen["in_force_from"] == str(TODAY)
    assert fourteen["status"] == "under_review"
    # The 15 days passed for one: an objection now is refused, nothing written.
    r = await http.post(f"/collective-contracts/{fifteen['id']}/objection", headers=auth(),
                        json={"objected_on": str(TODAY), "objection": "工资标准低于最低工资"})
    assert r.status_code == 409 and r.json()["type"] == "/problems/review-period-over"
    # Within them for the other: it never comes into force.
    objected = await post(http, fourteen, "objection", {"objected_on": str(TODAY), "objection": "工资标准低于最低工资"})
    assert objected["status"] == "objected"
    await check(db, TODAY)
    await check(db, TODAY + timedelta(days=1))
    [in_force] = await events(db, fifteen["id"], "CollectiveContractInForce")
    assert in_force["in_force_from"] == str(TODAY)
    assert await events(db, fourteen["id"], "CollectiveContractInForce") == []
    [told] = await mails(sink, officer["email"], 1)   # to publish it to the workers; the objected one tells nobody
    assert told["subject"] == f"【工作事项】集体合同已生效，请向职工公布：《{fifteen['title']}》"
    published = await post(http, fifteen, "publication", {"published_on": str(TODAY)})
    assert published["published_on"] == str(TODAY)
    assert len(await events(db, fifteen["id"], "CollectiveContractPublished")) == 1
    r = await http.post(f"/collective-contracts/{fourteen['id']}/publication", json={"published_on": str(TODAY)},
                        headers=auth())
    assert r.status_code == 409


async def test_within_six_months_of_its_end_a_contract_is_expiring_and_once_ended_no_longer_counts(
        http, db, membership, notify, sink):
    b = membership.branch("续签")
    union = membership.unit(b.street, f"续签厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    officer = add_officer(notify, str(b.street), "周维权", ["rights_officer"])   # the nearest unit upward with one
    start = add_years(TODAY, -3) + timedelta(days=30)   # ends in 29 days: within the renewal window
    expiring = await contract_in_force(http, union, [await employer(http, b, union)], start, years=3)
    await check(db, TODAY)
    await check(db, TODAY)
    assert len(await events(db, expiring["id"], "CollectiveContractExpiring")) == 1
    assert await events(db, expiring["id"], "CollectiveContractExpired") == []
    renew = [m for m in await mails(sink, officer["email"], 2) if m["subject"].startswith("【续签提醒】")]
    assert len(renew) == 1 and expiring["title"] in renew[0]["subject"] and "周维权同志" in renew[0]["text"]
    listed = (await http.get("/collective-contracts", headers=officer_of(b),
                             params={"expiring_within_days": 60, "org_id": str(b.district)})).json()
    assert [x["id"] for x in listed["items"]] == [expiring["id"]] and listed["total"] == 1
    assert listed["items"][0]["renewal_window_opens_on"] <= str(TODAY) and listed["items"][0]["status"] == "in_force"
    soon = (await http.get("/collective-contracts", headers=officer_of(b), params={"expiring_within_days": 10})).json()
    assert expiring["id"] not in [x["id"] for x in soon["items"]]
    # The day after its last day it is expired, raised once.
    await check(db, add_years(start, 3))
    await check(db, add_years(start, 3))
    assert len(await events(db, expiring["id"], "CollectiveContractExpired")) == 1

    # One that ran through the year before last, in a district of its own: covered then, not since.
    c = membership.branch("到期")
    old_union = membership.unit(c.street, f"到期厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    old_start = date(TODAY.year - 2, 1, 1)
    ended = await contract_in_force(http, old_union, [await employer(http, c, old_union)], old_start, years=1)
    await employer(http, c)
    assert ended["status"] == "expired" and ended["ends_on"] == str(date(TODAY.year - 2, 12, 31))
    await check(db, TODAY)
    assert len(await events(db, ended["id"], "CollectiveContractExpired")) == 1
    by_status = (await http.get("/collective-contracts", headers=officer_of(c), params={"status": "expired"})).json()
    assert [x["id"] for x in by_status["items"]] == [ended["id"]]

    async def contract_rate(year):
        coverage = (await http.get(f"/rights/coverage/{c.district}", params={"year": year},
                                   headers=officer_of(c))).json()
        rate = next(r for r in coverage["rates"] if r["measure"] == "collective_contract")
        return rate["covered"], rate["base"]
    assert await contract_rate(TODAY.year - 2) == (1, 2)
    assert await contract_rate(TODAY.year - 1) == (0, 2)
    assert await contract_rate(TODAY.year) == (0, 2)


async def test_either_side_may_ask_to_renew_only_within_the_six_months_before_the_end(http, db, branch, membership):
    union = membership.unit(branch.street, f"续订厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    e = await employer(http, branch, union)
    ending = await contract_in_force(http, union, [e], add_years(TODAY, -2) + timedelta(days=60))   # ends in 59 days
    running = await contract_in_force(http, union, [e], TODAY - timedelta(days=30))                # ends in two years
    ask = {"title": "续订集体合同", "offered_by": "employer", "sent_on": str(TODAY), "received_on": str(TODAY)}
    early = await http.post(f"/collective-contracts/{running['id']}/renewal", json=ask, headers=auth())
    assert early.status_code == 409 and early.json()["type"] == "/problems/renewal-window-not-open"
    assert early.json()["errors"][0]["field"] == "body.sent_on"
    renewal = await post(http, ending, "renewal", ask, 201)
    assert renewal["status"] == "negotiating" and renewal["renews_contract_id"] == ending["id"]
    assert renewal["employers_count"] == 1 and renewal["offer"]["answer_due_on"] == str(TODAY + timedelta(days=20))
    assert len(await events(db, renewal["id"], "CollectiveOfferSent")) == 1
    assert (await http.get(f"/collective-contracts/{ending['id']}", headers=auth())).json()["renewed_by"] == renewal["id"]
    again = await http.post(f"/collective-contracts/{ending['id']}/renewal", json=ask, headers=auth())
    assert again.status_code == 409 and again.json()["type"] == "/problems/renewal-exists"


async def test_the_rates_of_a_subtree_count_contracts_in_force_against_targets_from_above(http, membership):
    b = membership.branch("建制率")
    unions = [membership.unit(b.street, f"建制率{i}厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
              for i in range(3)]
    e1, e2, e3 = [await employer(http, b, u) for u in unions]
    await employer(http, b)                                   # above size, no union, no contract
    await employer(http, b, above=False)                      # not above designated size: outside the base
    await employer(http, b, ownership="state_owned")          # not non-public: outside the base
    start = TODAY - timedelta(days=40)
    await contract_in_force(http, unions[0], [e1], start)
    await contract_in_force(http, unions[0], [e1], start, kind="women")
    await contract_in_force(http, unions[1], [e2], start, kind="wage")
    await contract_in_force(http, unions[2], [e3], start, received_on=TODAY - timedelta(days=3))  # under review
    for u in (unions[0], unions[1], unions[2], unions[2]):
        membership.admit(u, "覆盖测试")
    year = TODAY.year
    targets = {"collective_contract": 50, "wage_bargaining": 30, "women_special_contract": 80, "members_covered": 50}
    refused = await http.put(f"/organisations/{b.district}/rights-targets/{year}", json=targets, headers=officer_of(b))
    assert refused.status_code == 403   # targets come from above
    assert (await http.put(f"/organisations/{b.district}/rights-targets/{year}", json=targets,
                           headers=auth())).status_code == 200
    coverage = (await http.get(f"/rights/coverage/{b.district}", params={"year": year}, headers=officer_of(b))).json()
    rates = {r["measure"]: (r["covered"], r["base"], r["percent"], r["target_met"]) for r in coverage["rates"]}
    assert rates["collective_contract"] == (2, 4, 50.0, True)
    assert rates["wage_bargaining"] == (1, 4, 25.0, False)
    assert rates["women_special_contract"] == (1, 2, 50.0, False)
    assert rates["members_covered"] == (2, 4, 50.0, True)
    figures = (await http.get(f"/coverage/{b.district}", headers=officer_of(b))).json()
    assert figures["collective_contract_employers"] == 2
    assert figures["rights"] == coverage["rates"]
    # The statistical report files the same rates upward, in its section 五.
    report = (await http.get(f"/statistics/{b.district}", params={"year": year}, headers=officer_of(b))).json()
    assert report["rights"] == coverage["rates"]
    form = await http.get(f"/statistics/{b.district}", params={"year": year, "format": "xlsx"}, headers=officer_of(b))
    rows = [tuple(c.value for c in row) for row in load_workbook(io.BytesIO(form.content)).active.iter_rows()]
    assert ("集体合同建制率", 2, 4, "50.0%／50%") in rows
    assert ("工资集体协商建制率", 1, 4, "25.0%／30%") in rows


async def test_outside_the_callers_subtree_a_contract_does_not_exist(http, branch, membership):
    other = membership.branch("别区")
    union = membership.unit(branch.street, f"范围厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    c = await open_contract(http, union, [await employer(http, branch, union)])
    outsider = auth("staff", other.district, "别区维权部")
    seen = await http.get(f"/collective-contracts/{c['id']}", headers=outsider)
    unknown = await http.get(f"/collective-contracts/{uuid.uuid4()}", headers=outsider)
    def body(r):
        return {k: v for k, v in r.json().items() if k != "instance"}   # the path asked for
    assert seen.status_code == unknown.status_code == 404 and body(seen) == body(unknown)
    offer = {"offered_by": "union", "sent_on": str(TODAY), "received_on": str(TODAY)}
    acted = await http.post(f"/collective-contracts/{c['id']}/offers", json=offer, headers=outsider)
    assert acted.status_code == 404 and body(acted) == body(unknown)
    listed = (await http.get("/collective-contracts", params={"org_id": str(union)}, headers=outsider)).json()
    assert listed["items"] == [] and listed["total"] == 0
    # Its own district sees it, and may act.
    assert (await http.get(f"/collective-contracts/{c['id']}", headers=officer_of(branch))).status_code == 200
    # A regional contract of the street covers employers of its subtree; the street cannot sign an enterprise's.
    second = await employer(http, branch)
    regional = await open_contract(http, branch.street, [await employer(http, branch, union), second],
                                   coverage="regional", headers=officer_of(branch))
    assert regional["employers_count"] == 2 and regional["coverage"] == "regional"
    r = await http.post("/collective-contracts", headers=auth(), json={
        "org_id": str(branch.street), "title": "街道的企业合同", "kind": "wage", "employer_ids": [second]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.org_id"
    # An employer outside the union's subtree cannot be covered (the same refusal as an unknown one).
    foreign = await employer(http, other)
    for employer_id in (foreign, str(uuid.uuid4())):
        r = await http.post("/collective-contracts", headers=auth(), json={
            "org_id": str(union), "title": "越界集体合同", "kind": "wage", "employer_ids": [employer_id]})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.employer_ids"


async def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(http, db, branch, membership):
    union = membership.unit(branch.street, f"输入厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    c = await open_contract(http, union, [await employer(http, branch, union)])
    offer = await post(http, c, "offers", {"offered_by": "employer", "sent_on": str(TODAY),
                                           "received_on": str(TODAY)}, 201)
    cases = [
        ("offers", {"offered_by": "union", "sent_on": str(TODAY), "received_on": str(TODAY + timedelta(days=1))},
         "body.received_on"),
        ("offers", {"offered_by": "side", "sent_on": str(TODAY), "received_on": str(TODAY)}, "body.offered_by"),
        (f"offers/{offer['id']}/answer", {"answer": "declined", "answered_on": str(TODAY)}, "body.reasons"),
        (f"offers/{offer['id']}/answer", {"answer": "accepted", "answered_on": str(TODAY - timedelta(days=1))},
         "body.answered_on"),
        ("sessions", {"held_on": "2026-13-01", "summary": "纪要"}, "body.held_on"),
    ]
    for step, body, field in cases:
        r = await http.post(f"/collective-contracts/{c['id']}/{step}", json=body, headers=auth())
        assert r.status_code == 422, (step, r.text)
        error = r.json()["errors"][0]
        assert error["field"] == field and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    two = await http.post("/collective-contracts", headers=auth(), json={
        "org_id": str(union), "title": "两家企业的企业合同", "kind": "wage", "employer_ids": [str(uuid.uuid4()), str(uuid.uuid4())]})
    assert two.status_code == 422 and two.json()["errors"][0]["field"] == "body.employer_ids"
    assert (await http.get("/collective-contracts", params={"colour": "red"}, headers=auth())).status_code == 422
    assert await db.fetchval("SELECT count(*) FROM collective_offers WHERE contract_id = $1", uuid.UUID(c["id"])) == 1
    assert await db.fetchval("SELECT answered_on FROM collective_offers WHERE id = $1", uuid.UUID(offer["id"])) is None
    assert len(await events(db, c["id"], "CollectiveOfferSent")) == 1
    assert await events(db, c["id"], "CollectiveOfferAnswered") == []


# ---- the employer side -----------------------------------------------------------------------------

async def test_a_unions_offer_and_the_renewal_window_tell_the_employer_side_by_email(http, db, branch, membership,
                                                                                     notify, sink, stack):
    union = membership.unit(branch.street, f"企业方测试厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    e = await employer(http, branch, union, name=f"企业方测试{uuid.uuid4().hex[:4]}有限公司")
    address = new_address()
    r = await http.put(f"/employers/{e}/contact", headers=officer_of(branch),
                       json={"contact_name": "王人事", "email": address})
    assert r.status_code == 200, r.text
    assert r.json()["email_masked"] != address and "@" in r.json()["email_masked"]
    # The address is nowhere in clear: not in membership's row, not on the restricted topic, not in notify.
    row = await db.fetchrow("SELECT contact_name, contact_email_enc FROM employers WHERE id = $1", uuid.UUID(e))
    assert row["contact_name"] == "王人事" and address.encode() not in bytes(row["contact_email_enc"])
    [changed] = await events(db, e, "EmployerContactChanged")
    assert address not in json.dumps(changed) and changed["email_sealed"] and changed["contact_name"] == "王人事"
    kept = await eventually(lambda: db_fetch(stack, "SELECT * FROM employer_contacts WHERE employer_id = $1",
                                             uuid.UUID(e)), what="notify keeps the employer's contact")
    assert address.encode() not in bytes(kept[0]["email_enc"])

    # A union's offer: the employer side must answer within 20 days of receipt, and is told so.
    c = await open_contract(http, union, [e])
    await post(http, c, "offers", {"offered_by": "union", "sent_on": str(TODAY), "received_on": str(TODAY)}, 201)
    [mail] = await mails(sink, address, 1)
    assert c["title"] in mail["subject"] and mail["text"].startswith("王人事同志：")
    assert "20日内" in mail["text"] and "第三十二条" in mail["text"]

    # An employer whose side has no contact on file: its e-mail waits for one (the topics are not
    # ordered), then is not deliverable (tests/inprocess/test_employer_deliveries.py).
    silent = await employer(http, branch, union)
    quiet = await open_contract(http, union, [silent])
    await post(http, quiet, "offers", {"offered_by": "union", "sent_on": str(TODAY), "received_on": str(TODAY)}, 201)
    [waiting] = await eventually(lambda: db_fetch(stack, "SELECT status FROM deliveries WHERE recipient_id = $1"
                                                  " AND recipient_kind = 'employer'", uuid.UUID(silent)),
                                 what="the delivery to an employer without a contact")
    assert waiting["status"] == "pending"

    # Withdrawn, the contact is gone everywhere: nothing more reaches the old address.
    assert (await http.delete(f"/employers/{e}/contact", headers=officer_of(branch))).status_code == 204
    assert (await db.fetchval("SELECT contact_email_enc FROM employers WHERE id = $1", uuid.UUID(e))) is None
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM employer_contacts WHERE employer_id = $1"
                                             " AND email_enc IS NULL", uuid.UUID(e)), what="notify drops the address")

    # The renewal window reminds the employer side as well as the union's officers.
    renewing = membership.unit(branch.street, f"续订提示厂工会{uuid.uuid4().hex[:6]}", "grassroots", "enterprise_union")
    other = await employer(http, branch, renewing)
    other_address = new_address()
    assert (await http.put(f"/employers/{other}/contact", headers=officer_of(branch),
                           json={"contact_name": "李经理", "email": other_address})).status_code == 200
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM employer_contacts WHERE employer_id = $1",
                                      uuid.UUID(other)), what="notify keeps the second contact")
    start = add_years(TODAY, -3) + timedelta(days=30)
    expiring = await contract_in_force(http, renewing, [other], start, years=3)
    await check(db, TODAY)
    renewal = [m for m in await mails(sink, other_address, 2) if "续订" in m["subject"]]
    assert len(renewal) == 1 and expiring["title"] in renewal[0]["subject"]
    assert renewal[0]["text"].startswith("李经理同志：")


async def test_an_employer_contact_outside_the_callers_subtree_is_not_found_and_bad_input_writes_nothing(
        http, db, branch, membership):
    e = await employer(http, branch)
    elsewhere = membership.branch("企业方越权")
    outside = await http.put(f"/employers/{e}/contact", headers=officer_of(elsewhere),
                             json={"contact_name": "王人事", "email": new_address()})
    unknown = await http.put(f"/employers/{uuid.uuid4()}/contact", headers=officer_of(elsewhere),
                             json={"contact_name": "王人事", "email": new_address()})
    assert outside.status_code == unknown.status_code == 404
    assert outside.json()["detail"] == unknown.json()["detail"]  # (the instance echoes the path asked for)
    for body, field in (({"contact_name": "王人事", "email": "not-an-address"}, "body.email"),
                        ({"contact_name": "王", "email": new_address()}, "body.contact_name"),
                        ({"contact_name": "王人事"}, "body.email")):
        r = await http.put(f"/employers/{e}/contact", headers=officer_of(branch), json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert await db.fetchval("SELECT contact_name FROM employers WHERE id = $1", uuid.UUID(e)) is None
    assert await events(db, e, "EmployerContactChanged") == []
