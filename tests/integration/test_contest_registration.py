"""Contests and team registration as seed 001 (plan 3) announces them, with competitions running as
a process against the real broker and PostgreSQL: units of a park field teams of at least four,
one woman and one leader among them, within the registration window; beyond the team cap teams
wait, first come first served, and move up when a registered team withdraws."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from devstack.seed import zh_digits
from tests.support.people import auth
from tests.support.rows import projected, staged
from unionops.clock import day_start, local_today

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "competitions")]


@pytest.fixture(scope="module")
def park(membership):
    """A park (the organiser, district level) with five member units, and a unit elsewhere."""
    branch, elsewhere = membership.branch("高新园区"), membership.branch("青羊")
    world = {"park": branch.district, "street": branch.street, "units": {}, "people": {}}

    def unit(key, parent, women, men):
        union_id = membership.unit(parent, f"{key}单位工会{uuid.uuid4().hex[:4]}", "grassroots", "enterprise_union")
        world["units"][key] = union_id
        world["people"][key] = ([membership.admit(union_id, f"{key}女{zh_digits(i)}", female=True) for i in range(women)]
                                + [membership.admit(union_id, f"{key}男{zh_digits(i)}") for i in range(men)])

    unit("A", branch.street, 1, 5)
    for key in ("B", "C", "D"):
        unit(key, branch.street, 1, 3)
    unit("M", branch.street, 0, 4)       # no woman
    unit("X", elsewhere.street, 1, 3)    # outside the park
    yield world


@pytest.fixture
async def synced(park, db):
    await projected(db, members=[p for group in park["people"].values() for p in group],
                    units=list(park["units"].values()))
    return park


def organiser(park) -> dict[str, str]:
    return auth("staff", park["park"], "园区工会文体委员")


def unit_staff(park, key) -> dict[str, str]:
    return auth("staff", park["units"][key], f"{key}单位工会")


async def new_contest(http, park, *, open_now: bool = True, **overrides) -> dict:
    now = datetime.now(timezone.utc)
    body = {
        "name": f"园区职工技能与趣味运动会{uuid.uuid4().hex[:4]}", "kind": "skill", "org_id": str(park["park"]),
        "host_name": "园区党群服务中心", "co_organisers": [{"name": "园区安监站"}],
        "starts_on": "2025-06-28", "place": "园区体育馆",
        "events": [{"name": "电工技能", "kind": "skill"}, {"name": "拔河", "kind": "fun"}],
        "opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=13)).isoformat(),
    } | overrides
    r = await http.post("/contests", json=body, headers=organiser(park))
    assert r.status_code == 201, r.text
    if open_now:
        r = await http.post(f"/contests/{r.json()['id']}/status", json={"status": "open"}, headers=organiser(park))
        assert r.status_code == 200, r.text
    return r.json()


def team_of(park, key, *, size: int = 4, leader: int = 1, events=None) -> dict:
    people = park["people"][key][:size]
    return {"union_id": str(park["units"][key]),
            "members": [{"member_id": str(p), "leader": i == leader} | ({"event_id": events[i % len(events)]}
                                                                         if events else {})
                        for i, p in enumerate(people)]}


async def register(http, park, contest, key, body=None, headers=None) -> httpx.Response:
    return await http.post(f"/contests/{contest['id']}/teams", json=body or team_of(park, key),
                           headers=headers or unit_staff(park, key))


async def test_a_contest_is_announced_as_a_draft_and_opened_by_its_organiser(synced, http, db):
    contest = await new_contest(http, synced, open_now=False, team_cap=8)
    assert contest["status"] == "draft" and contest["host_name"] == "园区党群服务中心"
    assert contest["co_organisers"] == [{"name": "园区安监站", "org_id": None}]
    assert [(e["name"], e["kind"], e["position"]) for e in contest["events"]] == [("电工技能", "skill", 1),
                                                                                  ("拔河", "fun", 2)]
    assert contest["opens_at"].endswith("+08:00") and contest["min_team_size"] == 4 and contest["min_women"] == 1
    assert await staged(db, "RegistrationOpened", contest["id"]) == []

    not_organiser = await http.post(f"/contests/{contest['id']}/status", json={"status": "open"},
                                    headers=unit_staff(synced, "A"))
    assert not_organiser.status_code == 403
    opened = await http.post(f"/contests/{contest['id']}/status", json={"status": "open"}, headers=organiser(synced))
    assert opened.status_code == 200 and opened.json()["status"] == "open"
    [event] = await staged(db, "RegistrationOpened", contest["id"])
    assert event["team_cap"] == 8 and event["org_id"] == str(synced["park"])

    again = await http.post(f"/contests/{contest['id']}/status", json={"status": "open"}, headers=organiser(synced))
    assert again.status_code == 409 and again.json()["type"] == "/problems/illegal-transition"
    judging = await http.post(f"/contests/{contest['id']}/status", json={"status": "judging"},
                              headers=organiser(synced))
    assert judging.status_code == 409 and judging.json()["type"] == "/problems/illegal-transition"  # close first
    published = await http.post(f"/contests/{contest['id']}/status", json={"status": "published"},
                                headers=organiser(synced))
    assert published.status_code == 422  # publication is POST …/results, with its completeness check

    no_window = await new_contest(http, synced, open_now=False, opens_at=None, closes_at=None)
    refused = await http.post(f"/contests/{no_window['id']}/status", json={"status": "open"},
                              headers=organiser(synced))
    assert refused.status_code == 422 and refused.json()["type"] == "/problems/registration-window"


async def test_a_unit_registers_a_team_and_each_member_gets_an_entry(synced, http, db):
    contest = await new_contest(http, synced)
    events = [e["id"] for e in contest["events"]]
    r = await register(http, synced, contest, "A", team_of(synced, "A", events=events))
    assert r.status_code == 201, r.text
    team = r.json()
    assert team["status"] == "registered" and team["waiting_position"] is None
    assert team["leader_member_id"] == str(synced["people"]["A"][1]) and team["name"].endswith("代表队")
    assert all(m["entry_id"] for m in team["members"])

    entries = await db.fetch("SELECT member_id, team_id, event_id, union_id FROM contest_entries"
                             " WHERE contest_id = $1", uuid.UUID(contest["id"]))
    assert {e["member_id"] for e in entries} == set(synced["people"]["A"][:4])
    assert {e["team_id"] for e in entries} == {uuid.UUID(team["id"])}
    assert {str(e["event_id"]) for e in entries} == set(events)
    [registered] = await staged(db, "TeamRegistered", contest["id"])
    assert registered["promoted_from_waiting_list"] is False and len(registered["member_ids"]) == 4
    assert len(await staged(db, "ContestantRegistered", contest["id"])) == 4

    # Units below the organiser see their own teams only; the organiser sees all.
    await register(http, synced, contest, "B")
    assert len((await http.get(f"/contests/{contest['id']}/teams", headers=organiser(synced))).json()) == 2
    own = (await http.get(f"/contests/{contest['id']}/teams", headers=unit_staff(synced, "B"))).json()
    assert [t["union_id"] for t in own] == [str(synced["units"]["B"])]


async def test_every_refusal_names_the_rule_broken_and_changes_nothing(synced, http, db):
    contest = await new_contest(http, synced)
    a, b = synced["people"]["A"], synced["people"]["B"]

    def team(people, leaders=(0,)):
        return {"union_id": str(synced["units"]["A"]),
                "members": [{"member_id": str(p), "leader": i in leaders} for i, p in enumerate(people)]}

    cases = {
        "team-too-small": team(a[:3]),
        "no-woman": team(a[1:5]),
        "leader-count": team(a[:4], leaders=(0, 1)),
        "not-a-member": team(a[:3] + [uuid.uuid4()]),
        "out-of-subtree": team(a[:3] + [b[1]]),
    }
    for kind, body in cases.items():
        r = await register(http, synced, contest, "A", body)
        assert r.status_code == 422, (kind, r.text)
        assert r.json()["type"] == f"/problems/{kind}", (kind, r.json())
        assert r.headers["content-type"].startswith("application/problem+json")
    no_leader = await register(http, synced, contest, "A", team(a[:4], leaders=()))
    assert no_leader.json()["type"] == "/problems/leader-count"
    men = await register(http, synced, contest, "M")
    assert men.status_code == 422 and men.json()["type"] == "/problems/no-woman"
    outside = await register(http, synced, contest, "X", headers=auth())
    assert outside.status_code == 422 and outside.json()["type"] == "/problems/out-of-subtree"
    assert outside.json()["errors"][0]["field"] == "body.union_id"
    foreign_unit = await register(http, synced, contest, "A", headers=unit_staff(synced, "B"))
    assert foreign_unit.status_code == 422 and foreign_unit.json()["type"] == "/problems/unknown-unit"  # as unknown

    assert await db.fetchval("SELECT count(*) FROM contest_teams WHERE contest_id = $1", uuid.UUID(contest["id"])) == 0
    assert await db.fetchval("SELECT count(*) FROM contest_entries WHERE contest_id = $1",
                             uuid.UUID(contest["id"])) == 0
    assert await staged(db, "TeamRegistered", contest["id"]) == []


async def test_a_person_is_in_one_team_per_contest(synced, http, db):
    contest = await new_contest(http, synced, max_teams_per_unit=2)
    a = synced["people"]["A"]
    assert (await register(http, synced, contest, "A")).status_code == 201
    second = {"union_id": str(synced["units"]["A"]),
              "members": [{"member_id": str(p), "leader": i == 1} for i, p in enumerate([a[0]] + a[4:6] + [a[3]])]}
    r = await register(http, synced, contest, "A", second)
    assert r.status_code == 409 and r.json()["type"] == "/problems/already-in-a-team"
    assert await db.fetchval("SELECT count(*) FROM contest_teams WHERE contest_id = $1", uuid.UUID(contest["id"])) == 1

    # In another contest the same people may form a team again.
    assert (await register(http, synced, await new_contest(http, synced), "A")).status_code == 201


async def test_registration_only_while_open_and_inside_the_window(synced, http, db):
    draft = await new_contest(http, synced, open_now=False)
    r = await register(http, synced, draft, "B")
    assert r.status_code == 409 and r.json()["type"] == "/problems/registration-closed"

    now = datetime.now(timezone.utc)
    past = await new_contest(http, synced, opens_at=(now - timedelta(days=20)).isoformat(),
                             closes_at=(now + timedelta(seconds=1)).isoformat())
    await asyncio.sleep(1.5)  # the window ends while the contest is open
    r = await register(http, synced, past, "B")
    assert r.status_code == 409 and r.json()["type"] == "/problems/registration-closed" and "已截止" in r.json()["detail"]

    contest = await new_contest(http, synced)
    assert (await http.post(f"/contests/{contest['id']}/status", json={"status": "closed"},
                            headers=organiser(synced))).status_code == 200
    r = await register(http, synced, contest, "B")
    assert r.status_code == 409 and r.json()["type"] == "/problems/registration-closed"
    assert await db.fetchval("SELECT count(*) FROM contest_teams WHERE contest_id = ANY($1::uuid[])",
                             [draft["id"], past["id"], contest["id"]]) == 0


async def test_a_contest_whose_registration_window_lies_wholly_in_the_past_cannot_be_opened(synced, http, db):
    """Beijing days: a window ending at 00:00 today (北京时间) ended yesterday."""
    today_starts = day_start(local_today())
    for opens, closes in ((today_starts - timedelta(days=20), today_starts - timedelta(days=6)),
                          (today_starts - timedelta(days=3), today_starts)):
        draft = await new_contest(http, synced, open_now=False, opens_at=opens.isoformat(),
                                  closes_at=closes.isoformat())
        r = await http.post(f"/contests/{draft['id']}/status", json={"status": "open"}, headers=organiser(synced))
        assert r.status_code == 422 and r.json()["type"] == "/problems/registration-window-past", r.text
        assert r.json()["errors"][0]["field"] == "body.closes_at" and "报名时间已过" in r.json()["detail"]
        assert (await http.get(f"/contests/{draft['id']}", headers=organiser(synced))).json()["status"] == "draft"
        assert await staged(db, "RegistrationOpened", draft["id"]) == []

    # A window that began in the past and ends after today may still be opened.
    late = await new_contest(http, synced, open_now=False, opens_at=(today_starts - timedelta(days=3)).isoformat(),
                             closes_at=(today_starts + timedelta(days=1)).isoformat())
    r = await http.post(f"/contests/{late['id']}/status", json={"status": "open"}, headers=organiser(synced))
    assert r.status_code == 200 and r.json()["status"] == "open"


async def test_waiting_list_moves_up_when_a_team_withdraws(synced, http, db):
    contest = await new_contest(http, synced, team_cap=1)
    first = (await register(http, synced, contest, "A")).json()
    second = (await register(http, synced, contest, "B")).json()
    third = (await register(http, synced, contest, "C")).json()
    assert (first["status"], second["status"], third["status"]) == ("registered", "waitlisted", "waitlisted")
    assert (second["waiting_position"], third["waiting_position"]) == (1, 2)
    assert all(m["entry_id"] is None for m in second["members"])  # no scoreable entry while waiting
    assert [e["waiting_position"] for e in await staged(db, "TeamWaitlisted", contest["id"])] == [1, 2]

    r = await http.post(f"/contests/{contest['id']}/teams/{first['id']}/withdraw", headers=unit_staff(synced, "A"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withdrawn" and r.json()["promoted_team_ids"] == [second["id"]]

    moved = (await http.get(f"/contests/{contest['id']}/teams/{second['id']}", headers=organiser(synced))).json()
    assert moved["status"] == "registered" and moved["promoted_at"] is not None
    still = (await http.get(f"/contests/{contest['id']}/teams/{third['id']}", headers=organiser(synced))).json()
    assert still["status"] == "waitlisted" and still["waiting_position"] == 1

    entries = await db.fetch("SELECT member_id, team_id FROM contest_entries WHERE contest_id = $1",
                             uuid.UUID(contest["id"]))
    assert {e["team_id"] for e in entries} == {uuid.UUID(second["id"])}
    [withdrawn] = await staged(db, "TeamWithdrawn", contest["id"])
    assert withdrawn["team_id"] == first["id"] and len(withdrawn["member_ids"]) == 4
    promoted = [e for e in await staged(db, "TeamRegistered", contest["id"]) if e["promoted_from_waiting_list"]]
    assert [e["team_id"] for e in promoted] == [second["id"]]
    assert len(await staged(db, "ContestantRegistered", contest["id"])) == 8

    again = await http.post(f"/contests/{contest['id']}/teams/{first['id']}/withdraw", headers=organiser(synced))
    assert again.status_code == 409 and again.json()["type"] == "/problems/already-withdrawn"
    # The withdrawn team's people are free to be fielded again (here: they join the queue).
    assert (await register(http, synced, contest, "A")).json()["status"] == "waitlisted"


async def test_racing_units_for_the_last_place(synced, http, db):
    for _ in range(3):
        contest = await new_contest(http, synced, team_cap=2)
        assert (await register(http, synced, contest, "A")).json()["status"] == "registered"
        c, d = await asyncio.gather(register(http, synced, contest, "C"), register(http, synced, contest, "D"))
        assert c.status_code == d.status_code == 201, (c.text, d.text)
        assert sorted([c.json()["status"], d.json()["status"]]) == ["registered", "waitlisted"]
        assert await db.fetchval("SELECT count(*) FROM contest_teams WHERE contest_id = $1 AND status = 'registered'",
                                 uuid.UUID(contest["id"])) == 2


async def test_individual_entries_only_in_contests_without_teams(synced, http):
    contest = await new_contest(http, synced)
    r = await http.post(f"/contests/{contest['id']}/entries", json={"member_id": str(synced["people"]["A"][0])},
                        headers=organiser(synced))
    assert r.status_code == 422 and r.json()["type"] == "/problems/team-based-contest"
    solo = await new_contest(http, synced, team_based=False)
    r = await register(http, synced, solo, "A")
    assert r.status_code == 422 and r.json()["type"] == "/problems/not-team-based"
    r = await http.post(f"/contests/{solo['id']}/entries", json={"member_id": str(synced["people"]["A"][0]),
                                                                  "event_id": solo["events"][0]["id"]},
                        headers=organiser(synced))
    assert r.status_code == 201 and r.json()["event_id"] == solo["events"][0]["id"]
