"""Welfare as a process against the real broker and PostgreSQL: members arrive from membership's
MemberJoined; cases are opened only for known members, within the caller's subtree, and
CaseOpened is staged in the same transaction."""
from __future__ import annotations

import uuid

import pytest

from tests.support.people import auth
from tests.support.rows import projected

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "welfare")]


@pytest.fixture(scope="module")
def world(membership):
    """Two district branches and a member in the first, admitted through membership."""
    east, west = membership.branch("锦江"), membership.branch("青羊")
    member = membership.admit(east.grassroots, "王秀英", female=True, migrant=True)
    yield {"east": east, "west": west, "member": member, "membership": membership}


@pytest.fixture
async def known_member(world, db):
    """The member, once welfare's projection has caught up with MemberJoined."""
    await projected(db, members=[world["member"]])
    return world["member"]


def case_body(member_id, **overrides) -> dict:
    return {"member_id": str(member_id), "kind": "medical", "source": "visit",
            "summary": "丈夫住院，家庭月收入不足两千元"} | overrides


async def counts(db) -> tuple[int, int]:
    return (await db.fetchval("SELECT count(*) FROM assistance_cases"),
            await db.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'CaseOpened'"))


async def test_opening_a_case_stages_case_opened_without_the_summary(known_member, world, http, db):
    r = await http.post("/cases", json=case_body(known_member), headers=auth("staff", world["east"].street, "社工甲"))
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["status"] == "opened" and case["opened_by"] == "社工甲" and "summary" not in case
    case_id = uuid.UUID(case["id"])

    stored = await db.fetchrow("SELECT summary_enc, status FROM assistance_cases WHERE id = $1", case_id)
    assert "住院".encode() not in bytes(stored["summary_enc"])  # encrypted at rest
    assert await db.fetchval("SELECT count(*) FROM case_history WHERE case_id = $1", case_id) == 1

    event = await db.fetchrow("SELECT key, payload FROM outbox WHERE event_type = 'CaseOpened' AND key = $1",
                              str(case_id))
    assert event is not None
    assert event["payload"]["member_id"] == str(known_member)
    assert event["payload"]["kind"] == "medical" and event["payload"]["source"] == "visit"
    assert "summary" not in event["payload"] and "住院" not in str(event["payload"])

    detail = await http.get(f"/cases/{case_id}", headers=auth("staff", world["east"].district))
    assert detail.status_code == 200
    assert detail.json()["summary"] == "丈夫住院，家庭月收入不足两千元" and detail.json()["notes_visible"] == "all"

    listed = await http.get(f"/members/{known_member}/cases", headers=auth())
    assert listed.status_code == 200
    assert case["id"] in [c["id"] for c in listed.json()]
    assert all("summary" not in c for c in listed.json())


async def test_a_case_for_an_unknown_member_is_refused_and_nothing_is_written(known_member, http, db):
    before = await counts(db)
    r = await http.post("/cases", json=case_body(uuid.uuid4()), headers=auth())
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["errors"] == [{"field": "body.member_id", "message": "会员不存在：尚未入会或尚未同步"}]
    assert await counts(db) == before


async def test_staff_of_another_district_may_not_open_or_see_the_case(known_member, world, http, db):
    outsider = auth("staff", world["west"].district)
    before = await counts(db)
    r = await http.post("/cases", json=case_body(known_member), headers=outsider)
    unknown = await http.post("/cases", json=case_body(uuid.uuid4()), headers=outsider)
    assert r.status_code == unknown.status_code == 422  # exactly as an unknown member
    assert r.json()["detail"] == unknown.json()["detail"]
    assert await counts(db) == before

    r = await http.post("/cases", json=case_body(known_member, kind="legal"), headers=auth())
    assert r.status_code == 201
    assert (await http.get(f"/cases/{r.json()['id']}", headers=outsider)).status_code == 404
    assert (await http.get(f"/members/{known_member}/cases", headers=outsider)).status_code == 404


async def test_without_a_token_the_answer_is_401(known_member, http):
    r = await http.post("/cases", json=case_body(known_member))
    assert r.status_code == 401
    assert (await http.get(f"/members/{known_member}/cases")).status_code == 401


async def test_an_auditor_may_read_but_not_open_cases(known_member, world, http):
    r = await http.post("/cases", json=case_body(known_member), headers=auth("auditor", world["east"].district))
    assert r.status_code == 403


async def test_auditors_read_cases_masked_as_they_read_hardship_files(known_member, world, http):
    r = await http.post("/cases", json=case_body(known_member), headers=auth("staff", world["east"].street, "社工甲"))
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    step = await http.post(f"/cases/{case_id}/assess", headers=auth("staff", world["east"].district, "核查员"),
                           json={"proposed_amount_fen": 50_000, "findings": "妻子患病，长期服药"})
    assert step.status_code == 200, step.text
    staff = (await http.get(f"/cases/{case_id}", headers=auth("staff", world["east"].district))).json()
    audit = await http.get(f"/cases/{case_id}", headers=auth("auditor", world["east"].district))
    assert audit.status_code == 200
    seen = audit.json()
    assert seen["notes_visible"] == "none" and seen["summary"] is None and seen["findings"] is None
    assert "住院" not in audit.text and "患病" not in audit.text
    assert seen["member_name"] != staff["member_name"] and "*" in seen["member_name"]
    assert seen["proposed_amount_fen"] == staff["proposed_amount_fen"] == 50_000
    assert (seen["status"], seen["assessed_by"]) == (staff["status"], staff["assessed_by"])


async def test_a_replayed_idempotency_key_opens_one_case(known_member, world, http, db):
    headers = auth("staff", world["east"].grassroots, "组织委员") | {"Idempotency-Key": f"case-{uuid.uuid4()}"}
    body = case_body(known_member, kind="temporary", source="hotline")
    before = await counts(db)
    first = await http.post("/cases", json=body, headers=headers)
    again = await http.post("/cases", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert await counts(db) == (before[0] + 1, before[1] + 1)

    other = await http.post("/cases", json=body | {"summary": "另一件事"}, headers=headers)
    assert other.status_code == 422  # the same key for another request


async def test_a_replayed_member_joined_changes_nothing(known_member, db):
    """The projection is an upsert and the inbox dedupes: one row per member, one inbox row per event."""
    assert await db.fetchval("SELECT count(*) FROM members WHERE member_id = $1", known_member) == 1
    dupes = await db.fetchval("SELECT count(*) - count(DISTINCT event_id) FROM inbox WHERE consumer = 'welfare.members'")
    assert dupes == 0
