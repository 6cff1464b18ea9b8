"""Training (培训) as the work plans name it — 集体协商指导员 trained by each street union, new
workers'-congress delegates, union officers, job skills for unemployed members — with
competitions, membership and notify as processes on the real broker and PostgreSQL: a programme
is organised by a unit for members of its subtree, enrolled from the member register, its
attendance kept per session, completion decided by its rule when it finishes, the certificate
recorded in the member's file in membership and told to the member; figures per district."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from tests.integration.test_notify_service import admit_member, new_address
from tests.integration.test_notify_subscriptions import mails
from tests.support.membership import change_status, create_unit, found_district
from tests.support.people import auth
from tests.support.rows import projected, staged
from tests.support.waiting import eventually
from unionops.clock import local_today

# The set test_team_notices runs with, so its processes are kept.
pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "competitions", "notify", sinks=("smtpsink",),
                                   env={"notify": {"NOTIFY_POLL_INTERVAL_SECONDS": "0.5"}}, subject="competitions")]


def programme_body(unit, **overrides) -> dict:
    today = local_today()
    return {"name": f"集体协商指导员培训班{uuid.uuid4().hex[:4]}", "kind": "bargaining_instructor",
            "org_id": str(unit), "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=4)).isoformat(),
            "place": "区职工服务中心三楼", "sessions": 3, "min_sessions": 2} | overrides


async def new_programme(http, org_id, headers, *, open_now: bool = True, **overrides) -> dict:
    r = await http.post("/training/programmes", json=programme_body(org_id, **overrides), headers=headers)
    assert r.status_code == 201, r.text
    if open_now:
        r = await set_status(http, r.json()["id"], "open", headers)
        assert r.status_code == 200, r.text
    return r.json()


async def set_status(http, programme_id, status, headers):
    return await http.post(f"/training/programmes/{programme_id}/status", json={"status": status}, headers=headers)


async def enrol(http, programme_id, member_ids, headers):
    return await http.post(f"/training/programmes/{programme_id}/enrolments",
                           json={"member_ids": [str(m) for m in member_ids]}, headers=headers)


async def attended(http, programme_id, session, member_ids, headers):
    r = await http.put(f"/training/programmes/{programme_id}/sessions/{session}/attendance",
                       json={"member_ids": [str(m) for m in member_ids]}, headers=headers)
    assert r.status_code == 200, r.text


def training_entries(client, member_id) -> list[dict]:
    r = client.get(f"/members/{member_id}/file", headers=auth())
    assert r.status_code == 200, r.text
    return [e for e in r.json()["entries"] if e["kind"] == "training_completed"]


async def test_a_member_who_attended_enough_sessions_completes_and_the_certificate_is_in_the_member_file(
        client, http, db, sink):
    district = found_district(client)
    [union] = district.union_ids
    address = new_address()
    good = admit_member(client, union, "刘洋", email=address)
    enough, too_few = admit_member(client, union, "陈静"), admit_member(client, union, "王强")
    await projected(db, members=[good, enough, too_few], units=[district.id, district.street_id, union])
    street = auth("staff", district.street_id, "街道工会组织委员")
    programme = await new_programme(http, district.street_id, street)
    assert programme["status"] == "open" and programme["kind_label"] == "集体协商指导员培训"
    [opened] = await staged(db, "TrainingOpened", programme["id"])
    assert opened["org_id"] == district.street_id and opened["sessions"] == 3

    r = await enrol(http, programme["id"], [good, enough, too_few], street)
    assert r.status_code == 201 and r.json()["refused"] == [], r.text
    [enrolled] = await staged(db, "TrainingEnrolled", programme["id"])
    assert sorted(enrolled["member_ids"]) == sorted([good, enough, too_few])
    assert (await set_status(http, programme["id"], "running", street)).status_code == 200
    await attended(http, programme["id"], 1, [good, enough, too_few], street)
    await attended(http, programme["id"], 2, [good, enough, too_few], street)
    await attended(http, programme["id"], 2, [good, enough], street)  # the list as a whole: 王强 was not there
    await attended(http, programme["id"], 3, [good], street)

    r = await set_status(http, programme["id"], "finished", street)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["enrolled"], r.json()["completed"], r.json()["certificates"]) == \
        ("finished", 3, 2, 2)
    completed = {e["member_id"]: e for e in await staged(db, "TrainingCompleted", programme["id"])}
    assert set(completed) == {good, enough}
    assert completed[good]["sessions_attended"] == 3 and completed[enough]["sessions_attended"] == 2
    numbers = {e["certificate_no"] for e in completed.values()}
    assert len(numbers) == 2 and all(re.fullmatch(rf"PX-{local_today().year}-XS-\d{{6}}", n) for n in numbers)

    [entry] = await eventually(lambda: _async(training_entries(client, good)), "the certificate in the member file")
    assert entry["detail"]["certificate_no"] == completed[good]["certificate_no"]
    assert entry["detail"]["programme"] == programme["name"] and entry["detail"]["label"] == "集体协商指导员培训"
    await eventually(lambda: _async(training_entries(client, enough)), "the second certificate in the member file")
    assert training_entries(client, too_few) == []

    certificate = completed[good]["certificate_no"]
    notices = await mails(sink, address, 3)  # the welcome to the union, the enrolment, the certificate
    [told] = [m for m in notices if certificate in m["text"]]
    assert f"“{programme['name']}”" in told["text"] and told["subject"] == f"{programme['name']}：结业证书"
    [welcome] = [m for m in notices if m["subject"] == f"{programme['name']}：报名成功"]
    assert "区职工服务中心三楼" in welcome["text"]

    mine = await http.get("/training/mine", headers=auth("member", union, subject=good))
    assert mine.status_code == 200, mine.text
    [own] = mine.json()
    assert (own["programme_id"], own["certificate_no"], own["sessions_attended"]) == \
        (programme["id"], certificate, 3)
    enrolees = (await http.get(f"/training/programmes/{programme['id']}/enrolments", headers=street)).json()
    assert {e["member_id"]: e["completed"] for e in enrolees["items"]} == {good: True, enough: True, too_few: False}
    # No contact details travel with training or stay with it: ids, names and the programme only.
    stored = await db.fetch("SELECT t::text AS row FROM training_enrolments t WHERE programme_id = $1",
                            uuid.UUID(programme["id"]))
    assert address not in str(completed) + str(enrolled) + str([r["row"] for r in stored])


async def _async(value):
    return value or None


async def test_where_an_assessment_is_required_only_members_who_passed_it_complete(client, http, db):
    district = found_district(client)
    [union] = district.union_ids
    passed, failed, absent = (admit_member(client, union, n) for n in ("杨过", "小龙", "郭靖"))
    await projected(db, members=[passed, failed, absent], units=[district.id, district.street_id, union])
    officer = auth("staff", district.id, "区总工会")
    programme = await new_programme(http, district.id, officer, kind="union_officer", name="新任工会干部上岗培训班",
                                    sessions=1, min_sessions=1, assessment_required=True)
    assert (await enrol(http, programme["id"], [passed, failed, absent], officer)).status_code == 201
    early = await http.put(f"/training/programmes/{programme['id']}/assessment",
                           json={"passed": [passed]}, headers=officer)
    assert early.status_code == 409 and early.json()["type"] == "/problems/training-not-running"
    assert (await set_status(http, programme["id"], "running", officer)).status_code == 200
    await attended(http, programme["id"], 1, [passed, failed], officer)
    stranger = await http.put(f"/training/programmes/{programme['id']}/assessment",
                              json={"passed": [passed, str(uuid.uuid4())]}, headers=officer)
    assert stranger.status_code == 422 and stranger.json()["errors"][0]["field"] == "body.passed.1"
    r = await http.put(f"/training/programmes/{programme['id']}/assessment",
                       json={"passed": [passed], "failed": [failed]}, headers=officer)
    assert r.status_code == 200 and (r.json()["passed"], r.json()["failed"]) == (1, 1), r.text
    assert (await set_status(http, programme["id"], "finished", officer)).status_code == 200
    assert [e["member_id"] for e in await staged(db, "TrainingCompleted", programme["id"])] == [passed]


async def test_a_bulk_enrolment_enrols_who_may_come_and_lists_the_others_with_reasons(client, http, db):
    district = found_district(client, unions=2)
    inside, beside = district.union_ids
    other_street = create_unit(client, district.id, "street", "street_union", name=f"另一街道工会{uuid.uuid4().hex[:4]}")
    beside_union = create_unit(client, other_street, "grassroots", "enterprise_union",
                               name=f"另一街道机械厂工会{uuid.uuid4().hex[:4]}")
    elsewhere = found_district(client)
    first, second, third = (admit_member(client, inside, n) for n in ("赵一", "钱二", "孙三"))
    retained = admit_member(client, beside, "李四")
    other_street_member = admit_member(client, beside_union, "周五")
    outsider = admit_member(client, elsewhere.union_ids[0], "吴六")
    r = change_status(client, retained, "retained", "retired")
    assert r.status_code == 201, r.text
    everyone = [first, second, third, retained, other_street_member, outsider]
    await projected(db, members=everyone, units=[district.id, district.street_id, inside, beside, beside_union])
    await eventually(lambda: db.fetchval("SELECT status = 'retained' FROM members WHERE member_id = $1",
                                         uuid.UUID(retained)), "the retained status in competitions")
    officer = auth("staff", district.id, "区总工会组织部")
    programme = await new_programme(http, district.street_id, officer, capacity=2, kind="union_officer",
                                    name="2026年基层工会干部培训班")

    nobody = str(uuid.uuid4())
    r = await enrol(http, programme["id"], [first, nobody, outsider, other_street_member, retained, first, second,
                                            third], officer)
    assert r.status_code == 201, r.text
    assert r.json()["enrolled"] == [first, second]
    assert [(x["member_id"], x["reason"]) for x in r.json()["refused"]] == [
        (nobody, "not_found"), (outsider, "not_found"), (other_street_member, "out_of_scope"),
        (retained, "not_active"), (third, "capacity")]
    assert all(re.search("[\u4e00-\u9fff]", x["message"]) for x in r.json()["refused"])
    again = await enrol(http, programme["id"], [first], officer)
    assert [(x["member_id"], x["reason"]) for x in again.json()["refused"]] == [(first, "already_enrolled")]
    view = (await http.get(f"/training/programmes/{programme['id']}", headers=officer)).json()
    assert (view["enrolled"], view["places_left"]) == (2, 0)
    [event] = await staged(db, "TrainingEnrolled", programme["id"])
    assert event["member_ids"] == [first, second]


async def test_job_skills_for_the_unemployed_take_members_retained_as_unemployed_only(client, http, db):
    district = found_district(client)
    [union] = district.union_ids
    working, unemployed = admit_member(client, union, "郑工"), admit_member(client, union, "冯闲")
    assert change_status(client, unemployed, "retained", "unemployed").status_code == 201
    await projected(db, members=[working, unemployed], units=[district.id, district.street_id, union])
    await eventually(lambda: db.fetchval("SELECT status_reason = 'unemployed' FROM members WHERE member_id = $1",
                                         uuid.UUID(unemployed)), "the reason of the status change in competitions")
    officer = auth("staff", district.id, "区总工会")
    programme = await new_programme(http, district.id, officer, kind="job_skills", unemployed_only=True,
                                    name="下岗失业职工再就业技能培训班")
    r = await enrol(http, programme["id"], [working, unemployed], officer)
    assert r.json()["enrolled"] == [unemployed]
    assert [(x["member_id"], x["reason"]) for x in r.json()["refused"]] == [(working, "not_unemployed")]


async def test_a_member_enrols_themselves_while_enrolment_is_open(client, http, db):
    district = found_district(client)
    [union] = district.union_ids
    member = admit_member(client, union, "褚学")
    await projected(db, members=[member], units=[district.id, district.street_id, union])
    officer = auth("staff", district.id, "区总工会")
    programme = await new_programme(http, district.id, officer, open_now=False, kind="congress_delegate",
                                    name="新一届职代会代表培训班")
    myself = auth("member", union, subject=member)
    draft = await http.post(f"/training/programmes/{programme['id']}/enrolments/mine", headers=myself)
    assert draft.status_code == 404  # not announced yet: it does not exist for members
    assert programme["id"] not in {p["id"] for p in (await http.get("/training/mine/open", headers=myself)).json()}
    assert (await set_status(http, programme["id"], "open", officer)).status_code == 200
    offered = (await http.get("/training/mine/open", headers=myself)).json()
    assert programme["id"] in {p["id"] for p in offered}
    r = await http.post(f"/training/programmes/{programme['id']}/enrolments/mine", headers=myself)
    assert r.status_code == 201 and r.json()["enrolled"] == [member], r.text
    twice = await http.post(f"/training/programmes/{programme['id']}/enrolments/mine", headers=myself)
    assert twice.status_code == 409 and twice.json()["type"] == "/problems/enrolment-already-enrolled"
    assert (await http.get(f"/training/programmes/{programme['id']}", headers=myself)).status_code == 403


async def test_a_programme_outside_the_callers_subtree_is_not_found_like_a_nonexistent_one(client, http, db):
    district, other = found_district(client), found_district(client)
    await projected(db, units=[district.id, district.street_id, other.id])
    owner, stranger = auth("staff", district.id, "区总工会"), auth("staff", other.id, "另一区总工会")
    programme = await new_programme(http, district.id, owner)
    nobody = str(uuid.uuid4())

    def shape(r):
        return r.status_code, {k: v for k, v in r.json().items() if k != "instance"}

    for method, suffix, body in (("GET", "", None), ("POST", "/status", {"status": "running"}),
                                 ("GET", "/enrolments", None),
                                 ("POST", "/enrolments", {"member_ids": [str(uuid.uuid4())]}),
                                 ("PUT", "/sessions/1/attendance", {"member_ids": []})):
        seen = await http.request(method, f"/training/programmes/{programme['id']}{suffix}", json=body,
                                  headers=stranger)
        absent = await http.request(method, f"/training/programmes/{nobody}{suffix}", json=body, headers=stranger)
        assert seen.status_code == 404 and shape(seen) == shape(absent), (suffix, seen.text)
        assert programme["id"] not in str(shape(seen)[1])  # `instance` is the path the caller sent
    listed = (await http.get("/training/programmes", headers=stranger)).json()
    assert programme["id"] not in {p["id"] for p in listed["items"]}
    assert (await http.get(f"/training/figures/{district.id}", headers=stranger)).status_code == 404
    assert (await http.get(f"/training/programmes/{programme['id']}", headers=owner)).status_code == 200


async def test_bad_input_is_refused_with_a_chinese_message_naming_the_field_and_nothing_written(client, http, db):
    district = found_district(client)
    await projected(db, units=[district.id])
    officer = auth("staff", district.id, "区总工会")
    before = await db.fetchval("SELECT (SELECT count(*) FROM training_programmes) + (SELECT count(*) FROM outbox)")
    today = local_today()
    for overrides, field in (({"ends_on": (today - timedelta(days=1)).isoformat()}, "body.ends_on"),
                             ({"min_sessions": 4}, "body.min_sessions"),
                             ({"kind": "cooking"}, "body.kind"),
                             ({"sessions": "3"}, "body.sessions"),
                             ({"name": "培训班🎉"}, "body.name"),
                             ({"unemployed_only": True}, "body.unemployed_only"),
                             ({"org_id": str(uuid.uuid4())}, "body.org_id")):
        r = await http.post("/training/programmes", json=programme_body(district.id, **overrides), headers=officer)
        assert r.status_code == 422, (overrides, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}, (overrides, r.json())
        assert re.search("[\u4e00-\u9fff]", r.json()["errors"][0]["message"]), r.json()
    assert await db.fetchval(
        "SELECT (SELECT count(*) FROM training_programmes) + (SELECT count(*) FROM outbox)") == before

    past = await new_programme(http, district.id, officer, open_now=False,
                               starts_on=(today - timedelta(days=10)).isoformat(),
                               ends_on=(today - timedelta(days=8)).isoformat())
    refused = await set_status(http, past["id"], "open", officer)
    assert refused.status_code == 422 and refused.json()["type"] == "/problems/training-dates-past"
    assert refused.json()["errors"][0]["field"] == "body.ends_on"
    assert await staged(db, "TrainingOpened", past["id"]) == []
    assert (await http.get(f"/training/programmes/{past['id']}", headers=officer)).json()["status"] == "draft"


async def test_the_district_figures_count_programmes_and_people_per_street_by_kind(client, http, db):
    district = found_district(client)
    [union] = district.union_ids
    second_street = create_unit(client, district.id, "street", "street_union", name=f"第二街道工会{uuid.uuid4().hex[:4]}")
    second_union = create_unit(client, second_street, "grassroots", "enterprise_union",
                               name=f"第二街道电子厂工会{uuid.uuid4().hex[:4]}")
    a, b = admit_member(client, union, "蒋一"), admit_member(client, union, "沈二")
    c = admit_member(client, second_union, "韩三")
    await projected(db, members=[a, b, c], units=[district.id, district.street_id, union, second_street, second_union])
    officer = auth("staff", district.id, "区总工会")
    instructors = await new_programme(http, district.street_id, officer, sessions=1, min_sessions=1)
    officers = await new_programme(http, district.id, officer, kind="union_officer", name="区工会干部培训班",
                                   sessions=1, min_sessions=1)
    await new_programme(http, district.id, officer, open_now=False, name="尚未开班的培训班")  # a plan: not counted
    assert (await enrol(http, instructors["id"], [a, b], officer)).status_code == 201
    assert (await enrol(http, officers["id"], [b, c], officer)).status_code == 201
    for programme, present in ((instructors, [a]), (officers, [b, c])):
        assert (await set_status(http, programme["id"], "running", officer)).status_code == 200
        await attended(http, programme["id"], 1, present, officer)
        assert (await set_status(http, programme["id"], "finished", officer)).status_code == 200

    r = await http.get(f"/training/figures/{district.id}", params={"year": local_today().year}, headers=officer)
    assert r.status_code == 200, r.text
    figures = r.json()
    total = figures["unit"]
    assert (total["programmes"], total["enrolled"], total["completed"], total["certificates"]) == (2, 4, 3, 3)
    assert total["by_kind"]["bargaining_instructor"] == {"programmes": 1, "enrolled": 2, "completed": 1,
                                                         "certificates": 1}
    streets = {u["org_id"]: u for u in figures["units"]}
    assert (streets[district.street_id]["programmes"], streets[district.street_id]["enrolled"],
            streets[district.street_id]["completed"]) == (1, 3, 2)
    assert (streets[second_street]["programmes"], streets[second_street]["enrolled"],
            streets[second_street]["completed"]) == (0, 1, 1)
    assert streets[second_street]["by_kind"]["union_officer"]["certificates"] == 1
    listed = (await http.get("/training/programmes", params={"unit": district.id, "status": "finished", "limit": 1},
                             headers=officer)).json()
    assert (listed["total"], len(listed["items"]), listed["limit"]) == (2, 1, 1)
    unknown = await http.get("/training/programmes", params={"colour": "red"}, headers=officer)
    assert unknown.status_code == 422
