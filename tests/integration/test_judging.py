"""Judging and results against the real broker and PostgreSQL: scoring standards, judges and
their conflicts of interest, completeness before publication, trimmed means, publication as
revision 1, public results with masked names, audited corrections re-published as revision 2."""
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

CRITERIA = [{"name": "理论", "kind": "theory", "weight_bp": 3000, "max_score": "100"},
            {"name": "实操", "kind": "practical", "weight_bp": 7000, "max_score": "100"}]


@pytest.fixture(scope="module")
def world(membership):
    """One district, two enterprise unions under one street; an entrant in each."""
    branch = membership.branch("金牛")
    second = membership.unit(branch.street, f"金牛电力公司工会{uuid.uuid4().hex[:6]}", "grassroots",
                             "enterprise_union")
    yield {"branch": branch, "second": second,
           "welder": membership.admit(branch.grassroots, "陈静", female=True),
           "fitter": membership.admit(second, "赵强")}


@pytest.fixture
async def synced(world, db):
    branch = world["branch"]
    await projected(db, members=[world["welder"], world["fitter"]],
                    units=[branch.district, branch.street, branch.grassroots, world["second"]])
    return world


def organiser(world) -> dict[str, str]:
    return auth("staff", world["branch"].district, "文体委员")


async def ok(response: httpx.Response, status: int = 200) -> dict | list:
    assert response.status_code == status, response.text
    return response.json()


async def contest_with_entries(http, world, *, events=(), judging: bool = True) -> tuple[str, dict[str, str]]:
    """An individual skill contest, both entrants registered, registration closed and (unless
    `judging` is False) judging started."""
    now = datetime.now(timezone.utc)
    contest = await ok(await http.post("/contests", headers=organiser(world), json={
        "name": f"电工技能比赛{uuid.uuid4().hex[:4]}", "kind": "skill", "org_id": str(world["branch"].district),
        "team_based": False, "events": list(events), "opens_at": (now - timedelta(hours=1)).isoformat(),
        "closes_at": (now + timedelta(days=1)).isoformat()}), 201)
    cid = contest["id"]
    await ok(await http.post(f"/contests/{cid}/status", json={"status": "open"}, headers=organiser(world)))
    entries = {}
    for who in ("welder", "fitter"):
        entries[who] = (await ok(await http.post(f"/contests/{cid}/entries", json={"member_id": str(world[who])},
                                                 headers=organiser(world)), 201))["id"]
    await ok(await http.post(f"/contests/{cid}/status", json={"status": "closed"}, headers=organiser(world)))
    if judging:
        await ok(await http.post(f"/contests/{cid}/status", json={"status": "judging"}, headers=organiser(world)))
    return cid, entries


async def assign(http, world, cid, judge_id, union_id, subject=None) -> None:
    await ok(await http.post(f"/contests/{cid}/judges", headers=organiser(world), json={
        "judge_id": judge_id, "name": f"评委{zh_digits(judge_id)}", "union_id": str(union_id), "subject": subject}), 201)


async def sheet(http, world, cid, judge_id, entry_id, theory, practical, headers=None) -> httpx.Response:
    return await http.post(f"/contests/{cid}/score-sheets", headers=headers or organiser(world), json={
        "judge_id": judge_id, "scores": [{"entry_id": entry_id, "criterion": "理论", "score": theory},
                                         {"entry_id": entry_id, "criterion": "实操", "score": practical}]})


async def test_theory_at_most_30_percent(synced, http):
    cid, _ = await contest_with_entries(http, synced)
    too_much = [{"name": "理论", "kind": "theory", "weight_bp": 4000, "max_score": "100"},
                {"name": "实操", "kind": "practical", "weight_bp": 6000, "max_score": "100"}]
    r = await http.put(f"/contests/{cid}/criteria", json={"criteria": too_much}, headers=organiser(synced))
    assert r.status_code == 422 and r.json()["type"] == "/problems/theory-share" and "30%" in r.json()["detail"]
    short = [CRITERIA[0] | {"weight_bp": 2000}, CRITERIA[1]]
    r = await http.put(f"/contests/{cid}/criteria", json={"criteria": short}, headers=organiser(synced))
    assert r.status_code == 422 and r.json()["type"] == "/problems/criteria-weights"
    await ok(await http.put(f"/contests/{cid}/criteria", json={"criteria": CRITERIA}, headers=organiser(synced)))


async def test_judge_from_the_same_unit_must_step_aside_and_results_are_published(synced, http, db):
    """Five judges; one is from the welder's own union. The welder is scored by the other four
    (plain mean), the fitter by all five (highest and lowest dropped)."""
    cid, entries = await contest_with_entries(http, synced)
    branch = synced["branch"]
    await ok(await http.put(f"/contests/{cid}/criteria", json={"criteria": CRITERIA}, headers=organiser(synced)))
    await ok(await http.put(f"/contests/{cid}/judging-rules", headers=organiser(synced),
                            json={"prizes": {"first": 1, "second": 1, "third": 0}}))
    for j in ("j1", "j2", "j3", "j4"):
        await assign(http, synced, cid, j, branch.district)
    await assign(http, synced, cid, "j5", branch.grassroots)  # the welder's own union

    refused = await sheet(http, synced, cid, "j5", entries["welder"], "90", "90")
    assert refused.status_code == 422 and refused.json()["type"] == "/problems/conflict-of-interest"
    assert refused.json()["errors"][0]["field"] == "body.judge_id"

    for j, (t, p) in zip(("j1", "j2", "j3", "j4"), [(80, 90), (70, 80), (90, 95), (60, 70)]):
        await ok(await sheet(http, synced, cid, j, entries["welder"], str(t), str(p)), 201)
    for j, (t, p) in zip(("j1", "j2", "j3", "j4"), [(100, 100), (50, 50), (80, 80), (85, 85)]):
        await ok(await sheet(http, synced, cid, j, entries["fitter"], str(t), str(p)), 201)

    # Not complete yet: j5 owes the fitter both criteria; publication is refused naming them.
    missing = await http.post(f"/contests/{cid}/results", headers=organiser(synced))
    assert missing.status_code == 422 and missing.json()["type"] == "/problems/scores-missing"
    assert {(m["judge_id"], m["criterion"]) for m in missing.json()["missing"]} == {("j5", "理论"), ("j5", "实操")}

    await ok(await sheet(http, synced, cid, "j5", entries["fitter"], "90", "90"), 201)
    standings = await ok(await http.get(f"/contests/{cid}/standings", headers=organiser(synced)))
    assert standings["complete"]

    published = await ok(await http.post(f"/contests/{cid}/results", headers=organiser(synced)), 201)
    assert published["revision"] == 1
    [placings] = [r["placings"] for r in published["rankings"]]
    by_entry = {p["entry_id"]: p for p in placings}
    # welder: judge totals 87, 77, 93.5, 67 -> plain mean 81.125 -> 81.13 (half up)
    assert by_entry[entries["welder"]]["final_score"] == "81.13"
    assert by_entry[entries["welder"]]["judges_counted"] == ["j1", "j2", "j3", "j4"]
    # fitter: 100, 50, 80, 85, 90 -> drop 100 and 50 -> 85.00
    assert by_entry[entries["fitter"]]["final_score"] == "85.00"
    assert set(by_entry[entries["fitter"]]["judges_dropped"]) == {"j1", "j2"}
    assert by_entry[entries["fitter"]]["judges_disagree"]  # 100 vs 50
    assert [(p["rank"], p["entry_id"], p["prize"]) for p in placings] == [
        (1, entries["fitter"], "first"), (2, entries["welder"], "second")]

    contest = await ok(await http.get(f"/contests/{cid}", headers=organiser(synced)))
    assert contest["status"] == "published"
    [event] = await staged(db, "ContestResultsPublished", cid)
    assert event["revision"] == 1 and event["placings"][0]["final_score_centipoints"] == 8500
    assert event["placings"][0]["prize"] == "first" and event["placings"][0]["entry_id"] == entries["fitter"]

    public = await ok(await http.get(f"/public/contests/{cid}/results"))
    assert [p["name"] for p in public["rankings"][0]["placings"]] == ["赵*", "陈*"]
    assert public["rankings"][0]["placings"][0]["prize_name"] == "一等奖"

    # After publication scores no longer change except by correction.
    late = await sheet(http, synced, cid, "j5", entries["fitter"], "10", "10")
    assert late.status_code == 409 and late.json()["type"] == "/problems/results-published"


async def test_scores_are_entered_only_in_judging_and_publication_closes_it(synced, http, db):
    """Closing registration does not start judging: the organisers do, as a step anyone in scope
    can see; publication ends it."""
    cid, entries = await contest_with_entries(http, synced, judging=False)
    await ok(await http.put(f"/contests/{cid}/criteria", json={"criteria": CRITERIA}, headers=organiser(synced)))
    await assign(http, synced, cid, "j1", synced["branch"].district)

    early = await sheet(http, synced, cid, "j1", entries["welder"], "80", "80")
    assert early.status_code == 409 and early.json()["type"] == "/problems/not-judging"
    assert "报名截止" in early.json()["detail"] and "开始评审" in early.json()["detail"]
    not_yet = await http.post(f"/contests/{cid}/results", headers=organiser(synced))
    assert not_yet.status_code == 409 and not_yet.json()["type"] == "/problems/not-judging"
    assert await db.fetchval("SELECT count(*) FROM judge_scores WHERE contest_id = $1", uuid.UUID(cid)) == 0
    assert await staged(db, "ContestScored", cid) == []

    judging = await ok(await http.post(f"/contests/{cid}/status", json={"status": "judging"},
                                       headers=organiser(synced)))
    assert judging["status"] == "judging" and judging["status_changed_by"] == "文体委员"
    assert cid in [c["id"] for c in await ok(await http.get("/contests", params={"status": "judging"},
                                                            headers=organiser(synced)))]
    for who in ("welder", "fitter"):
        await ok(await sheet(http, synced, cid, "j1", entries[who], "80", "80"), 201)
    await ok(await http.post(f"/contests/{cid}/results", headers=organiser(synced)), 201)
    assert (await ok(await http.get(f"/contests/{cid}", headers=organiser(synced))))["status"] == "published"

    late = await http.post(f"/contests/{cid}/scores", headers=organiser(synced), json={
        "entry_id": entries["welder"], "judge_id": "j1", "criterion": "理论", "score": "90"})
    assert late.status_code == 409 and late.json()["type"] == "/problems/results-published"
    again = await http.post(f"/contests/{cid}/status", json={"status": "judging"}, headers=organiser(synced))
    assert again.status_code == 409 and again.json()["type"] == "/problems/illegal-transition"
    assert await db.fetchval("SELECT count(*) FROM judge_scores WHERE contest_id = $1", uuid.UUID(cid)) == 4


async def test_corrections_are_audited_and_republished(synced, http, db):
    cid, entries = await contest_with_entries(http, synced)
    branch = synced["branch"]
    await ok(await http.put(f"/contests/{cid}/criteria", json={"criteria": CRITERIA}, headers=organiser(synced)))
    for j in ("j1", "j2"):
        await assign(http, synced, cid, j, branch.district)
    scores = {}
    for who, (t, p) in (("welder", (80, 80)), ("fitter", (70, 70))):
        for j in ("j1", "j2"):
            for s in await ok(await sheet(http, synced, cid, j, entries[who], str(t), str(p)), 201):
                scores[(who, j, s["criterion"])] = s["id"]
    first = await ok(await http.post(f"/contests/{cid}/results", headers=organiser(synced)), 201)
    assert first["rankings"][0]["placings"][0]["entry_id"] == entries["welder"]

    no_reason = await http.post(f"/contests/{cid}/corrections", headers=organiser(synced),
                                json={"score_id": scores[("fitter", "j1", "实操")], "score": "100", "reason": ""})
    assert no_reason.status_code == 422
    fixed = await ok(await http.post(f"/contests/{cid}/corrections", headers=organiser(synced), json={
        "score_id": scores[("fitter", "j1", "实操")], "score": "100", "reason": "录分错误：评分表为100分"}), 201)
    assert fixed["old_score"] == "70.00" and fixed["new_score"] == "100.00" and fixed["revision"] == 2
    # fitter: j1 = 0.3*70 + 0.7*100 = 91, j2 = 70 -> 80.50; welder 80.00
    top = fixed["results"]["rankings"][0]["placings"][0]
    assert top["entry_id"] == entries["fitter"] and top["final_score"] == "80.50"

    events = await staged(db, "ContestResultsPublished", cid)
    assert [e["revision"] for e in events] == [1, 2]
    assert events[1]["correction_reason"] == "录分错误：评分表为100分"
    [trail] = await ok(await http.get(f"/contests/{cid}/corrections", headers=organiser(synced)))
    assert trail["corrected_by"] == "文体委员" and trail["old_centipoints"] == 7000 and trail["new_centipoints"] == 10000
    assert (await ok(await http.get(f"/public/contests/{cid}/results")))["revision"] == 2
    with pytest.raises(Exception):  # the trail is append-only
        await db.execute("UPDATE score_corrections SET reason = 'x' WHERE contest_id = $1", uuid.UUID(cid))


async def test_a_judge_records_their_own_sheet_and_no_one_elses(synced, http):
    cid, entries = await contest_with_entries(http, synced)
    branch = synced["branch"]
    await ok(await http.put(f"/contests/{cid}/criteria", json={"criteria": CRITERIA}, headers=organiser(synced)))
    await assign(http, synced, cid, "j1", branch.street, subject="judge-wang")
    judge = auth("staff", branch.street, "judge-wang")
    mine = await http.post(f"/contests/{cid}/score-sheets", headers=judge, json={
        "scores": [{"entry_id": entries["welder"], "criterion": "理论", "score": "88.5"}]})
    assert (await ok(mine, 201))[0]["judge_id"] == "j1"
    other = await http.post(f"/contests/{cid}/score-sheets", headers=judge, json={
        "judge_id": "j2", "scores": [{"entry_id": entries["welder"], "criterion": "实操", "score": "80"}]})
    assert other.status_code == 403
    stranger = auth("staff", synced["second"], "someone")
    assert (await http.post(f"/contests/{cid}/score-sheets", headers=stranger, json={
        "judge_id": "j1", "scores": [{"entry_id": entries["welder"], "criterion": "实操", "score": "80"}]}
    )).status_code == 403
    unknown = await http.post(f"/contests/{cid}/scores", headers=organiser(synced), json={
        "entry_id": entries["welder"], "judge_id": "j9", "criterion": "实操", "score": "80"})
    assert unknown.status_code == 422 and unknown.json()["type"] == "/problems/unknown-judge"


async def test_ties_go_to_the_higher_practical_score_then_the_shorter_time(synced, http):
    cid, entries = await contest_with_entries(http, synced)
    await ok(await http.put(f"/contests/{cid}/criteria", json={"criteria": CRITERIA}, headers=organiser(synced)))
    await assign(http, synced, cid, "j1", synced["branch"].district)
    # Same total (0.3*t + 0.7*p = 85): welder 85/85, fitter 71/91 -> fitter has the higher practical.
    await ok(await sheet(http, synced, cid, "j1", entries["welder"], "85", "85"), 201)
    await ok(await sheet(http, synced, cid, "j1", entries["fitter"], "71", "91"), 201)
    await ok(await http.put(f"/contests/{cid}/times/{entries['welder']}", json={"time_ms": 1000},
                            headers=organiser(synced)))
    standings = await ok(await http.get(f"/contests/{cid}/standings", headers=organiser(synced)))
    placings = standings["rankings"][0]["placings"]
    assert [p["final_score"] for p in placings] == ["85.00", "85.00"]
    assert [p["entry_id"] for p in placings] == [entries["fitter"], entries["welder"]]


async def test_team_score_is_the_sum_of_its_members_and_teams_are_ranked(synced, http, db):
    """A team contest (one member per team, to keep it short): teams are ranked on the sum of
    their members' published scores, and the published placings name the team."""
    now = datetime.now(timezone.utc)
    branch, second = synced["branch"], synced["second"]
    contest = await ok(await http.post("/contests", headers=organiser(synced), json={
        "name": f"团体技能赛{uuid.uuid4().hex[:4]}", "kind": "skill", "org_id": str(branch.district),
        "team_based": True, "min_team_size": 1, "min_women": 0,
        "opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat()}), 201)
    cid = contest["id"]
    await ok(await http.post(f"/contests/{cid}/status", json={"status": "open"}, headers=organiser(synced)))
    teams = {}
    for who, union in (("welder", branch.grassroots), ("fitter", second)):
        team = await ok(await http.post(f"/contests/{cid}/teams", headers=organiser(synced), json={
            "union_id": str(union), "members": [{"member_id": str(synced[who]), "leader": True}]}), 201)
        teams[who] = team["id"]
    for status in ("closed", "judging"):
        await ok(await http.post(f"/contests/{cid}/status", json={"status": status}, headers=organiser(synced)))
    await ok(await http.put(f"/contests/{cid}/criteria", json={"criteria": CRITERIA}, headers=organiser(synced)))
    await ok(await http.put(f"/contests/{cid}/judging-rules", headers=organiser(synced), json={"team_score": "sum"}))
    for j in ("j1", "j2"):
        await assign(http, synced, cid, j, branch.district)
    entries = {r["member_id"]: r["id"] for r in await db.fetch(
        "SELECT id::text, member_id::text FROM contest_entries WHERE contest_id = $1::uuid", cid)}
    for who, (t, p) in (("welder", ("70", "70")), ("fitter", ("90", "90"))):
        for j in ("j1", "j2"):
            await ok(await sheet(http, synced, cid, j, entries[str(synced[who])], t, p), 201)
    published = await ok(await http.post(f"/contests/{cid}/results", headers=organiser(synced)), 201)
    [placings] = [r["placings"] for r in published["rankings"]]
    assert [(p["rank"], p["team_id"]) for p in placings] == [(1, teams["fitter"]), (2, teams["welder"])]
    assert [p["final_score"] for p in placings] == ["90.00", "70.00"]
    [event] = await staged(db, "ContestResultsPublished", cid)
    assert event["placings"][0]["team_id"] == teams["fitter"]
    assert event["placings"][0]["member_ids"] == [str(synced["fitter"])]
