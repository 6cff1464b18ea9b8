"""Workers' congresses (职代会), 厂务公开 and labour-dispute mediation committees through membership's
HTTP API, with notify running: a congress of an employer or a regional one of a street, delegates
elected from the member register for a term, sessions held only with two thirds of the delegates
in term present, resolutions adopted by more than half of ALL delegates, 民主评议干部, delegates'
proposals answered by their deadline (overdue ones raised once and the rights officers told), the
congresses that did not meet this year, and the three rates against the targets set from above.
(Over 400 lines: one test per rule of the area, each through the HTTP API.)"""
from __future__ import annotations

import json
import re
import uuid
from datetime import date, timedelta

import httpx
import pytest

from tests.integration.test_notify_service import db_fetch
from tests.support.membership import change_status
from tests.support.people import auth, new_credit_code
from tests.support.processes import client_fixture
from tests.support.rows import staged
from tests.support.waiting import eventually
from unionops.clock import local_today

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "notify", subject="membership",
                                   env={"membership": {"CONGRESS_PROPOSAL_SWEEP_INTERVAL_SECONDS": "0.5"}})]

TODAY = local_today()
notify = client_fixture(lambda stack: stack.url("notify"))


def employer(membership, org_id, union_id, *, ownership: str = "non_public", name: str | None = None) -> str:
    r = membership.http.post("/employers", headers=auth(), json={
        "org_id": str(org_id), "union_id": str(union_id) if union_id else None,
        "name": name or f"测试企业{uuid.uuid4().hex[:4]}有限公司", "credit_code": new_credit_code(),
        "ownership": ownership, "headcount": 80})
    assert r.status_code == 201, r.text
    return r.json()["id"]


class Office:
    """A district with a street, an enterprise union and its employer, members, and the district's
    rights officer in notify's directory."""

    def __init__(self, membership, label: str) -> None:
        self.membership = membership
        self.branch = membership.branch(label)
        self.staff = auth("staff", self.branch.district, "区总-维权部")
        self.employer = employer(membership, self.branch.street, self.branch.grassroots)

    def admit(self, n: int, union=None) -> list[str]:
        return [str(self.membership.admit(union or self.branch.grassroots, name)) for name in
                ("刘洋", "何敏", "孙伟", "周强", "吴芳", "郑军", "王丽", "冯涛", "陈静", "褚亮", "卫东", "蒋平")[:n]]


@pytest.fixture(scope="module")
def east(membership) -> Office:
    return Office(membership, "金牛")


@pytest.fixture(scope="module")
def west(membership) -> Office:
    return Office(membership, "武侯")


async def congress(http, office: Office, *, days_ago: int = 400, **body) -> dict:
    body = {"kind": "employer", "name": f"第{uuid.uuid4().hex[:4]}届职工代表大会", "employer_ids": [office.employer],
            "established_on": (TODAY - timedelta(days=days_ago)).isoformat()} | body
    r = await http.post("/congresses", json=body, headers=office.staff)
    assert r.status_code == 201, r.text
    return r.json()


def fresh(membership, label: str) -> Office:
    """An office with its own employer, for a congress of its own."""
    return Office(membership, label)


async def elect(http, office: Office, congress_id: str, members: list[str], *, start: date | None = None,
                end: date | None = None) -> httpx.Response:
    start = start or TODAY - timedelta(days=300)
    end = end or start + timedelta(days=3 * 365)
    return await http.post(f"/congresses/{congress_id}/delegates", headers=office.staff, json={
        "member_ids": members, "term_start": start.isoformat(), "term_end": end.isoformat()})


async def session(http, office: Office, congress_id: str, present: int, **body) -> httpx.Response:
    body = {"held_on": TODAY.isoformat(), "present": present} | body
    return await http.post(f"/congresses/{congress_id}/sessions", headers=office.staff, json=body)


async def with_delegates(http, membership, label: str, n: int) -> tuple[Office, dict, list[str]]:
    office = fresh(membership, label)
    c = await congress(http, office)
    members = office.admit(n)
    r = await elect(http, office, c["id"], members)
    assert r.status_code == 201 and r.json()["elected_count"] == n, r.text
    return office, c, members


async def counts(db) -> dict:
    """What a refusal must leave as it was: the congresses' rows and their events."""
    rows = {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in
            ("congresses", "congress_delegates", "congress_sessions", "congress_resolutions", "congress_proposals")}
    return rows | {"events": await db.fetchval("SELECT count(*) FROM outbox WHERE topic = 'membership.congress.v1'")}


# ---- congresses ----------------------------------------------------------------------------------


async def test_an_employer_has_one_congress_of_its_own_union(http, db, membership, east):
    c = await congress(http, east)
    assert c["union_id"] == str(east.branch.grassroots) and c["employers"][0]["id"] == east.employer
    assert c["proposal_answer_days"] == 30
    [event] = await staged(db, "CongressEstablished", c["id"])
    assert event["org_path"][-1] == str(east.branch.grassroots) and event["employer_ids"] == [east.employer]

    before = await counts(db)
    again = await http.post("/congresses", headers=east.staff, json={
        "kind": "employer", "name": "另一届职代会", "employer_ids": [east.employer]})
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "body.employer_ids"
    without_union = employer(membership, east.branch.street, None)
    r = await http.post("/congresses", headers=east.staff, json={
        "kind": "employer", "name": "无工会企业职代会", "employer_ids": [without_union]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.employer_ids"
    assert await counts(db) == before  # nothing written, nothing staged


async def test_a_regional_congress_of_a_street_covers_several_small_employers(http, db, membership):
    office = fresh(membership, "新都")
    second_union = membership.unit(office.branch.street, f"小微企业工会{uuid.uuid4().hex[:4]}", "grassroots",
                                   "enterprise_union")
    second = employer(membership, office.branch.street, second_union)
    single = await http.post("/congresses", headers=office.staff, json={
        "kind": "regional", "name": "街道区域性职代会", "union_id": str(office.branch.street),
        "employer_ids": [office.employer]})
    assert single.status_code == 422 and single.json()["errors"][0]["field"] == "body.employer_ids"
    c = await congress(http, office, kind="regional", name="街道区域性职工代表大会", union_id=str(office.branch.street),
                       employer_ids=[office.employer, second])
    assert c["union_id"] == str(office.branch.street) and len(c["employers"]) == 2
    # delegates come from both employers' unions
    r = await elect(http, office, c["id"], office.admit(2) + office.admit(1, second_union))
    assert r.status_code == 201 and r.json()["elected_count"] == 3


# ---- delegates -----------------------------------------------------------------------------------


async def test_delegates_are_elected_from_the_covered_unions_and_the_refused_are_listed_with_why(
        http, db, membership, notify, stack, west):
    office = fresh(membership, "青白江")
    c = await congress(http, office)
    members = office.admit(3)
    outsider = west.admit(1)[0]
    first = await elect(http, office, c["id"], members[:1])
    assert first.status_code == 201
    r = await elect(http, office, c["id"], members + [outsider, str(uuid.uuid4())])
    assert r.status_code == 201, r.text
    body = r.json()
    assert sorted(body["elected"]) == sorted(members[1:]) and body["elected_count"] == 2
    reasons = {x["member_id"]: x["reason"] for x in body["refused"]}
    assert reasons[members[0]] == "already_delegate"
    assert reasons[outsider] == "not_covered" and list(reasons.values()).count("not_covered") == 2  # unknown alike
    events = await staged(db, "DelegatesElected", c["id"])
    assert [sorted(e["member_ids"]) for e in events] == [members[:1], sorted(members[1:])]
    assert events[1]["refused_count"] == 3
    assert set(events[1]) >= {"congress_id", "org_path", "term_start", "term_end"}
    assert not any(k in json.dumps(events) for k in ("id_number", "phone", "email"))

    async def told():
        rows = await db_fetch(stack, "SELECT DISTINCT member_id FROM deliveries WHERE template = $1"
                                     " AND member_id = ANY($2::uuid[])", "congress_delegate_elected",
                              [uuid.UUID(m) for m in members])
        return len(rows) == 3
    await eventually(told, what="each elected delegate told of the election")


async def test_only_delegates_in_term_count_in_the_electorate(http, db, membership):
    office, c, current = await with_delegates(http, membership, "郫都", 3)
    former = office.admit(1)
    old_start = TODAY - timedelta(days=399)
    r = await elect(http, office, c["id"], former, start=old_start, end=TODAY - timedelta(days=30))
    assert r.status_code == 201 and r.json()["elected_count"] == 1
    left = office.admit(1)
    assert (await elect(http, office, c["id"], left)).status_code == 201
    assert change_status(membership.http, left[0], "left", "resigned").status_code == 201  # the seat ends with it
    held = await session(http, office, c["id"], 2)
    assert held.status_code == 201, held.text
    assert held.json()["electorate"] == 3 and held.json()["quorate"] is True  # 2 of 3: the others are out
    [event] = await staged(db, "CongressSessionHeld", c["id"])
    assert event["electorate"] == 3 and event["present"] == 2 and event["quorate"] is True


async def test_the_term_of_a_delegate_is_at_most_five_years(http, db, membership):
    office = fresh(membership, "温江")
    c = await congress(http, office)
    before = await counts(db)
    r = await elect(http, office, c["id"], office.admit(1), start=TODAY, end=TODAY + timedelta(days=5 * 366 + 2))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.term_end"
    assert await counts(db) == before


# ---- sessions and votes --------------------------------------------------------------------------


async def test_a_session_without_two_thirds_of_delegates_present_is_not_held(http, db, membership):
    office, c, _ = await with_delegates(http, membership, "龙泉驿", 9)
    r = await session(http, office, c["id"], 5, resolutions=[{"title": "年度工资调整方案", "in_favour": 5}])
    assert r.status_code == 201, r.text
    assert r.json()["quorate"] is False and r.json()["held"] is False
    assert r.json()["resolutions"][0]["outcome"] == "inquorate"
    not_held = (await http.get("/congresses/not-held", params={"org_id": str(office.branch.district)},
                               headers=office.staff)).json()
    assert [x["id"] for x in not_held["items"]] == [c["id"]] and not_held["total"] == 1
    assert not_held["items"][0]["employers"][0]["id"] == office.employer

    held = await session(http, office, c["id"], 6)
    assert held.json()["quorate"] is True
    not_held = (await http.get("/congresses/not-held", params={"org_id": str(office.branch.district)},
                               headers=office.staff)).json()
    assert not_held == {"items": [], "total": 0, "limit": 100, "offset": 0}
    listed = (await http.get("/congresses", params={"org_id": str(office.branch.district)},
                             headers=office.staff)).json()
    assert listed["items"][0]["held_this_year"] and listed["items"][0]["sessions_held_this_year"] == 1


async def test_a_resolution_needs_more_than_half_of_all_delegates(http, db, membership):
    office, c, _ = await with_delegates(http, membership, "新津", 10)
    r = await session(http, office, c["id"], 8, resolutions=[
        {"title": "职工代表大会提案工作细则", "in_favour": 5}, {"title": "集体合同草案", "in_favour": 6}])
    assert r.status_code == 201, r.text
    assert [x["outcome"] for x in r.json()["resolutions"]] == ["rejected", "adopted"]  # 5 of 10 is not more than half
    voted = await staged(db, "CongressResolutionVoted", c["id"])
    assert [(v["in_favour"], v["electorate"], v["outcome"]) for v in voted] == [(5, 10, "rejected"), (6, 10, "adopted")]
    [held] = await staged(db, "CongressSessionHeld", c["id"])
    assert held["resolutions_adopted"] == 1 and held["resolutions_rejected"] == 1


async def test_democratic_evaluation_of_managers_is_recorded_at_a_session_with_its_counts(http, db, membership):
    office, c, _ = await with_delegates(http, membership, "都江堰", 6)
    before = await counts(db)
    too_many = await session(http, office, c["id"], 5, evaluation={
        "managers_evaluated": 3, "satisfied": 4, "basically_satisfied": 1, "dissatisfied": 1})
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "body.evaluation"
    assert await counts(db) == before
    r = await session(http, office, c["id"], 5, evaluation={
        "managers_evaluated": 3, "satisfied": 3, "basically_satisfied": 1, "dissatisfied": 1})
    assert r.status_code == 201 and r.json()["evaluation"]["satisfied"] == 3
    [held] = await staged(db, "CongressSessionHeld", c["id"])
    assert held["managers_evaluated"] == 3
    listed = (await http.get("/congresses", params={"org_id": str(office.branch.district)},
                             headers=office.staff)).json()
    assert listed["items"][0]["evaluated_this_year"] is True


async def test_impossible_counts_and_days_are_refused_naming_the_field(http, db, membership):
    office, c, _ = await with_delegates(http, membership, "彭州", 3)
    before = await counts(db)
    for body, field in (({"present": 4}, "body.present"),
                        ({"present": 3, "resolutions": [{"title": "决议", "in_favour": 4}]}, "body.resolutions.0.in_favour"),
                        ({"present": 3, "held_on": (TODAY + timedelta(days=1)).isoformat()}, "body.held_on"),
                        ({"present": 3, "held_on": (TODAY - timedelta(days=500)).isoformat()}, "body.held_on"),
                        ({"present": "3"}, "body.present")):
        r = await session(http, office, c["id"], **({"present": 0} | body))
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, (body, r.json())
    assert await counts(db) == before


# ---- proposals -----------------------------------------------------------------------------------


async def test_an_unanswered_delegate_proposal_past_its_deadline_is_overdue_and_the_officer_is_told(
        http, db, membership, notify, stack):
    office, c, members = await with_delegates(http, membership, "崇州", 2)
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM org_units WHERE org_id = $1", office.branch.district),
                     what="the district in notify")
    inapp = f"rights-{uuid.uuid4().hex[:6]}"
    r = notify.post("/officers", headers=auth(), json={"name": "陈维权", "org_id": str(office.branch.district),
                                                        "roles": ["rights_officer"], "inapp_user_id": inapp})
    assert r.status_code == 201, r.text
    late = await http.post(f"/congresses/{c['id']}/proposals", headers=office.staff, json={
        "member_id": members[0], "title": "改善夜班职工就餐条件", "content": "建议食堂延长夜班供餐时间。",
        "submitted_on": (TODAY - timedelta(days=31)).isoformat()})
    assert late.status_code == 201, late.text
    p = late.json()
    assert p["answer_due_on"] == (TODAY - timedelta(days=1)).isoformat() and p["overdue"] is True
    fresh_one = await http.post(f"/congresses/{c['id']}/proposals", headers=office.staff, json={
        "member_id": members[1], "title": "增设职工书屋", "content": "建议在车间休息区增设职工书屋。"})
    assert fresh_one.json()["overdue"] is False

    async def raised():
        return await staged(db, "CongressProposalOverdue", c["id"])
    [event] = await eventually(raised, what="the overdue proposal raised by the sweep")
    assert event["proposal_id"] == p["id"] and event["answer_due_on"] == p["answer_due_on"]
    assert len(await raised()) == 1  # once per proposal, whatever the number of sweeps

    async def officer_told():
        return await db_fetch(stack, "SELECT recipient_kind, channel FROM deliveries WHERE template = $1"
                                     " AND context->>'proposal_ref' = $2", "congress_proposal_overdue",
                              p["id"][:8].upper())
    [delivery] = await eventually(officer_told, what="the rights officer told")
    assert delivery["recipient_kind"] == "officer" and delivery["channel"] == "inapp"
    listed = (await http.get("/congress-proposals", params={"org_id": str(office.branch.district)},
                             headers=office.staff)).json()
    assert [x["id"] for x in listed["items"]] == [p["id"], fresh_one.json()["id"]]  # overdue first
    assert listed["total"] == 2


async def test_an_answered_proposal_tells_the_proposing_delegate_and_is_answered_once(
        http, db, membership, stack):
    office, c, members = await with_delegates(http, membership, "邛崃", 2)
    p = (await http.post(f"/congresses/{c['id']}/proposals", headers=office.staff, json={
        "member_id": members[0], "title": "高温岗位津贴", "content": "建议提高高温岗位津贴标准。"})).json()
    r = await http.post(f"/congress-proposals/{p['id']}/answer", headers=office.staff,
                        json={"outcome": "adopted", "answer": "已纳入下年度工资集体协商议题。"})
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "adopted" and r.json()["answered_late"] is False
    again = await http.post(f"/congress-proposals/{p['id']}/answer", headers=office.staff,
                            json={"outcome": "not_adopted", "answer": "重复答复"})
    assert again.status_code == 409
    [event] = await staged(db, "CongressProposalAnswered", c["id"])
    assert event["member_id"] == members[0] and event["late"] is False

    async def told():
        return await db_fetch(stack, "SELECT 1 FROM deliveries WHERE template = 'congress_proposal_answered'"
                                     " AND member_id = $1", uuid.UUID(members[0]))
    await eventually(told, what="the proposing delegate told of the answer")


async def test_a_proposal_comes_from_a_delegate_in_term(http, db, membership):
    office, c, members = await with_delegates(http, membership, "简阳", 1)
    not_delegate = office.admit(2)[1]
    before = await counts(db)
    for member, day in ((not_delegate, TODAY), (members[0], TODAY - timedelta(days=301))):
        r = await http.post(f"/congresses/{c['id']}/proposals", headers=office.staff, json={
            "member_id": member, "title": "建议", "content": "内容", "submitted_on": day.isoformat()})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.member_id", r.text
    assert await counts(db) == before


async def test_a_delegate_submits_a_proposal_of_their_own_and_alone_reads_it(http, db, membership, west):
    office, c, members = await with_delegates(http, membership, "温江北", 2)
    not_delegate = office.admit(3)[2]
    delegate = auth("member", office.branch.grassroots, members[0])
    body = {"member_id": members[0], "title": "增加班车线路", "content": "建议开通至新城区的职工班车。"}
    r = await http.post(f"/congresses/{c['id']}/proposals", headers=delegate, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["member_id"] == members[0] and r.json()["submitted_on"] == TODAY.isoformat()
    before = await counts(db)
    for_another = await http.post(f"/congresses/{c['id']}/proposals", headers=delegate,
                                  json=body | {"member_id": members[1]})
    assert for_another.status_code == 403
    backdated = await http.post(f"/congresses/{c['id']}/proposals", headers=delegate,
                                json=body | {"submitted_on": (TODAY - timedelta(days=2)).isoformat()})
    assert backdated.status_code == 422 and backdated.json()["errors"][0]["field"] == "body.submitted_on"
    outsider = auth("member", office.branch.grassroots, not_delegate)
    not_theirs = await http.post(f"/congresses/{c['id']}/proposals", headers=outsider,
                                 json=body | {"member_id": not_delegate})
    unknown = await http.post(f"/congresses/{uuid.uuid4()}/proposals", headers=outsider,
                              json=body | {"member_id": not_delegate})
    assert not_theirs.status_code == unknown.status_code == 404
    assert await counts(db) == before
    assert (await http.get(f"/congress-proposals/{r.json()['id']}", headers=delegate)).status_code == 200
    assert (await http.get(f"/congress-proposals/{r.json()['id']}", headers=outsider)).status_code == 404
    assert (await http.get(f"/congress-proposals/{r.json()['id']}", headers=west.staff)).status_code == 404
    assert (await http.get(f"/congress-proposals/{r.json()['id']}", headers=office.staff)).status_code == 200


# ---- scope ---------------------------------------------------------------------------------------


async def test_outside_the_subtree_a_congress_and_its_proposals_do_not_exist(http, db, membership, west):
    office, c, members = await with_delegates(http, membership, "蒲江", 1)
    p = (await http.post(f"/congresses/{c['id']}/proposals", headers=office.staff, json={
        "member_id": members[0], "title": "建议", "content": "内容"})).json()
    unknown = await http.get(f"/congresses/{uuid.uuid4()}", headers=west.staff)
    outside = await http.get(f"/congresses/{c['id']}", headers=west.staff)
    assert outside.status_code == unknown.status_code == 404
    assert {**outside.json(), "instance": None} == {**unknown.json(), "instance": None}
    assert (await session(http, west, c["id"], 1)).status_code == 404
    assert (await elect(http, west, c["id"], west.admit(1))).status_code == 404
    assert (await http.get(f"/congress-proposals/{p['id']}", headers=west.staff)).status_code == 404
    assert (await http.post(f"/congress-proposals/{p['id']}/answer", headers=west.staff,
                            json={"outcome": "adopted", "answer": "越权"})).status_code == 404
    theirs = await http.get("/congresses", params={"org_id": str(office.branch.district)}, headers=west.staff)
    assert theirs.json()["total"] == 0
    r = await http.post("/congresses", headers=west.staff, json={
        "kind": "employer", "name": "越权职代会", "employer_ids": [office.employer]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.employer_ids"
    assert (await http.get(f"/employers/{office.employer}/openness", headers=west.staff)).status_code == 404


# ---- openness, mediation committees and the rates ---------------------------------------------------


async def test_openness_in_place_means_established_and_published_within_the_year(http, db, membership):
    office = fresh(membership, "大邑")
    early = await http.post(f"/employers/{office.employer}/openness/publications", headers=office.staff, json={})
    assert early.status_code == 409
    r = await http.put(f"/employers/{office.employer}/openness", headers=office.staff, json={
        "established_on": (TODAY - timedelta(days=30)).isoformat(), "items": ["wages", "safety", "hospitality_expenses"]})
    assert r.status_code == 200 and r.json()["established"] and r.json()["last_published_on"] is None
    bad = await http.put(f"/employers/{office.employer}/openness", headers=office.staff, json={
        "established_on": TODAY.isoformat(), "items": ["gossip"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("body.items")
    r = await http.post(f"/employers/{office.employer}/openness/publications", headers=office.staff, json={})
    assert r.status_code == 201 and r.json()["last_published_on"] == TODAY.isoformat()
    assert [i["code"] for i in r.json()["publications"][0]["items"]] == ["wages", "safety", "hospitality_expenses"]
    events = await staged(db, "OpennessRecorded", office.employer)
    assert [e["published_on"] for e in events] == [None, TODAY.isoformat()]


async def test_mediation_committees_of_employers_and_streets(http, db, membership, east):
    office = fresh(membership, "金堂")
    r = await http.post("/mediation-committees", headers=office.staff, json={
        "employer_id": office.employer, "established_on": TODAY.isoformat(), "members_count": 5, "chair_name": "李调解"})
    assert r.status_code == 201, r.text
    [event] = await staged(db, "MediationCommitteeFormed", r.json()["id"])
    assert event["level"] == "employer" and event["org_path"][-1] == str(office.branch.street)
    again = await http.post("/mediation-committees", headers=office.staff, json={
        "employer_id": office.employer, "established_on": TODAY.isoformat(), "members_count": 3})
    assert again.status_code == 409
    street = await http.post("/mediation-committees", headers=office.staff, json={
        "street_id": str(office.branch.street), "established_on": TODAY.isoformat(), "members_count": 7})
    assert street.status_code == 201 and street.json()["level"] == "street"
    for body, field in (({"street_id": str(office.branch.grassroots)}, "body.street_id"),
                        ({"employer_id": office.employer, "street_id": str(office.branch.street)}, "body.employer_id"),
                        ({"employer_id": east.employer}, "body.employer_id"),
                        ({"employer_id": office.employer, "members_count": 1}, "body.members_count")):
        r = await http.post("/mediation-committees", headers=office.staff,
                            json={"established_on": TODAY.isoformat(), "members_count": 3} | body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (body, r.text)
    streets = (await http.get("/mediation-committees", params={"org_id": str(office.branch.district), "level": "street"},
                              headers=office.staff)).json()
    assert streets["total"] == 1 and streets["items"][0]["org_id"] == str(office.branch.street)
    theirs = await http.get("/mediation-committees", params={"org_id": str(office.branch.district)}, headers=east.staff)
    assert theirs.status_code == 200 and theirs.json()["total"] == 0  # another district's: none to see


async def test_the_rates_of_a_subtree_are_counted_against_the_targets_set_from_above(http, db, membership):
    office = fresh(membership, "蒲江南")  # one non-public employer with a union already
    street, union = office.branch.street, office.branch.grassroots
    second = employer(membership, street, union)                       # non-public, with a union
    state = employer(membership, street, union, ownership="state_owned")
    employer(membership, street, None)                                  # no union: in no base
    await congress(http, office)                                        # the first non-public one
    on = date(TODAY.year, 1, 1).isoformat()  # within this year whatever today is
    for e in (state, second):
        assert (await http.put(f"/employers/{e}/openness", headers=office.staff,
                               json={"established_on": on, "items": ["wages"]})).status_code == 200
    assert (await http.post(f"/employers/{state}/openness/publications", headers=office.staff,
                            json={"published_on": on})).status_code == 201   # second never published
    for e in (office.employer, state):
        assert (await http.post("/mediation-committees", headers=office.staff, json={
            "employer_id": e, "established_on": on, "members_count": 3})).status_code == 201
    assert (await http.post("/mediation-committees", headers=office.staff, json={
        "street_id": str(street), "established_on": on, "members_count": 3})).status_code == 201

    by_itself = await http.put(f"/organisations/{office.branch.district}/rights-targets/{TODAY.year}",
                               headers=office.staff, json={"congress": 50})
    assert by_itself.status_code == 403  # targets come from above
    r = await http.put(f"/organisations/{office.branch.district}/rights-targets/{TODAY.year}", headers=auth(),
                       json={"congress": 50, "openness": 90, "mediation_committee": 75})
    assert r.status_code == 200, r.text
    coverage = (await http.get(f"/rights/coverage/{office.branch.district}", params={"year": TODAY.year},
                               headers=office.staff)).json()
    rates = {x["measure"]: x for x in coverage["rates"]}
    assert (rates["congress"]["covered"], rates["congress"]["base"], rates["congress"]["target_met"]) == (1, 2, True)
    assert (rates["openness"]["covered"], rates["openness"]["base"], rates["openness"]["target_met"]) == (1, 3, False)
    assert (rates["mediation_committee"]["covered"], rates["mediation_committee"]["base"]) == (2, 3)
    assert rates["mediation_committee"]["target_percent"] == 75 and rates["mediation_committee"]["target_met"] is False
    report = (await http.get(f"/statistics/{office.branch.district}", params={"year": TODAY.year},
                             headers=office.staff)).json()
    assert {r["measure"]: (r["covered"], r["base"]) for r in report["rights"]}["congress"] == (1, 2)
    last_year = (await http.get(f"/rights/coverage/{office.branch.district}", params={"year": TODAY.year - 1},
                                headers=office.staff)).json()
    last = {x["measure"]: x["covered"] for x in last_year["rates"]}
    assert [last[m] for m in ("congress", "openness", "mediation_committee")] == [1, 0, 0]  # established 400 days ago; the rest this year


async def test_no_personal_data_in_the_congress_tables_or_events(http, db, membership):
    office, c, members = await with_delegates(http, membership, "新都北", 2)
    assert (await http.post(f"/congresses/{c['id']}/proposals", headers=office.staff, json={
        "member_id": members[0], "title": "建议", "content": "内容"})).status_code == 201
    tables = ("congresses", "congress_employers", "congress_delegates", "congress_sessions", "congress_resolutions",
              "congress_proposals", "openness_systems", "openness_publications", "mediation_committees")
    columns = await db.fetch("SELECT table_name, column_name FROM information_schema.columns"
                             " WHERE table_name = ANY($1::text[])", list(tables))
    assert not [r for r in columns if any(w in r["column_name"] for w in ("id_number", "phone", "email"))]
    payloads = [json.dumps(r["payload"], ensure_ascii=False) for r in await db.fetch(
        "SELECT payload FROM outbox WHERE topic = 'membership.congress.v1' AND key = $1", c["id"])]
    assert len(payloads) == 3  # established, elected, proposal submitted
    for p in payloads:  # no ID number, masked or not, no phone, no field that would hold one
        assert not re.search(r"\d{6}(\*{8}|\d{8})\d{3}[\dX]|(?<![0-9a-f])1\d{2}(\*{4}|\d{4})\d{4}(?![0-9a-f])", p), p
        assert not any(k in p for k in ("id_number", "phone", "email")), p


# ---- the congress votes on a draft collective contract ---------------------------------------------

async def test_a_draft_contract_before_the_congress_is_voted_on_by_its_delegates_in_term(http, membership):
    office, c, members = await with_delegates(http, membership, "合同表决", 9)

    async def draft(employer_id) -> str:
        r = await http.post("/collective-contracts", headers=office.staff, json={
            "org_id": str(office.branch.grassroots), "title": f"职代会表决{uuid.uuid4().hex[:4]}集体合同",
            "kind": "comprehensive", "coverage": "enterprise", "employer_ids": [employer_id]})
        assert r.status_code == 201, r.text
        contract = r.json()["id"]
        for step, body in (("offers", {"offered_by": "union", "sent_on": str(TODAY), "received_on": str(TODAY)}),
                           ("sessions", {"held_on": str(TODAY), "summary": "就草案达成一致"})):
            r = await http.post(f"/collective-contracts/{contract}/{step}", headers=office.staff, json=body)
            assert r.status_code == 201, r.text
            if step == "offers":
                answer = await http.post(f"/collective-contracts/{contract}/offers/{r.json()['id']}/answer",
                                         headers=office.staff, json={"answer": "accepted", "answered_on": str(TODAY)})
                assert answer.status_code == 200, answer.text
        return contract

    def vote(contract, **counts):
        return http.post(f"/collective-contracts/{contract}/vote", headers=office.staff,
                         json={"body": "congress", "voted_on": str(TODAY)} | counts)

    contract = await draft(office.employer)
    # The electorate is the congress's nine delegates in term, not what the officer says.
    wrong = await vote(contract, electorate=12, present=8, in_favour=7)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body.electorate"
    assert "9" in wrong.json()["errors"][0]["message"]
    inquorate = await vote(contract, present=5, in_favour=5)        # 5 of 9: under two thirds
    assert inquorate.status_code == 200 and inquorate.json()["outcome"] == "inquorate"
    adopted = await vote(contract, present=6, in_favour=5)          # 6 of 9 present, 5 > 9 / 2
    assert adopted.status_code == 200, adopted.text
    assert (adopted.json()["electorate"], adopted.json()["outcome"]) == (9, "adopted")
    shown = (await http.get(f"/collective-contracts/{contract}", headers=office.staff)).json()["vote"]
    assert shown["congress_id"] == c["id"] and shown["electorate"] == 9

    # An employer no congress covers: the draft goes to all workers, not to a congress.
    other = employer(membership, office.branch.street, office.branch.grassroots)
    uncovered = await draft(other)
    refused = await vote(uncovered, present=6, in_favour=5)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/no-congress")
    by_all = await http.post(f"/collective-contracts/{uncovered}/vote", headers=office.staff, json={
        "body": "all_workers", "voted_on": str(TODAY), "present": 60, "in_favour": 50})
    assert by_all.status_code == 422 and by_all.json()["errors"][0]["field"] == "body.electorate"
