"""Who is told what, over the real SMTP sink: members (from membership's contact topic) and
officers of the directory, resolved by role and unit — the nearest unit upward that has one.
Every notice reaches its recipients exactly once, also when its event is delivered twice."""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, datetime, timezone

import pytest

from contracts.events import (
    AidDisbursed,
    AidReversed,
    CampaignLaunched,
    CaseApproved,
    CaseAssessed,
    ContestResultsPublished,
    ContestScored,
    HotlineTicketOverdue,
    MemberTransferred,
    Placing,
    ProposalAnswered,
    TeamRegistered,
    TeamWaitlisted,
)
from tests.support.membership import found_district
from tests.support.people import ROOT, auth, new_resident_id, token
from tests.support.processes import client_fixture
from tests.support.waiting import eventually
from tests.integration.test_notify_service import admit_member, db_fetch, new_address, publish

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "notify", sinks=("smtpsink",),
                                   env={"notify": {"NOTIFY_POLL_INTERVAL_SECONDS": "0.5"}})]

DEADLINE = 45.0  # the first consumer-group join on the local broker takes several seconds


membership = client_fixture(lambda stack: stack.url("membership"))
notify = client_fixture(lambda stack: stack.url("notify"))


@pytest.fixture(scope="module")
def district(membership):
    """city → district → street → two grassroots unions (A, B)."""
    return found_district(membership, name=f"订阅测试区总工会{uuid.uuid4().hex[:4]}", unions=2)


def add_officer(notify, org_id: str, name: str, roles: list[str], *, email: bool = True,
                inapp: str | None = None) -> dict:
    body = {"name": name, "org_id": str(org_id), "roles": roles, "phone": "13900001111", "inapp_user_id": inapp}
    if email:
        body["email"] = new_address()
    deadline = time.monotonic() + DEADLINE
    while True:  # the unit reaches notify's projection through UnionEstablished
        r = notify.post("/officers", json=body, headers=auth())
        if r.status_code != 422 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert r.status_code == 201, r.text
    return r.json() | {"email": body.get("email")}


async def mails(sink, address: str, n: int = 1) -> list[dict]:
    async def probe():
        found = sink.get("/messages", params={"to": address}).json()["messages"]
        return found if len(found) >= n else None
    return await eventually(probe, f"{n} mail(s) to {address}", timeout=DEADLINE)


def count_mails(sink, address: str) -> int:
    return sink.get("/messages/count", params={"to": address}).json()["messages"]


async def deliveries_of(stack, event_id) -> list:
    return await db_fetch(stack, "SELECT * FROM deliveries WHERE source_event_id = $1 ORDER BY recipient_id, channel",
                          event_id)


async def member_path(stack, member_id: str) -> list[uuid.UUID]:
    async def probe():
        rows = await db_fetch(stack, "SELECT org_path FROM members WHERE member_id = $1::uuid", member_id)
        return rows[0]["org_path"] if rows else None
    return await eventually(probe, "the member in notify's projection", timeout=DEADLINE)


async def test_officers_are_managed_within_the_callers_subtree(notify, membership, district):
    officer = add_officer(notify, district.union_ids[0], "刘组织", ["organisation_officer"])
    assert officer["phone_masked"] == "139****1111" and "13900001111" not in str(officer)
    # The answer shows the address masked like the phone (add_officer keeps the clear one as "email").
    answer = {k: v for k, v in officer.items() if k != "email"}
    assert answer["email_masked"] == "m***@example.cn" and officer["email"] not in str(answer)
    assert officer["org_path"][-1] == district.union_ids[0] and officer["org_path"][0] == str(ROOT)

    mine = auth("staff", district.id)
    listed = notify.get("/officers", params={"role": "organisation_officer"}, headers=mine)
    assert officer["id"] in {o["id"] for o in listed.json()}
    elsewhere = found_district(membership)
    outsider = auth("staff", elsewhere.id)
    assert officer["id"] not in {o["id"] for o in notify.get("/officers", headers=outsider).json()}
    assert notify.get(f"/officers/{officer['id']}", headers=outsider).status_code == 404
    assert notify.patch(f"/officers/{officer['id']}", json={"active": False}, headers=outsider).status_code == 404
    # A unit outside one's subtree answers like an unknown one.
    r = notify.post("/officers", json={"name": "越权", "org_id": district.union_ids[0], "roles": ["chair"]},
                    headers=outsider)
    unknown = notify.post("/officers", json={"name": "越权", "org_id": str(uuid.uuid4()), "roles": ["chair"]},
                          headers=outsider)
    assert r.status_code == unknown.status_code == 422 and r.json()["detail"] == unknown.json()["detail"]
    assert notify.post("/officers", json={"name": "无名", "org_id": str(uuid.uuid4()), "roles": ["chair"]},
                       headers=auth()).status_code == 422
    assert notify.post("/officers", json={"name": "错角色", "org_id": district.id, "roles": ["king"]},
                       headers=auth()).status_code == 422
    patched = notify.patch(f"/officers/{officer['id']}", json={"roles": ["organisation_officer", "chair"]},
                           headers=mine)
    assert patched.status_code == 200 and patched.json()["roles"] == ["organisation_officer", "chair"]
    assert patched.json()["email_masked"] == "m***@example.cn"  # untouched by a patch that does not name it
    readdressed = notify.patch(f"/officers/{officer['id']}", json={"email": "liu.zz@example.org"}, headers=mine)
    assert readdressed.status_code == 200 and readdressed.json()["email_masked"] == "l***@example.org"
    assert "liu.zz@example.org" not in readdressed.text
    assert notify.get("/officers").status_code == 401
    assert notify.post("/officers", json={}, headers=auth("auditor")).status_code == 403
    notify.patch(f"/officers/{officer['id']}", json={"active": False}, headers=mine)


async def test_a_transfer_is_confirmed_to_the_member_and_to_both_unions_officers(stack, membership, notify, sink,
                                                                                district):
    a, b = district.union_ids
    officer_a = add_officer(notify, a, "甲厂组织委员", ["organisation_officer"])
    officer_b = add_officer(notify, b, "乙厂组织委员", ["organisation_officer"], inapp=f"staff-{uuid.uuid4().hex[:6]}")
    street = add_officer(notify, district.street_id, "街道组织委员", ["organisation_officer"])
    address = new_address()
    member_id = admit_member(membership, a, "转移测试", email=address)
    from_path = await member_path(stack, member_id)
    to_path = [*from_path[:-1], uuid.UUID(b)]

    event = MemberTransferred(member_id=uuid.UUID(member_id), from_union_id=uuid.UUID(a), to_union_id=uuid.UUID(b),
                              to_union_name="乙厂工会", from_org_path=from_path, to_org_path=to_path,
                              reason="employment_change", initiated_by="to_union", effective_on=date(2025, 7, 1))
    event_id = await publish(stack, event, times=2)  # a relay that lost its acknowledgement

    [to_member] = [m for m in await mails(sink, address, 2) if m["subject"].startswith("会员关系已转入")]
    assert "转移测试同志" in to_member["text"] and "2025年7月1日" in to_member["text"]
    [out] = await mails(sink, officer_a["email"])
    [into] = await mails(sink, officer_b["email"])
    assert out["subject"] == "会员关系转出：转移测试" and "甲厂组织委员同志" in out["text"]
    assert into["subject"] == "会员关系转入：转移测试" and "不得推诿和拒绝接收" in into["text"]
    assert "13900001111" not in into["text"]

    await asyncio.sleep(1.5)
    rows = await deliveries_of(stack, event_id)
    recipients = {(r["recipient_kind"], str(r["recipient_id"]), r["channel"]) for r in rows}
    assert len(rows) == len(recipients)  # exactly once per recipient × channel
    assert ("member", member_id, "email") in recipients
    assert {(k, i) for k, i, _ in recipients if k == "officer"} == {("officer", officer_a["id"]),
                                                                   ("officer", officer_b["id"])}
    assert ("officer", officer_b["id"], "inapp") in recipients
    assert count_mails(sink, street["email"]) == 0  # the unions have their own officers
    assert count_mails(sink, officer_a["email"]) == 1 and count_mails(sink, officer_b["email"]) == 1
    officer_row = next(r for r in rows if str(r["recipient_id"]) == officer_a["id"])
    assert officer_row["member_id"] is None and str(officer_row["subject_member_id"]) == member_id

    # Staff find the officers' deliveries by recipient.
    listed = notify.get("/deliveries", params={"source_event_id": str(event_id), "recipient_kind": "officer"},
                        headers=auth("auditor"))
    assert {d["recipient_id"] for d in listed.json()} == {officer_a["id"], officer_b["id"]}


async def test_a_transfer_request_is_told_to_the_member_and_the_sending_union_but_not_back_to_the_asker(
        stack, membership, notify, sink, district):
    """The receiving side asks; the member and the sending union's organisation officer hear of it
    (a work item), and again when the member declines. The asking union hears nothing back: what
    it sees is the same as for a request about nobody."""
    a = district.union_ids[0]
    sending = add_officer(notify, a, "甲厂接转组织委员", ["organisation_officer"],
                          inapp=f"staff-{uuid.uuid4().hex[:6]}")
    asker = found_district(membership)
    asking = add_officer(notify, asker.union_ids[0], "申请方组织委员", ["organisation_officer"])
    address, number = new_address(), new_resident_id()
    r = membership.post("/members", headers=auth(), json={"union_id": a, "name": "接转测试", "id_number": number,
                                                           "email": address})
    assert r.status_code == 201, r.text
    member_id = r.json()["id"]
    await member_path(stack, member_id)
    asked = membership.post("/transfer-requests", headers=auth("staff", asker.id), json={
        "id_number": number, "to_union_id": asker.union_ids[0], "new_employer": "新单位有限公司"})
    assert asked.status_code == 202, asked.text

    [to_member] = [m for m in await mails(sink, address, 2) if "申请转入您的会员关系" in m["subject"]]
    assert "接转测试同志" in to_member["text"] and "谢绝" in to_member["text"]
    [work] = await mails(sink, sending["email"])
    assert work["subject"] == "【待办】会员关系转入申请：接转测试" and "不得阻拦" in work["text"]
    declined = membership.post(f"/transfer-requests/{asked.json()['id']}/declination",
                               headers={"Authorization": f"Bearer {token('member', ROOT, subject=member_id)}"})
    assert declined.status_code == 200, declined.text
    subjects = [m["subject"] for m in await mails(sink, sending["email"], 2)]
    assert any("被会员谢绝" in s for s in subjects), subjects
    await asyncio.sleep(1.5)
    assert count_mails(sink, asking["email"]) == 0


async def test_an_assessed_case_is_a_work_item_for_the_approver_above_the_case_union(stack, membership, notify,
                                                                                    sink, district):
    union = district.union_ids[1]
    own = add_officer(notify, union, "本厂审批人", ["approver"])          # four-eyes: not the case's own union
    street = add_officer(notify, district.street_id, "街道审批人", ["approver", "chair"])
    above = add_officer(notify, district.id, "区审批人", ["approver"])   # nearer one exists: not bothered
    address = new_address()
    member_id = admit_member(membership, union, "帮扶对象", email=address)
    path = await member_path(stack, member_id)
    case_id = uuid.uuid4()

    assessed = await publish(stack, CaseAssessed(case_id=case_id, member_id=uuid.UUID(member_id), org_path=path,
                                                 proposed_amount_fen=250050, assessed_on=date(2025, 8, 20)), times=2)
    [item] = await mails(sink, street["email"])
    assert item["subject"] == f"【待审批】帮扶案件{str(case_id)[:8].upper()}已完成评估"
    assert "帮扶对象" in item["text"] and "2,500.50元" in item["text"]

    approved = CaseApproved(case_id=case_id, member_id=uuid.UUID(member_id), union_id=uuid.UUID(union), org_path=path,
                            kind="medical", approved_amount_fen=250050, fund_id=uuid.uuid4(), approved_by="street-approver",
                            approved_on=date(2025, 8, 25))
    paid = AidDisbursed(case_id=case_id, member_id=uuid.UUID(member_id), union_id=uuid.UUID(union), org_path=path,
                        kind="medical", amount_fen=250050, fund_id=uuid.uuid4(), ledger_entry_id=uuid.uuid4(),
                        paid_on=date(2025, 8, 28))
    await publish(stack, approved)
    await publish(stack, paid, times=2)
    subjects = {m["subject"] for m in await mails(sink, address, 3)}
    assert {"您的医疗帮扶申请已获批准", "帮扶资金2,500.50元已发放"} <= subjects
    await asyncio.sleep(1.0)
    assert count_mails(sink, own["email"]) == 0 and count_mails(sink, above["email"]) == 0
    assert count_mails(sink, street["email"]) == 1 and count_mails(sink, address) == 3  # welcome, approved, paid
    assert len({r["channel"] for r in await deliveries_of(stack, assessed)}) == 1  # e-mail only: no in-app account


async def test_a_campaign_payment_names_the_campaign(stack, membership, sink, district):
    union = district.union_ids[0]
    address = new_address()
    member_id = admit_member(membership, union, "送温暖对象", email=address)
    path = await member_path(stack, member_id)
    campaign_id = uuid.uuid4()
    # A campaign for another district: its fan-out reaches no one here, but its name is known.
    other = found_district(membership)
    await publish(stack, CampaignLaunched(
        campaign_id=campaign_id, name="2026年春节送温暖", kind="spring_festival", org_id=uuid.UUID(other.id),
        org_path=[ROOT, uuid.UUID(other.id)], fund_id=uuid.uuid4(), budget_fen=10_000_000,
        per_payment_cap_fen=300_000, per_person_year_cap_fen=600_000, starts_on=date(2026, 1, 5),
        ends_on=date(2026, 2, 10)))
    # Campaigns and payments travel on different topics: a run pays days after the launch. A
    # payment that overtakes its launch says "工会帮扶活动" instead of the name.
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM campaigns WHERE campaign_id = $1", campaign_id),
                     "the campaign in notify's projection", timeout=DEADLINE)
    await publish(stack, AidDisbursed(case_id=uuid.uuid4(), member_id=uuid.UUID(member_id), union_id=uuid.UUID(union),
                                      org_path=path, kind="living", amount_fen=150000, fund_id=uuid.uuid4(),
                                      campaign_id=campaign_id, ledger_entry_id=uuid.uuid4(), paid_on=date(2026, 1, 20)))
    # The member paid is told of the campaign first (issue 13: a member's notices of one campaign in order).
    found = sorted((m for m in await mails(sink, address, 3) if "送温暖" in m["subject"]), key=lambda m: m["seq"])
    assert [m["subject"] for m in found] == ["2026年春节送温暖开始啦", "2026年春节送温暖：1,500.00元已发放"]


async def test_a_reversed_payment_tells_the_member_once(stack, membership, sink, district):
    union = district.union_ids[0]
    address = new_address()
    member_id = admit_member(membership, union, "冲正对象", email=address)
    path = await member_path(stack, member_id)
    reversed_ = AidReversed(case_id=uuid.uuid4(), member_id=uuid.UUID(member_id), union_id=uuid.UUID(union),
                            org_path=path, kind="living", amount_fen=30_000, fund_id=uuid.uuid4(),
                            ledger_entry_id=uuid.uuid4(), reversal_entry_id=uuid.uuid4(), paid_on=date(2026, 1, 20),
                            reversed_on=date(2026, 1, 23))
    event_id = await publish(stack, reversed_, times=2)
    found = [m for m in await mails(sink, address, 2) if "冲正" in m["subject"]]
    assert [m["subject"] for m in found] == ["帮扶资金：300.00元已冲正"]
    assert "2026年1月20日" in found[0]["text"] and "2026年1月23日冲正" in found[0]["text"]
    assert "冲正对象同志" in found[0]["text"]
    await asyncio.sleep(1.0)
    assert count_mails(sink, address) == 2  # the welcome and the reversal, once
    assert {r["template"] for r in await deliveries_of(stack, event_id)} == {"aid_reversed"}


async def test_contest_notices_reach_every_team_member_once(stack, membership, sink, district):
    union = district.union_ids[0]
    people = {name: new_address() for name in ("队长甲", "队员乙", "队员丙", "候补丁")}
    ids = {name: admit_member(membership, union, name, email=address) for name, address in people.items()}
    path = await member_path(stack, ids["队长甲"])
    contest = uuid.uuid4()
    team = dict(contest_id=contest, contest_name="2025年职工技能比赛", union_id=uuid.UUID(union), org_path=path)
    members = [uuid.UUID(ids[n]) for n in ("队长甲", "队员乙", "队员丙")]
    registered = TeamRegistered(team_id=uuid.uuid4(), team_name="一队", leader_member_id=members[0],
                                member_ids=members, **team)
    waiting_team = uuid.uuid4()
    waitlisted = TeamWaitlisted(team_id=waiting_team, team_name="二队", leader_member_id=uuid.UUID(ids["候补丁"]),
                                member_ids=[uuid.UUID(ids["候补丁"])], waiting_position=1, **team)
    promoted = TeamRegistered(team_id=waiting_team, team_name="二队", leader_member_id=uuid.UUID(ids["候补丁"]),
                              member_ids=[uuid.UUID(ids["候补丁"])], promoted_from_waiting_list=True, **team)
    results = ContestResultsPublished(
        contest_id=contest, contest_name="2025年职工技能比赛", org_path=path, revision=1,
        published_at=datetime(2025, 7, 10, 2, 0, tzinfo=timezone.utc),
        placings=[Placing(rank=1, team_id=registered.team_id, member_ids=members, final_score_centipoints=9425,
                          prize="first"),
                  Placing(rank=2, team_id=waiting_team, member_ids=[uuid.UUID(ids["候补丁"])],
                          final_score_centipoints=9010, prize="second")])
    answered = ProposalAnswered(proposal_id=uuid.uuid4(), member_id=members[1], org_path=path, outcome="adopted",
                                answered_on=date(2025, 9, 1))
    for event in (registered, waitlisted, promoted):
        await publish(stack, event, times=2)
    results_id = await publish(stack, results, times=2)
    await publish(stack, answered)

    for name in ("队长甲", "队员丙"):
        subjects = sorted(m["subject"] for m in await mails(sink, people[name], 3))
        assert subjects == sorted(["欢迎加入" + subjects_union(subjects), "2025年职工技能比赛：报名成功",
                                   "2025年职工技能比赛成绩公布"])
    leader_result = next(m for m in await mails(sink, people["队长甲"], 3) if "成绩公布" in m["subject"])
    assert "第1名，最终得分94.25分，荣获一等奖" in leader_result["text"]
    waiting = {m["subject"]: m for m in await mails(sink, people["候补丁"], 4)}
    assert {"2025年职工技能比赛：已进入候补名单", "2025年职工技能比赛：候补递补成功"} <= set(waiting)
    assert "荣获二等奖" in waiting["2025年职工技能比赛成绩公布"]["text"]
    assert "您的合理化建议已答复：已采纳" in {m["subject"] for m in await mails(sink, people["队员乙"], 4)}

    await asyncio.sleep(1.0)
    assert all(count_mails(sink, address) == n for address, n in
               ((people["队长甲"], 3), (people["队员丙"], 3), (people["队员乙"], 4), (people["候补丁"], 4)))
    rows = [r for r in await deliveries_of(stack, results_id) if r["channel"] == "email"]
    assert sorted(str(r["member_id"]) for r in rows) == sorted(ids.values())


async def test_before_publication_a_contestant_hears_only_that_scoring_is_under_way(stack, membership, sink,
                                                                                  district):
    address = new_address()
    member = uuid.UUID(admit_member(membership, district.union_ids[0], "选手戊", email=address))
    path = await member_path(stack, str(member))
    contest, entry = uuid.uuid4(), uuid.uuid4()
    # Three judges × four criteria: twelve scores of one entry, one of them delivered twice.
    scores = [ContestScored(contest_id=contest, contest_name="2025年焊工技能比赛", entry_id=entry, member_id=member,
                            judge_id=f"judge-{j}", criterion=c, score_centipoints=8000 + 37 * j + 3 * i,
                            max_centipoints=10000, scored_at=datetime(2025, 6, 21, 6, 30, tzinfo=timezone.utc))
              for j in range(3) for i, c in enumerate(("实操", "理论", "安全", "工时"))]
    for n, score in enumerate(scores):
        await publish(stack, score, times=2 if n == 0 else 1)
    [scoring] = [m for m in await mails(sink, address, 2) if "欢迎" not in m["subject"]]
    assert scoring["subject"] == "2025年焊工技能比赛：评分进行中"
    assert not any(str(s.score_centipoints // 100) in scoring["text"] for s in scores)
    assert "judge" not in scoring["text"] and "实操" not in scoring["text"]

    results = ContestResultsPublished(
        contest_id=contest, contest_name="2025年焊工技能比赛", org_path=path, revision=1,
        published_at=datetime(2025, 7, 10, 2, 0, tzinfo=timezone.utc),
        placings=[Placing(rank=2, entry_id=entry, member_ids=[member], final_score_centipoints=8421, prize="second")])
    await publish(stack, results)
    result = next(m for m in await mails(sink, address, 3) if "成绩公布" in m["subject"])
    assert "第2名，最终得分84.21分，荣获二等奖" in result["text"]
    await asyncio.sleep(1.0)
    assert count_mails(sink, address) == 3  # welcome, scoring under way (once), the result


def subjects_union(subjects: list[str]) -> str:
    return next(s for s in subjects if s.startswith("欢迎加入"))[len("欢迎加入"):]


async def test_an_overdue_ticket_goes_to_its_assignee_else_the_nearest_hotline_officer(stack, notify, sink, district):
    union = district.union_ids[1]
    assignee = add_officer(notify, union, "承办人", ["hotline_officer"], inapp=f"hotline-{uuid.uuid4().hex[:6]}")
    district_desk = add_officer(notify, district.id, "区热线负责人", ["hotline_officer"])
    path = [ROOT, uuid.UUID(district.id), uuid.UUID(district.street_id), uuid.UUID(union)]

    def overdue(assigned: str | None) -> HotlineTicketOverdue:
        return HotlineTicketOverdue(ticket_id=uuid.uuid4(), org_id=uuid.UUID(district.street_id), org_path=path[:3],
                                    category="difficult", assignee=assigned,
                                    due_at=datetime(2025, 9, 5, 1, tzinfo=timezone.utc),
                                    detected_at=datetime(2025, 9, 5, 2, tzinfo=timezone.utc))

    await publish(stack, overdue(assignee["inapp_user_id"]), times=2)
    [mail] = await mails(sink, assignee["email"])
    assert mail["subject"].startswith("【超期提醒】12351工单") and "类别：难点" in mail["text"]
    # Unassigned at the street: the street has no hotline officer, the district has.
    await publish(stack, overdue(None))
    await mails(sink, district_desk["email"])
    await asyncio.sleep(1.0)
    assert count_mails(sink, assignee["email"]) == 1 and count_mails(sink, district_desk["email"]) == 1

    # The assignee also has an in-app account: the work item is in their own inbox, once.
    mine = {"Authorization": f"Bearer {token('staff', union, subject=assignee['inapp_user_id'])}"}

    async def in_inbox():
        r = notify.get("/inbox", headers=mine)
        assert r.status_code == 200, r.text
        return r.json() if r.json()["messages"] else None
    box = await eventually(in_inbox, "the work item in the officer's inbox", timeout=DEADLINE)
    assert box["officer_ids"] == [assignee["id"]] and box["member_id"] is None and box["unread"] == 1
    [item] = box["messages"]
    assert item["recipient_kind"] == "officer" and item["subject"].startswith("【超期提醒】12351工单")
    read = notify.post(f"/inbox/{item['id']}/read", headers=mine)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert notify.get("/inbox", headers=mine).json()["unread"] == 0
    # Another account cannot read or mark it; an account not in the directory has no inbox.
    other = {"Authorization": f"Bearer {token('staff', union, subject=district_desk['id'])}"}
    assert notify.get("/inbox", headers=other).status_code == 404
    assert notify.post(f"/inbox/{item['id']}/read", headers=other).status_code == 404


async def test_an_officer_entered_twice_with_one_idempotency_key_is_one_officer_and_no_address_is_kept_guessable(
        notify, district, stack_config):
    import hashlib
    import json

    add_officer(notify, district.union_ids[0], "孙主席", ["chair"])  # the unit has reached notify
    key = f"officer-{uuid.uuid4()}"
    body = {"name": "钱干事", "org_id": district.union_ids[0], "roles": ["organisation_officer"],
            "email": f"qian.{uuid.uuid4().hex[:8]}@example.cn", "phone": "13900002222"}
    first = notify.post("/officers", json=body, headers=auth() | {"Idempotency-Key": key})
    again = notify.post("/officers", json=body, headers=auth() | {"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    rows = await db_fetch(stack_config, "SELECT fingerprint, body::text AS body FROM idempotency_keys WHERE key = $1", key)
    assert len(rows) == 1 and body["email"] not in rows[0]["body"] and body["phone"] not in rows[0]["body"]
    # The fingerprint is not a plain hash of the request: that of a known address could be recomputed.
    plain = hashlib.sha256(json.dumps(body | {"inapp_user_id": None}, sort_keys=True, default=str).encode()).hexdigest()
    assert rows[0]["fingerprint"] != plain
