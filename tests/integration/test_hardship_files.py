"""Hardship files (困难职工建档) against the real broker and PostgreSQL: one file per household,
the level from the district's 低保, yearly re-verification with an overdue flag, closing (kept 10
years), scope, the field-level reading rule, and events without health, income or family detail."""
from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from unionops.clock import local_today
from tests.support.membership import set_minimum_living_standard
from tests.support.people import auth, new_resident_id
from tests.support.rows import projected
from tests.support.waiting import eventually
from welfare.domain.hardship import add_months

pytestmark = [pytest.mark.integration,
              # The sweep (overdue flags, files of members who left) runs every second here.
              pytest.mark.services("membership", "welfare", env={"welfare": {"HARDSHIP_SWEEP_INTERVAL_SECONDS": "1"}})]

MINIMUM = 100_000  # 低保: ¥1,000 a person a month
TODAY = local_today()


@pytest.fixture(scope="module")
def world(membership):
    yield {"east": membership.branch("锦江"), "west": membership.branch("青羊"), "membership": membership}


@pytest.fixture(scope="module")
async def standard(world, services):
    """The east district's 低保, set by the district's own staff."""
    async with httpx.AsyncClient(base_url=services["welfare"].url, timeout=10) as client:
        r = await set_minimum_living_standard(client, world["east"].district, TODAY - timedelta(days=30), MINIMUM,
                                              auth("staff", world["east"].district))
        assert r.status_code == 200, r.text
    return MINIMUM


async def known_to_welfare(http, unit) -> bool:
    r = await http.get(f"/minimum-living-standards/{unit}", headers=auth())
    return r.status_code == 200


async def admitted(world, db, union: uuid.UUID | None = None, name: str = "王秀英", **kwargs) -> uuid.UUID:
    """A member admitted through membership, once welfare's projection has them."""
    member = world["membership"].admit(union or world["east"].grassroots, name, **kwargs)
    await projected(db, members=[member])
    return member


def person(relation: str, name: str, id_number: str | None = None, **notes) -> dict:
    return {"relation": relation, "name": name, "id_number": id_number or new_resident_id(),
            "monthly_income_fen": 150_000} | notes


def household(*people: dict, income: int = 2_400_000, costs: int = 0, event: int = 0,
              causes=("illness",)) -> dict:
    """Three people and ¥24,000 a year: ¥666.66 a person a month, below a ¥1,000 低保 (deep)."""
    people = people or (person("self", "王秀英", health_note="2023年确诊乳腺癌，化疗中"),
                        person("spouse", "李建国", employment_note="下岗，零工"),
                        person("child", "李小明"))
    return {"household": list(people), "causes": list(causes), "annual_income_fen": income,
            "unavoidable_costs_fen": costs, "largest_event_cost_fen": event}


async def open_file(http, member, headers=None, people=(), **kwargs) -> httpx.Response:
    body = {"member_id": str(member), "file_kind": kwargs.pop("file_kind", "worker")} | household(*people, **kwargs)
    return await http.post("/hardship-files", json=body, headers=headers or auth())


async def test_level_is_deep_below_the_minimum_living_standard(world, standard, http, db):
    member = await admitted(world, db)
    r = await open_file(http, member, auth("staff", world["east"].street, "帮扶站社工"))
    assert r.status_code == 201, r.text
    f = r.json()
    assert f["level"] == "deep" and f["level_label"] == "深度困难" and f["status"] == "open"
    assert f["household_size"] == 3 and f["union_id"] == str(world["east"].grassroots)
    assert f["review_due_on"] == add_months(TODAY, 12).isoformat() and f["review_overdue"] is False
    assert "household" not in f and "annual_income_fen" not in f  # the response a key replay keeps

    stored = await db.fetchrow("SELECT * FROM hardship_files WHERE id = $1", uuid.UUID(f["id"]))
    assert stored["org_path"][-3:] == [world["east"].district, world["east"].street, world["east"].grassroots]
    people = await db.fetch("SELECT * FROM household_members WHERE file_id = $1", stored["id"])
    raw = b"".join(bytes(v) for p in people for v in p.values() if isinstance(v, (bytes, bytearray)))
    assert "乳腺癌".encode() not in raw and "王秀英".encode() not in raw  # encrypted at rest
    assert b"2400000" not in bytes(stored["annual_income_enc"])

    detail = await http.get(f"/hardship-files/{f['id']}", headers=auth())
    assert detail.status_code == 200
    d = detail.json()
    assert d["per_capita_monthly_fen"] == 66_666 and d["minimum_living_standard_fen"] == MINIMUM


async def test_events_carry_no_health_income_or_family_detail(world, standard, http, db):
    member = await admitted(world, db)
    f = (await open_file(http, member)).json()
    event = await db.fetchrow("SELECT payload FROM outbox WHERE event_type = 'HardshipFileOpened' AND key = $1", f["id"])
    payload = event["payload"]
    assert payload["level"] == "deep" and payload["file_kind"] == "worker"
    assert set(payload) == {"file_id", "member_id", "union_id", "org_path", "file_kind", "level", "opened_on",
                            "review_due_on"}
    assert "乳腺癌" not in str(payload) and "李建国" not in str(payload)


async def test_household_not_in_hardship_is_refused(world, standard, http, db):
    member = await admitted(world, db)
    before = await db.fetchval("SELECT count(*) FROM hardship_files")
    r = await open_file(http, member, income=7_200_000)  # exactly 2 × 低保 a person a month
    assert r.status_code == 422
    assert r.json()["type"] == "/problems/not-in-hardship" and "不符合困难职工建档条件" in r.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM hardship_files") == before


async def test_level_is_relative_below_twice_the_minimum_and_accident_for_a_costly_event(world, standard, http, db):
    relative = await open_file(http, await admitted(world, db), income=7_200_000 - 1)
    assert relative.status_code == 201 and relative.json()["level"] == "relative"
    accident = await open_file(http, await admitted(world, db), income=10_000_000, event=8_000_001,
                               causes=("accident",))
    assert accident.status_code == 201 and accident.json()["level"] == "accident"


async def test_one_file_per_household_and_an_out_of_scope_caller_learns_only_whom_to_ask(world, standard, http, db):
    husband_id = new_resident_id()
    first = await admitted(world, db, name="王秀英", female=True)
    r = await open_file(http, first, people=(person("self", "王秀英"), person("spouse", "李建国", husband_id)))
    assert r.status_code == 201, r.text

    # The husband is a member of a union in another district; his household is the same one.
    husband = await admitted(world, db, union=world["west"].grassroots, name="李建国")
    before = await db.fetchval("SELECT count(*) FROM hardship_files")
    dup = await http.post("/hardship-files", headers=auth("staff", world["west"].district), json={
        "member_id": str(husband), **household(person("self", "李建国", husband_id), person("child", "李小明"))})
    assert dup.status_code == 409, dup.text
    problem = dup.json()
    # West staff learn neither the union nor the file of another subtree, only whom to ask.
    assert not {"existing_union_id", "existing_union_name", "existing_file_id"} & set(problem)
    for secret in (str(world["east"].grassroots), str(world["east"].district), "锦江", r.json()["id"], "王秀英"):
        assert secret not in dup.text
    assert "其他工会" in problem["detail"] and "请联系" in problem["detail"]
    masked = husband_id[:4] + "*" * 10 + husband_id[-4:]
    assert masked in problem["detail"] and husband_id not in dup.text
    assert problem["errors"][0]["field"] == "body.household.0.id_number"
    assert await db.fetchval("SELECT count(*) FROM hardship_files") == before

    again = await open_file(http, first)  # the same member, another household on paper
    assert again.status_code == 409
    # Staff over both files may be told more.
    inside = await http.post("/hardship-files", headers=auth(), json={
        "member_id": str(husband), **household(person("self", "李建国", husband_id), person("child", "李小明"))})
    assert inside.status_code == 409 and inside.json()["existing_union_id"] == str(world["east"].grassroots)
    assert inside.json()["existing_file_id"] == r.json()["id"]


async def test_no_level_without_the_districts_minimum_living_standard(world, standard, http, db):
    member = await admitted(world, db, union=world["west"].grassroots)  # west has no 低保 set
    r = await open_file(http, member)
    assert r.status_code == 422 and r.json()["type"] == "/problems/minimum-living-standard-missing"


async def test_minimum_living_standard_is_set_by_a_federation_admin_or_the_districts_own_staff(world, http):
    url = f"/minimum-living-standards/{world['west'].district}/{TODAY}"
    await eventually(lambda: known_to_welfare(http, world["west"].district), what="the west district in welfare")
    assert (await http.put(url, json={"monthly_fen": 90_000},
                           headers=auth("staff", world["west"].street))).status_code == 403
    assert (await http.put(url, json={"monthly_fen": 90_000},
                           headers=auth("auditor", world["west"].district))).status_code == 403
    assert (await http.put(url, json={"monthly_fen": 0}, headers=auth())).status_code == 422
    later = f"/minimum-living-standards/{world['west'].district}/{TODAY + timedelta(days=365)}"
    assert (await http.put(later, json={"monthly_fen": 95_000}, headers=auth())).status_code == 200
    listed = await http.get(f"/minimum-living-standards/{world['west'].district}", headers=auth())
    assert [s["monthly_fen"] for s in listed.json()] == [95_000]  # the 403s changed nothing


async def test_a_districts_minimum_living_standard_is_readable_only_within_scope(world, standard, http):
    east = world["east"].district
    unknown = await http.get(f"/minimum-living-standards/{uuid.uuid4()}", headers=auth("staff", world["west"].district))
    theirs = await http.get(f"/minimum-living-standards/{east}", headers=auth("staff", world["west"].district))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["detail"] == unknown.json()["detail"] and str(MINIMUM) not in theirs.text
    assert (await http.get(f"/minimum-living-standards/{east}", headers=auth("auditor", east))).status_code == 200
    # A street's staff read the standard of their own district, which applies to them.
    below = await http.get(f"/minimum-living-standards/{east}", headers=auth("staff", world["east"].street))
    assert below.status_code == 200 and below.json()[0]["monthly_fen"] == MINIMUM
    # Setting one outside one's subtree answers like an unknown unit.
    put = await http.put(f"/minimum-living-standards/{east}/{TODAY}", json={"monthly_fen": 1},
                         headers=auth("staff", world["west"].district))
    assert put.status_code == 404 and put.json()["detail"] == unknown.json()["detail"]


async def test_a_minimum_living_standard_for_a_unit_that_does_not_exist_is_refused(world, http, db):
    nowhere = uuid.uuid4()
    r = await http.put(f"/minimum-living-standards/{nowhere}/{TODAY}", json={"monthly_fen": 90_000},
                       headers=auth())
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert await db.fetchval("SELECT count(*) FROM minimum_living_standards WHERE org_id = $1", nowhere) == 0


async def test_migrant_worker_is_eligible_only_after_twelve_months_of_membership(world, standard, http, db):
    newcomer = await admitted(world, db, migrant=True)
    r = await open_file(http, newcomer)
    assert r.status_code == 422 and r.json()["type"] == "/problems/migrant-worker-waiting-period"
    veteran = world["membership"].http.post("/members", json={
        "union_id": str(world["east"].grassroots), "name": "赵大勇", "id_number": new_resident_id(),
        "is_migrant_worker": True, "joined_on": str(add_months(TODAY, -12))})
    assert veteran.status_code == 201, veteran.text
    member = uuid.UUID(veteran.json()["id"])
    await projected(db, members=[member])
    assert (await open_file(http, member)).status_code == 201


async def test_model_worker_file_is_its_own_kind(world, standard, http, db):
    r = await open_file(http, await admitted(world, db), file_kind="model_worker")
    assert r.status_code == 201 and r.json()["file_kind"] == "model_worker"
    assert r.json()["file_kind_label"] == "困难劳模档案"


async def test_staff_see_and_change_files_only_within_their_subtree(world, standard, http, db):
    member = await admitted(world, db)
    outsider = auth("staff", world["west"].district)
    theirs, unknown = await open_file(http, member, outsider), await open_file(http, uuid.uuid4(), outsider)
    assert theirs.status_code == unknown.status_code == 422  # exactly as an unknown member
    assert theirs.json()["detail"] == unknown.json()["detail"]
    f = (await open_file(http, member)).json()
    assert (await http.get(f"/hardship-files/{f['id']}", headers=outsider)).status_code == 404
    assert (await http.post(f"/hardship-files/{f['id']}/reviews", json=household(),
                            headers=outsider)).status_code == 404
    assert (await http.post(f"/hardship-files/{f['id']}/close", json={"reason": "other"},
                            headers=outsider)).status_code == 404
    listed = await http.get("/hardship-files", params={"member_id": str(member)}, headers=outsider)
    assert listed.status_code == 200 and listed.json() == []
    inside = await http.get("/hardship-files", params={"member_id": str(member)},
                            headers=auth("staff", world["east"].street))
    assert [x["id"] for x in inside.json()] == [f["id"]]
    assert (await http.get(f"/hardship-files/{f['id']}")).status_code == 401
    assert (await open_file(http, member, auth("auditor", world["east"].district))).status_code == 403


async def test_auditor_sees_levels_and_amounts_but_not_health_notes(world, standard, http, db):
    member = await admitted(world, db)
    f = (await open_file(http, member)).json()
    staff = (await http.get(f"/hardship-files/{f['id']}", headers=auth("staff", world["east"].grassroots))).json()
    assert staff["notes_visible"] == "all"
    assert staff["household"][0]["health_note"] == "2023年确诊乳腺癌，化疗中"
    assert staff["household"][1]["employment_note"] == "下岗，零工"

    audit = await http.get(f"/hardship-files/{f['id']}", headers=auth("auditor", world["east"].district))
    assert audit.status_code == 200
    a = audit.json()
    assert a["level"] == "deep" and a["annual_income_fen"] == 2_400_000 and a["per_capita_monthly_fen"] == 66_666
    assert a["notes_visible"] == "none"
    assert all(p["health_note"] is None and p["employment_note"] is None for p in a["household"])
    assert a["household"][1]["name"] == "李*国"  # masked for roles that only audit
    assert "乳腺癌" not in audit.text and "下岗" not in audit.text
    for p in a["household"] + staff["household"]:
        assert p["id_number_masked"][4:14] == "*" * 10 and "id_number" not in p


async def test_member_reads_their_own_file_only(world, standard, http, db):
    member = await admitted(world, db)
    other = await admitted(world, db, name="陈志强")
    mine = (await open_file(http, member)).json()
    theirs = (await open_file(http, other)).json()
    as_member = auth("member", world["east"].grassroots, str(member))

    r = await http.get("/hardship-files/mine", headers=as_member)
    assert r.status_code == 200, r.text
    own = r.json()
    assert own["id"] == mine["id"] and own["notes_visible"] == "own"
    me, spouse = own["household"][0], own["household"][1]
    assert me["health_note"] == "2023年确诊乳腺癌，化疗中"
    assert spouse["name"] == "李建国" and spouse["employment_note"] is None  # another person's notes
    assert all(p["id_number_masked"][4:14] == "*" * 10 for p in own["household"])

    assert (await http.get(f"/hardship-files/{mine['id']}", headers=as_member)).status_code == 200
    assert (await http.get(f"/hardship-files/{theirs['id']}", headers=as_member)).status_code == 404
    assert (await http.get("/hardship-files", headers=as_member)).status_code == 403
    assert (await http.get("/hardship-files/due", headers=as_member)).status_code == 403
    assert (await http.post(f"/hardship-files/{mine['id']}/close", json={"reason": "other"},
                            headers=as_member)).status_code == 403
    nobody = auth("member", world["east"].grassroots, str(uuid.uuid4()))
    assert (await http.get("/hardship-files/mine", headers=nobody)).status_code == 404
    assert (await http.get("/hardship-files/mine", headers=auth())).status_code == 403


async def test_files_due_for_review_are_listed(world, standard, http, db):
    soon = (await open_file(http, await admitted(world, db))).json()
    later = (await open_file(http, await admitted(world, db))).json()
    await db.execute("UPDATE hardship_files SET review_due_on = $2 WHERE id = $1", uuid.UUID(soon["id"]),
                     TODAY + timedelta(days=10))
    staff = auth("staff", world["east"].district)
    due = [f["id"] for f in (await http.get("/hardship-files/due", params={"within_days": 30}, headers=staff)).json()]
    assert soon["id"] in due and later["id"] not in due
    due5 = [f["id"] for f in (await http.get("/hardship-files/due", params={"within_days": 5}, headers=staff)).json()]
    assert soon["id"] not in due5
    west = await http.get("/hardship-files/due", params={"within_days": 30}, headers=auth("staff", world["west"].district))
    assert soon["id"] not in [f["id"] for f in west.json()]


async def test_file_not_reverified_in_time_is_flagged(world, standard, http, db):
    f = (await open_file(http, await admitted(world, db))).json()
    file_id = uuid.UUID(f["id"])
    await db.execute("UPDATE hardship_files SET review_due_on = $2 WHERE id = $1", file_id, TODAY - timedelta(days=1))
    await eventually(lambda: db.fetchval("SELECT review_overdue FROM hardship_files WHERE id = $1", file_id),
                     what="the sweep to flag the overdue file")
    row = await db.fetchrow("SELECT status FROM hardship_files WHERE id = $1", file_id)
    assert row["status"] == "open"  # flagged, not closed: campaigns skip it until it is re-verified
    assert await db.fetchval("SELECT count(*) FROM hardship_file_history WHERE file_id = $1"
                             " AND action = 'flagged_overdue'", file_id) == 1
    listed = (await http.get("/hardship-files/due", params={"within_days": 0}, headers=auth())).json()
    assert any(x["id"] == f["id"] and x["review_overdue"] for x in listed)


async def test_review_recomputes_the_level_and_clears_the_overdue_flag(world, standard, http, db):
    f = (await open_file(http, await admitted(world, db))).json()
    file_id = uuid.UUID(f["id"])
    await db.execute("UPDATE hardship_files SET review_due_on = $2, review_overdue = true WHERE id = $1",
                     file_id, TODAY - timedelta(days=3))
    r = await http.post(f"/hardship-files/{f['id']}/reviews", json=household(income=5_000_000),
                        headers=auth("staff", world["east"].street, "复核员"))
    assert r.status_code == 201, r.text
    reviewed = r.json()
    assert reviewed["level"] == "relative" and reviewed["status"] == "open"
    assert reviewed["review_overdue"] is False and reviewed["last_reviewed_on"] == TODAY.isoformat()
    assert reviewed["review_due_on"] == add_months(TODAY, 12).isoformat()
    event = await db.fetchrow("SELECT payload FROM outbox WHERE event_type = 'HardshipFileReviewed' AND key = $1",
                              f["id"])
    assert event["payload"]["still_in_hardship"] is True and event["payload"]["level"] == "relative"
    assert "5000000" not in str(event["payload"])
    # the earlier household is kept as revision 1; only the new one counts for de-duplication
    assert await db.fetchval("SELECT count(*) FROM household_members WHERE file_id = $1 AND open_file", file_id) == 3
    assert await db.fetchval("SELECT count(*) FROM household_members WHERE file_id = $1", file_id) == 6


async def test_household_out_of_hardship_is_closed_and_kept_ten_years(world, standard, http, db):
    member = await admitted(world, db)
    spouse_id = new_resident_id()
    people = (person("self", "王秀英"), person("spouse", "李建国", spouse_id))
    f = (await open_file(http, member, people=people)).json()
    r = await http.post(f"/hardship-files/{f['id']}/reviews", json=household(*people, income=20_000_000),
                        headers=auth())
    assert r.status_code == 201, r.text
    closed = r.json()
    assert closed["status"] == "closed" and closed["close_reason"] == "out_of_hardship"
    assert closed["closed_on"] == TODAY.isoformat() and closed["retain_until"] == add_months(TODAY, 120).isoformat()
    events = await db.fetch("SELECT event_type, payload FROM outbox WHERE key = $1 ORDER BY id", f["id"])
    assert [e["event_type"] for e in events] == ["HardshipFileOpened", "HardshipFileReviewed", "HardshipFileClosed"]
    assert events[1]["payload"]["still_in_hardship"] is False
    assert events[2]["payload"]["reason"] == "out_of_hardship"
    # a closed file frees its people: the household may be filed again when hardship returns
    assert (await open_file(http, member, people=people)).status_code == 201


async def test_file_is_closed_for_another_reason_and_a_closed_file_cannot_be_changed(world, standard, http, db):
    f = (await open_file(http, await admitted(world, db))).json()
    r = await http.post(f"/hardship-files/{f['id']}/close", json={"reason": "deceased", "note": "2024年病故"},
                        headers=auth("staff", world["east"].grassroots))
    assert r.status_code == 200 and r.json()["close_reason"] == "deceased"
    assert (await http.post(f"/hardship-files/{f['id']}/close", json={"reason": "other"},
                            headers=auth())).status_code == 409
    assert (await http.post(f"/hardship-files/{f['id']}/reviews", json=household(),
                            headers=auth())).status_code == 409
    detail = (await http.get(f"/hardship-files/{f['id']}", headers=auth())).json()
    assert detail["close_note"] == "2024年病故"
    audit = (await http.get(f"/hardship-files/{f['id']}", headers=auth("auditor", world["east"].district))).json()
    assert audit["close_note"] is None


async def test_file_of_a_member_who_left_is_closed(world, standard, http, db):
    """Aid is for members: when MemberLeft arrives the sweep closes the open file (kept 10 years)."""
    member = await admitted(world, db)
    f = (await open_file(http, member)).json()
    r = world["membership"].http.post(f"/members/{member}/status-changes", json={"status": "left", "reason": "resigned"})
    assert r.status_code == 201, r.text
    await eventually(lambda: db.fetchval("SELECT status = 'closed' FROM hardship_files WHERE id = $1",
                                         uuid.UUID(f["id"])), what="the file of a member who left to close")
    row = await db.fetchrow("SELECT close_reason, retain_until FROM hardship_files WHERE id = $1", uuid.UUID(f["id"]))
    assert row["close_reason"] == "member_left" and row["retain_until"] == add_months(TODAY, 120)
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'HardshipFileClosed' AND key = $1",
                             f["id"]) == 1
    assert (await open_file(http, member)).status_code == 422  # and no new file for them


async def test_a_replayed_idempotency_key_opens_one_file(world, standard, http, db):
    member = await admitted(world, db)
    headers = auth() | {"Idempotency-Key": f"file-{uuid.uuid4()}"}
    body = {"member_id": str(member)} | household()
    first = await http.post("/hardship-files", json=body, headers=headers)
    again = await http.post("/hardship-files", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    stored = await db.fetchval("SELECT body::text FROM idempotency_keys WHERE key = $1", headers["Idempotency-Key"])
    assert "乳腺癌" not in stored and "李建国" not in stored


async def test_file_follows_its_union_when_the_union_moves(world, standard, http, db):
    membership = world["membership"]
    branch = membership.branch("武侯")
    await set_minimum_living_standard(http, branch.district, TODAY - timedelta(days=1), MINIMUM)
    member = await admitted(world, db, union=branch.grassroots)
    f = (await open_file(http, member)).json()
    r = membership.http.post(f"/organisations/{branch.street}/move", json={"new_parent_id": str(world["west"].district)})
    assert r.status_code == 200, r.text
    west = auth("staff", world["west"].district)

    async def visible():
        return (await http.get(f"/hardship-files/{f['id']}", headers=west)).status_code == 200
    await eventually(visible, what="UnionMoved to rewrite the file's path")
    assert (await http.get(f"/hardship-files/{f['id']}", headers=auth("staff", branch.district))).status_code == 404


async def test_bad_resident_id_in_the_household_is_refused_with_its_field(world, standard, http, db):
    member = await admitted(world, db)
    r = await open_file(http, member, people=(person("self", "王秀英", "11010519491231002Y"),))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.household.0.id_number"
    r = await open_file(http, member, people=(person("spouse", "李建国"),))
    assert r.status_code == 422  # the member themselves must be in the household


async def test_two_households_racing_with_a_shared_person_get_one_file(world, standard, http, db):
    import asyncio

    shared = new_resident_id()
    a, b = await admitted(world, db, name="周敏"), await admitted(world, db, name="吴刚")
    answers = await asyncio.gather(
        open_file(http, a, people=(person("self", "周敏"), person("parent", "周老汉", shared))),
        open_file(http, b, people=(person("self", "吴刚"), person("parent", "周老汉", shared))))
    assert sorted(r.status_code for r in answers) == [201, 409]
