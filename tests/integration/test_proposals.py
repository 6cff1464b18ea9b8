"""Rationalisation proposals (合理化建议) against the real broker and PostgreSQL: submitted by a
member or entered by staff, due for an answer one month later (three for major ones), answered
(late when after the due date), implemented and rewarded with a graded amount in fen; overdue ones
are listed; every step is recorded with who and when."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest

from competitions.domain.proposals import add_months
from unionops.clock import local_today

from tests.support.people import auth
from tests.support.rows import projected, staged

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "competitions")]


def today() -> date:
    return local_today()


@pytest.fixture(scope="module")
def world(membership):
    east, west = membership.branch("青羊"), membership.branch("锦江")
    yield {"east": east, "west": west,
           "fitter": membership.admit(east.grassroots, "刘洋"),
           "colleague": membership.admit(east.grassroots, "何敏", female=True),
           "outsider": membership.admit(west.grassroots, "孙伟")}


@pytest.fixture
async def synced(world, db):
    await projected(db, units=[world["east"].grassroots, world["west"].grassroots],
                    members=[world["fitter"], world["colleague"], world["outsider"]])
    return world


def member(world, who: str) -> dict[str, str]:
    return auth("member", world["east"].grassroots, str(world[who]))


def union_staff(world) -> dict[str, str]:
    return auth("staff", world["east"].grassroots, "工会主席")


async def propose(http, headers, **body) -> httpx.Response:
    body = {"title": "焊接工装改进", "content": "改进夹具定位，减少返工。"} | body
    return await http.post("/proposals", json={k: str(v) if isinstance(v, (uuid.UUID, date)) else v
                                               for k, v in body.items()}, headers=headers)


async def test_a_member_submits_a_proposal_due_for_an_answer_a_month_later(synced, http, db):
    r = await propose(http, member(synced, "fitter"))
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["member_id"] == str(synced["fitter"]) and p["submitted_via"] == "member"
    assert p["answer_due_on"] == add_months(today(), 1).isoformat() and not p["overdue"]
    [event] = await staged(db, "ProposalSubmitted", p["id"])
    assert event["answer_due_on"] == p["answer_due_on"] and event["major"] is False
    assert event["union_id"] == str(synced["east"].grassroots)

    for_someone_else = await propose(http, member(synced, "fitter"), member_id=synced["colleague"])
    assert for_someone_else.status_code == 403
    backdated = await propose(http, member(synced, "fitter"), submitted_on=today() - timedelta(days=3))
    assert backdated.status_code == 422 and backdated.json()["errors"][0]["field"] == "body.submitted_on"

    assert (await http.get(f"/proposals/{p['id']}", headers=member(synced, "fitter"))).status_code == 200
    assert (await http.get(f"/proposals/{p['id']}", headers=member(synced, "colleague"))).status_code == 404
    west = auth("staff", synced["west"].district)
    assert (await http.get(f"/proposals/{p['id']}", headers=west)).status_code == 404
    mine = (await http.get("/proposals", headers=member(synced, "colleague"))).json()
    assert p["id"] not in [x["id"] for x in mine]


async def test_major_proposals_have_three_months(synced, http):
    r = await propose(http, union_staff(synced), member_id=synced["colleague"], major=True, title="产线节能改造方案")
    assert r.status_code == 201, r.text
    assert r.json()["answer_due_on"] == add_months(today(), 3).isoformat() and r.json()["submitted_via"] == "staff"
    outside = await propose(http, union_staff(synced), member_id=synced["outsider"])
    nobody = await propose(http, union_staff(synced), member_id=uuid.uuid4())
    assert outside.status_code == nobody.status_code == 422  # outside the subtree: exactly as unknown
    assert outside.json()["detail"] == nobody.json()["detail"]


async def test_overdue_proposals_are_listed_and_a_late_answer_is_flagged(synced, http, db):
    handed_in = today() - timedelta(days=45)          # a paper proposal entered late by staff
    late = (await propose(http, union_staff(synced), member_id=synced["fitter"], submitted_on=handed_in,
                          title="仓库照明改造")).json()
    fresh = (await propose(http, member(synced, "colleague"), title="食堂错峰就餐")).json()
    assert late["answer_due_on"] == add_months(handed_in, 1).isoformat() and late["overdue"]

    overdue = (await http.get("/proposals?overdue=true", headers=auth("staff", synced["east"].district))).json()
    ids = [p["id"] for p in overdue]
    assert late["id"] in ids and fresh["id"] not in ids
    assert (await http.get("/proposals?overdue=true", headers=auth("staff", synced["west"].district))).json() == []

    answered = await http.post(f"/proposals/{late['id']}/answer", headers=union_staff(synced),
                               json={"outcome": "not_adopted", "answer": "现有照明已满足标准。"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["answered_late"] is True and not answered.json()["overdue"]
    [event] = await staged(db, "ProposalAnswered", late["id"])
    assert event["late"] is True and event["outcome"] == "not_adopted"
    overdue = (await http.get("/proposals?overdue=true", headers=union_staff(synced))).json()
    assert late["id"] not in [p["id"] for p in overdue]

    in_time = await http.post(f"/proposals/{fresh['id']}/answer", headers=union_staff(synced),
                              json={"outcome": "under_study", "answer": "正在与后勤部门研究。"})
    assert in_time.json()["answered_late"] is False
    again = await http.post(f"/proposals/{late['id']}/answer", headers=union_staff(synced),
                            json={"outcome": "adopted", "answer": "改为采纳"})
    assert again.status_code == 409


async def test_an_adopted_proposal_is_implemented_and_rewarded_with_every_step_recorded(synced, http, db):
    p = (await propose(http, member(synced, "fitter"), title="数控机床刀具寿命管理")).json()
    staff = union_staff(synced)
    too_early = await http.post(f"/proposals/{p['id']}/implement", headers=staff, json={"note": "已实施"})
    assert too_early.status_code == 409

    assigned = await http.post(f"/proposals/{p['id']}/assign", headers=staff,
                               json={"assignee": "tech-officer", "assignee_unit": "设备部"})
    assert assigned.status_code == 200 and assigned.json()["status"] == "assigned"
    assert (await http.post(f"/proposals/{p['id']}/answer", headers=staff,
                            json={"outcome": "under_study", "answer": "设备部评估中"})).status_code == 200
    adopted = await http.post(f"/proposals/{p['id']}/answer", headers=staff,
                              json={"outcome": "adopted", "answer": "采纳，下月实施"})
    assert adopted.json()["status"] == "adopted" and adopted.json()["answered_late"] is False
    not_yet = await http.post(f"/proposals/{p['id']}/reward", headers=staff, json={"grade": "first", "effect": "—"})
    assert not_yet.status_code == 409

    implemented = await http.post(f"/proposals/{p['id']}/implement", headers=staff, json={"note": "全车间推广"})
    assert implemented.status_code == 200 and implemented.json()["implemented_on"] == today().isoformat()
    auditor = auth("auditor", synced["east"].district)
    assert (await http.post(f"/proposals/{p['id']}/reward", headers=auditor,
                            json={"grade": "first", "effect": "x"})).status_code == 403
    rewarded = await http.post(f"/proposals/{p['id']}/reward", headers=staff,
                               json={"grade": "second", "effect": "刀具消耗年节约约 12 万元"})
    assert rewarded.status_code == 200, rewarded.text
    assert rewarded.json()["reward_fen"] == 100_000 and rewarded.json()["award_grade"] == "second"
    twice = await http.post(f"/proposals/{p['id']}/reward", headers=staff, json={"grade": "first", "effect": "x"})
    assert twice.status_code == 409

    answers = await staged(db, "ProposalAnswered", p["id"])
    assert [a["outcome"] for a in answers] == ["under_study", "adopted"]
    first, second = await staged(db, "ProposalAdopted", p["id"])
    assert first["award_grade"] is None and first["reward_fen"] is None
    assert (second["award_grade"], second["reward_fen"]) == ("second", 100_000)
    assert second["adopted_on"] == today().isoformat() and second["member_id"] == str(synced["fitter"])

    detail = (await http.get(f"/proposals/{p['id']}", headers=member(synced, "fitter"))).json()
    assert [h["action"] for h in detail["history"]] == [
        "submitted", "assigned", "answered", "answered", "implemented", "rewarded"]
    assert [h["actor"] for h in detail["history"]] == [str(synced["fitter"])] + ["工会主席"] * 5
    assert detail["history"][-1]["detail"] == {"grade": "second", "reward_fen": 100_000}


async def test_a_proposal_needs_a_token_and_staff_need_write_to_answer(synced, http):
    assert (await http.post("/proposals", json={"title": "无令牌", "content": "x"})).status_code == 401
    p = (await propose(http, member(synced, "colleague"))).json()
    r = await http.post(f"/proposals/{p['id']}/answer", headers=member(synced, "colleague"),
                        json={"outcome": "adopted", "answer": "自己采纳"})
    assert r.status_code == 403
    replay = union_staff(synced) | {"Idempotency-Key": f"proposal-{uuid.uuid4()}"}
    first = await propose(http, replay, member_id=synced["colleague"], title="工间操")
    again = await propose(http, replay, member_id=synced["colleague"], title="工间操")
    assert first.status_code == again.status_code == 201 and again.json()["id"] == first.json()["id"]
