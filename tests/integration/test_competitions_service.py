"""Competitions as a process against the real broker and PostgreSQL: the organisation tree and
members arrive from membership's events; contests are scoped to an organising unit's subtree,
entries are one per member, and judges' scores are exact hundredths staged as ContestScored."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from devstack.seed import zh_digits
from tests.support.people import auth
from tests.support.rows import projected, staged

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "competitions")]


@pytest.fixture(scope="module")
def world(membership):
    """Two district branches: two members in the first, one in the second."""
    east, west = membership.branch("成华"), membership.branch("武侯")
    yield {
        "east": east, "west": west,
        "welder": membership.admit(east.grassroots, "陈静", female=True),
        "fitter": membership.admit(east.grassroots, "赵强"),
        "outsider": membership.admit(west.grassroots, "孙伟"),
    }


@pytest.fixture
async def synced(world, db):
    """The world, once competitions' projections have caught up with membership's events."""
    await projected(db, units=[world["east"].grassroots, world["west"].grassroots],
                    members=[world["welder"], world["fitter"], world["outsider"]])
    return world


def organiser(world) -> dict[str, str]:
    return auth("staff", world["east"].district, "文体委员")


async def new_contest(http, world, **overrides) -> dict:
    """An individual contest (no teams) whose registration is open now."""
    now = datetime.now(timezone.utc)
    body = {"name": f"职工焊工技能比赛{uuid.uuid4().hex[:4]}", "kind": "skill", "org_id": str(world["east"].district),
            "starts_on": "2025-09-15", "place": "区职工服务中心", "team_based": False,
            "opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat(),
            } | overrides
    r = await http.post("/contests", json=body, headers=organiser(world))
    assert r.status_code == 201, r.text
    r = await http.post(f"/contests/{r.json()['id']}/status", json={"status": "open"}, headers=organiser(world))
    assert r.status_code == 200, r.text
    return r.json()


async def close_registration(http, world, contest_id) -> None:
    """Judges score once registration has closed (报名截止) and the organisers started judging (评审中)."""
    for status in ("closed", "judging"):
        r = await http.post(f"/contests/{contest_id}/status", json={"status": status}, headers=organiser(world))
        assert r.status_code == 200, r.text


async def judging_ready(http, world, contest_id) -> None:
    """A scoring standard (理论 30 %, 实操 70 %, each out of 100) and two judges of the district."""
    criteria = [{"name": "理论", "kind": "theory", "weight_bp": 3000, "max_score": "100"},
                {"name": "实操", "kind": "practical", "weight_bp": 7000, "max_score": "100"}]
    r = await http.put(f"/contests/{contest_id}/criteria", json={"criteria": criteria}, headers=organiser(world))
    assert r.status_code == 200, r.text
    for judge_id in ("judge-01", "judge-02"):
        r = await http.post(f"/contests/{contest_id}/judges", headers=organiser(world),
                            json={"judge_id": judge_id, "name": f"评委{zh_digits(judge_id[-1])}", "union_id": str(world["east"].district)})
        assert r.status_code == 201, r.text


async def enter(http, world, contest_id, member_id, headers=None) -> httpx.Response:
    return await http.post(f"/contests/{contest_id}/entries", json={"member_id": str(member_id)},
                           headers=headers or organiser(world))


async def test_a_contest_is_created_for_a_known_unit_of_the_callers_subtree(synced, http, db):
    contest = await new_contest(http, synced)
    assert contest["org_name"].startswith("成华区总工会")
    [event] = await staged(db, "ContestCreated", contest["id"])
    assert event["kind"] == "skill" and event["org_id"] == str(synced["east"].district)

    unknown = await http.post("/contests", json={"name": "安康杯", "kind": "safety", "org_id": str(uuid.uuid4())},
                              headers=auth())
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "body.org_id"

    foreign = await http.post("/contests", json={"name": "安康杯", "kind": "safety",
                                                 "org_id": str(synced["east"].district)},
                              headers=auth("staff", synced["west"].district))
    assert foreign.status_code == 422  # another subtree's unit: exactly as unknown
    assert foreign.json()["detail"] == unknown.json()["detail"]


async def test_without_a_token_the_answer_is_401(synced, http):
    assert (await http.post("/contests", json={"name": "拔河比赛", "kind": "fun",
                                               "org_id": str(synced["east"].district)})).status_code == 401
    assert (await http.get("/contests")).status_code == 401


async def test_a_member_enters_a_contest_once(synced, http, db):
    contest = await new_contest(http, synced)
    r = await enter(http, synced, contest["id"], synced["welder"])
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["member_name"] == "陈静"
    [event] = await staged(db, "ContestantRegistered", contest["id"])
    assert event["entry_id"] == entry["id"] and event["member_id"] == str(synced["welder"])

    again = await enter(http, synced, contest["id"], synced["welder"])
    assert again.status_code == 409
    assert await db.fetchval("SELECT count(*) FROM contest_entries WHERE contest_id = $1",
                             uuid.UUID(contest["id"])) == 1
    assert len(await staged(db, "ContestantRegistered", contest["id"])) == 1


async def test_only_members_known_and_inside_the_organisers_subtree_may_enter(synced, http, db):
    contest = await new_contest(http, synced)
    outside = await enter(http, synced, contest["id"], synced["outsider"], headers=auth())
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "body.member_id"
    unknown = await enter(http, synced, contest["id"], uuid.uuid4())
    assert unknown.status_code == 422 and "尚未同步" in unknown.json()["detail"]
    assert (await http.post(f"/contests/{uuid.uuid4()}/entries", json={"member_id": str(synced["welder"])},
                            headers=auth())).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM contest_entries WHERE contest_id = $1",
                             uuid.UUID(contest["id"])) == 0


async def test_a_grassroots_union_enters_its_member_and_sees_only_its_own(synced, http):
    contest = await new_contest(http, synced)
    union_staff = auth("staff", synced["east"].grassroots, "组织委员")
    assert (await enter(http, synced, contest["id"], synced["fitter"], headers=union_staff)).status_code == 201
    assert (await enter(http, synced, contest["id"], synced["welder"])).status_code == 201

    assert (await http.get(f"/contests/{contest['id']}", headers=union_staff)).status_code == 200
    assert len((await http.get(f"/contests/{contest['id']}/entries", headers=organiser(synced))).json()) == 2
    assert (await http.get(f"/contests/{contest['id']}/scores", headers=union_staff)).status_code == 403

    west_staff = auth("staff", synced["west"].district)
    assert (await http.get(f"/contests/{contest['id']}", headers=west_staff)).status_code == 404
    assert contest["id"] not in [c["id"] for c in (await http.get("/contests", headers=west_staff)).json()]


async def test_a_judges_score_is_stored_as_hundredths_and_staged(synced, http, db):
    contest = await new_contest(http, synced)
    entry = (await enter(http, synced, contest["id"], synced["welder"])).json()
    await close_registration(http, synced, contest["id"])
    await judging_ready(http, synced, contest["id"])
    score = {"entry_id": entry["id"], "judge_id": "judge-01", "criterion": "实操", "score": "87.5", "max_score": 100}
    r = await http.post(f"/contests/{contest['id']}/scores", json=score, headers=organiser(synced))
    assert r.status_code == 201, r.text
    assert r.json()["score"] == "87.50" and r.json()["score_centipoints"] == 8750

    [event] = await staged(db, "ContestScored", contest["id"])
    assert event["score_centipoints"] == 8750 and event["max_centipoints"] == 10000
    assert event["entry_id"] == entry["id"] and event["member_id"] == str(synced["welder"])
    assert event["judge_id"] == "judge-01" and event["criterion"] == "实操"

    again = await http.post(f"/contests/{contest['id']}/scores", json=score | {"score": 90},
                            headers=organiser(synced))
    assert again.status_code == 409
    listed = (await http.get(f"/contests/{contest['id']}/scores", headers=organiser(synced))).json()
    assert [s["score"] for s in listed] == ["87.50"]


async def test_a_score_out_of_range_is_refused_and_nothing_is_written(synced, http, db):
    contest = await new_contest(http, synced)
    entry = (await enter(http, synced, contest["id"], synced["fitter"])).json()
    await close_registration(http, synced, contest["id"])
    await judging_ready(http, synced, contest["id"])
    for bad in ("100.01", "-1"):
        r = await http.post(f"/contests/{contest['id']}/scores", headers=organiser(synced), json={
            "entry_id": entry["id"], "judge_id": "judge-02", "criterion": "理论", "score": bad, "max_score": "100"})
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["field"] == "body.score"
    too_fine = await http.post(f"/contests/{contest['id']}/scores", headers=organiser(synced), json={
        "entry_id": entry["id"], "judge_id": "judge-02", "criterion": "理论", "score": "80.125", "max_score": "100"})
    assert too_fine.status_code == 422
    unknown_entry = await http.post(f"/contests/{contest['id']}/scores", headers=organiser(synced), json={
        "entry_id": str(uuid.uuid4()), "judge_id": "judge-02", "criterion": "理论", "score": "80", "max_score": "100"})
    assert unknown_entry.status_code == 422 and unknown_entry.json()["errors"][0]["field"] == "body.entry_id"
    assert await db.fetchval("SELECT count(*) FROM judge_scores WHERE contest_id = $1", uuid.UUID(contest["id"])) == 0
    assert await staged(db, "ContestScored", contest["id"]) == []


async def test_a_replayed_idempotency_key_registers_one_entry(synced, http, db):
    contest = await new_contest(http, synced)
    headers = organiser(synced) | {"Idempotency-Key": f"entry-{uuid.uuid4()}"}
    first = await enter(http, synced, contest["id"], synced["fitter"], headers=headers)
    again = await enter(http, synced, contest["id"], synced["fitter"], headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    assert len(await staged(db, "ContestantRegistered", contest["id"])) == 1
