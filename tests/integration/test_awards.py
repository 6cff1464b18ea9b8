"""Commendations against the real broker and PostgreSQL: 安康杯 checklists scored by the organiser's
staff, granted only at the threshold and not twice within five years; nomination lists submitted
only when every quota holds (the migrant flag and gender come from membership's MemberJoined),
and one AwardGranted per nominee."""
from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.people import auth
from tests.support.rows import projected, staged

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "competitions")]

ITEMS = [{"code": "A1", "title": "安全生产责任制落实", "max_points": 40},
         {"code": "A2", "title": "隐患排查治理", "max_points": 35},
         {"code": "A3", "title": "职工安全培训与“安康杯”知识竞赛", "max_points": 25}]


@pytest.fixture(scope="module")
def world(membership):
    east, west = membership.branch("成华"), membership.branch("武侯")
    yield {
        "east": east, "west": west,
        "second_union": membership.unit(east.street, f"成华化工厂工会{uuid.uuid4().hex[:6]}", "grassroots",
                                        "enterprise_union"),
        "welder": membership.admit(east.grassroots, "陈静", female=True, migrant=True),
        "manager": membership.admit(east.grassroots, "赵强"),
        "outsider": membership.admit(west.grassroots, "孙伟"),
    }


@pytest.fixture
async def synced(world, db):
    await projected(db, units=[world["east"].grassroots, world["second_union"], world["west"].grassroots],
                    members=[world["welder"], world["manager"], world["outsider"]])
    return world


def organiser(world) -> dict[str, str]:
    return auth("staff", world["east"].district, "劳动保护部")


async def checklist(http, world, year: int, threshold="90") -> dict:
    r = await http.post("/ankang-cup/checklists", headers=organiser(world),
                        json={"org_id": str(world["east"].district), "year": year, "threshold": threshold,
                              "items": ITEMS})
    assert r.status_code == 201, r.text
    return r.json()


async def score(http, world, checklist_id, unit_id, **points) -> httpx.Response:
    return await http.post(f"/ankang-cup/checklists/{checklist_id}/units/{unit_id}/scores", headers=organiser(world),
                           json={"scores": [{"item": k, "points": v} for k, v in points.items()]})


async def grant(http, world, checklist_id, unit_id) -> httpx.Response:
    return await http.post(f"/ankang-cup/checklists/{checklist_id}/units/{unit_id}/award", headers=organiser(world))


# ---- 安康杯 ---------------------------------------------------------------------------------------

async def test_the_ankang_checklist_has_a_threshold_between_90_and_95_and_full_marks_of_100(synced, http):
    body = {"org_id": str(synced["east"].district), "year": 2030, "threshold": "85", "items": ITEMS}
    low = await http.post("/ankang-cup/checklists", json=body, headers=organiser(synced))
    assert low.status_code == 422 and low.json()["errors"][0]["field"] == "body.threshold"
    short = await http.post("/ankang-cup/checklists", json=body | {"threshold": "92", "items": ITEMS[:2]},
                            headers=organiser(synced))
    assert short.status_code == 422 and "100" in short.json()["detail"]
    foreign = await http.post("/ankang-cup/checklists", json=body | {"threshold": "92"},
                              headers=auth("staff", synced["west"].district))
    assert foreign.status_code == 422 and foreign.json()["type"] == "/problems/unknown-unit"  # as unknown


async def test_ankang_cup_is_granted_at_the_threshold_and_not_again_within_five_years(synced, http, db):
    first = await checklist(http, synced, 2025, threshold="92.5")
    assert first["threshold"] == "92.50" and [i["max_points"] for i in first["items"]] == ["40.00", "35.00", "25.00"]
    unit, weaker = synced["east"].grassroots, synced["second_union"]

    assert (await score(http, synced, first["id"], unit, A1=39, A2="33.5")).status_code == 200
    incomplete = await grant(http, synced, first["id"], unit)
    assert incomplete.status_code == 422 and "职工安全培训" in incomplete.json()["detail"]

    sheet = (await score(http, synced, first["id"], unit, A3=22)).json()
    assert sheet["total"] == "94.50" and sheet["missing"] == [] and sheet["reaches_threshold"]
    assert sheet["items"][0]["scored_by"] == "劳动保护部"
    rescored = await score(http, synced, first["id"], unit, A3=25)
    assert rescored.status_code == 409

    (await score(http, synced, first["id"], weaker, A1=40, A2=35, A3="17.49")).raise_for_status()
    below = await grant(http, synced, first["id"], weaker)
    assert below.status_code == 422 and "92.49" in below.json()["detail"]

    granted = await grant(http, synced, first["id"], unit)
    assert granted.status_code == 201, granted.text
    award = granted.json()
    assert award["title"] == "安康杯竞赛优胜单位" and award["year"] == 2025 and award["total"] == "94.50"
    [event] = await staged(db, "AwardGranted", award["id"])
    assert event["union_id"] == str(unit) and event["member_id"] is None and event["year"] == 2025
    assert event["org_path"][-3:] == [str(synced["east"].district), str(synced["east"].street), str(unit)]

    later = await checklist(http, synced, 2029)
    (await score(http, synced, later["id"], unit, A1=40, A2=35, A3=25)).raise_for_status()
    repeat = await grant(http, synced, later["id"], unit)
    assert repeat.status_code == 409 and "2025" in repeat.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM awards WHERE union_id = $1 AND award = 'ankang_cup'", unit) == 1

    five_years_on = await checklist(http, synced, 2030)
    (await score(http, synced, five_years_on["id"], unit, A1=40, A2=35, A3=25)).raise_for_status()
    assert (await grant(http, synced, five_years_on["id"], unit)).status_code == 201


async def test_only_the_organisers_staff_see_and_score_a_checklist(synced, http):
    c = await checklist(http, synced, 2026)
    west = auth("staff", synced["west"].district)
    assert (await http.get(f"/ankang-cup/checklists/{c['id']}", headers=west)).status_code == 404
    r = await http.post(f"/ankang-cup/checklists/{c['id']}/units/{synced['east'].grassroots}/scores", headers=west,
                        json={"scores": [{"item": "A1", "points": 40}]})
    assert r.status_code == 404
    outside = await score(http, synced, c["id"], synced["west"].grassroots, A1=40)
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "body.unit_id"
    too_high = await score(http, synced, c["id"], synced["east"].grassroots, A1="40.5")
    assert too_high.status_code == 422 and too_high.json()["errors"][0]["field"] == "body.scores.0.points"
    assert (await http.get(f"/ankang-cup/checklists/{c['id']}")).status_code == 401


# ---- nominations ----------------------------------------------------------------------------------

async def batch(http, world, award: str, year: int = 2025) -> dict:
    r = await http.post("/nomination-batches", headers=organiser(world),
                        json={"org_id": str(world["east"].district), "award": award, "year": year})
    assert r.status_code == 201, r.text
    return r.json()


async def nominate(http, world, batch_id, **body) -> httpx.Response:
    return await http.post(f"/nomination-batches/{batch_id}/nominees", headers=organiser(world),
                           json={k: str(v) if isinstance(v, uuid.UUID) else v for k, v in body.items()})


async def test_nomination_batch_is_submitted_only_when_every_quota_holds(synced, http, db):
    b = await batch(http, synced, "may_day_medal")
    welder = await nominate(http, synced, b["id"], member_id=synced["welder"], front_line=True)
    assert welder.status_code == 201, welder.text
    assert welder.json()["migrant_worker"] is True and welder.json()["gender"] == "female"   # from MemberJoined
    head = (await nominate(http, synced, b["id"], member_id=synced["manager"], front_line=False,
                           unit_head=True)).json()

    refused = await http.post(f"/nomination-batches/{b['id']}/submit", headers=organiser(synced))
    assert refused.status_code == 422 and refused.json()["type"] == "/problems/nomination-quota"
    [quota] = refused.json()["quotas"]
    assert (quota["attribute"], quota["count"], quota["total"], quota["share"]) == ("unit_head", 1, 2, "50.0%")
    assert "单位负责人 1/2 = 50.0%，须 ≤ 15%" in refused.json()["detail"]
    assert (await http.get(f"/nomination-batches/{b['id']}", headers=organiser(synced))).json()["quotas_hold"] is False

    removed = await http.delete(f"/nomination-batches/{b['id']}/nominees/{head['id']}", headers=organiser(synced))
    assert removed.status_code == 204
    submitted = await http.post(f"/nomination-batches/{b['id']}/submit", headers=organiser(synced))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted" and submitted.json()["quotas_hold"]
    late = await nominate(http, synced, b["id"], member_id=synced["manager"], front_line=True)
    assert late.status_code == 409

    granted = await http.post(f"/nomination-batches/{b['id']}/grant", headers=organiser(synced))
    assert granted.status_code == 200 and granted.json()["status"] == "granted"
    award_id = await db.fetchval("SELECT id FROM awards WHERE batch_id = $1", uuid.UUID(b["id"]))
    [event] = await staged(db, "AwardGranted", award_id)
    assert event["title"] == "五一劳动奖章" and event["member_id"] == str(synced["welder"])
    assert event["union_id"] == str(synced["east"].grassroots)
    again = await http.post(f"/nomination-batches/{b['id']}/grant", headers=organiser(synced))
    assert again.status_code == 409


async def test_a_member_is_nominated_once_per_award_and_year_within_the_organisers_subtree(synced, http):
    b = await batch(http, synced, "model_worker")
    assert (await nominate(http, synced, b["id"], member_id=synced["manager"], front_line=True)).status_code == 201
    twice = await nominate(http, synced, b["id"], member_id=synced["manager"], front_line=True)
    assert twice.status_code == 409
    outside = await nominate(http, synced, b["id"], member_id=synced["outsider"], front_line=True)
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "body.member_id"
    collective = await nominate(http, synced, b["id"], union_id=synced["east"].grassroots, front_line=True)
    assert collective.status_code == 422
    assert (await http.get(f"/nomination-batches/{b['id']}",
                           headers=auth("staff", synced["west"].district))).status_code == 404
    empty = await batch(http, synced, "model_worker", year=2026)
    assert (await http.post(f"/nomination-batches/{empty['id']}/submit",
                            headers=organiser(synced))).status_code == 422


async def test_a_team_is_granted_the_worker_pioneer_title(synced, http, db):
    b = await batch(http, synced, "worker_pioneer")
    team = await nominate(http, synced, b["id"], union_id=synced["east"].grassroots, team_name="焊接班",
                          front_line=True)
    assert team.status_code == 201, team.text
    (await http.post(f"/nomination-batches/{b['id']}/submit", headers=organiser(synced))).raise_for_status()
    (await http.post(f"/nomination-batches/{b['id']}/grant", headers=organiser(synced))).raise_for_status()
    award_id = await db.fetchval("SELECT id FROM awards WHERE batch_id = $1", uuid.UUID(b["id"]))
    [event] = await staged(db, "AwardGranted", award_id)
    assert event["title"] == "工人先锋号（焊接班）" and event["union_id"] == str(synced["east"].grassroots)

    listed = (await http.get("/awards?award=worker_pioneer", headers=organiser(synced))).json()
    assert str(award_id) in [a["id"] for a in listed]
    assert (await http.get("/awards", headers=auth("staff", synced["west"].district))).json() == []
    assert (await http.get("/awards", headers=auth())).status_code == 200
