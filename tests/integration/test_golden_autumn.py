"""金秋助学 against the real broker and PostgreSQL: applied at the grassroots union with its
student, re-checked by the district, decided collectively, posted publicly (masked) for five
working days, then paid; tiered by school level; one grant per student and year."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest

from unionops.clock import local_today
from unionops.pii import mask_name

from tests.support.membership import set_minimum_living_standard
from tests.support.people import ROOT, auth, new_resident_id
from tests.support.processes import next_year_typed_in
from tests.support.rows import projected
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "welfare", env={"welfare": next_year_typed_in()})]

SENIOR_HIGH_FEN = 200_000   # welfare.domain.golden_autumn.DEFAULT_TIERS_FEN


@pytest.fixture(scope="module")
def world(membership):
    yield {"branch": membership.branch("温江"), "membership": membership}


@pytest.fixture
def people(world):
    b = world["branch"]
    return {"grassroots": auth("staff", b.grassroots, "工会主席-何"), "street": auth("staff", b.street, "街道-罗"),
            "district": auth("staff", b.district, "区总-复核员"), "city": auth("federation_admin", ROOT, "市总-集体决定")}


@pytest.fixture
async def fund(world, http, db) -> str:
    """A district fund with money for the grants."""
    b = world["branch"]
    await eventually(lambda: db.fetchval("SELECT 1 FROM org_units WHERE org_id = $1", b.district),
                     what="the district to reach welfare's tree")
    tag, year = uuid.uuid4().hex[:6], local_today().year
    root = (await http.post("/funds", headers=auth(),
                            json={"org_id": str(ROOT), "name": f"金秋助学资金{tag}", "year": year})).json()["id"]
    assert (await http.post(f"/funds/{root}/budget", headers=auth(), json={"amount_fen": 5_000_000})).status_code == 201
    return root


async def applicant(world, db, http, name: str) -> uuid.UUID:
    """A member in hardship: admitted, known to welfare, with an open hardship file."""
    member_id = world["membership"].admit(world["branch"].grassroots, name)
    await projected(db, members=[member_id])
    # The district's own 低保 (not the city's: a city-wide default would leak into other tests).
    r = await set_minimum_living_standard(http, world["branch"].district, "2020-01-01", 100_000)
    assert r.status_code in (200, 201), r.text
    r = await http.post("/hardship-files", headers=auth("staff", world["branch"].grassroots), json={
        "member_id": str(member_id), "causes": ["single_parent"], "annual_income_fen": 1_000_000,
        "household": [{"relation": "self", "name": name, "id_number": new_resident_id(female=False), "monthly_income_fen": 0}]})
    assert r.status_code == 201, r.text
    return member_id


def application(member_id, student_id: str, **student) -> dict:
    return {"member_id": str(member_id), "kind": "education", "source": "application",
            "summary": "单亲家庭，孩子考入高中，学费困难",
            "student": {"name": "欧阳小雨", "id_number": student_id, "school_level": "senior_high"} | student}


async def apply(http, people, member_id, student_id, **student) -> httpx.Response:
    return await http.post("/cases", json=application(member_id, student_id, **student), headers=people["grassroots"])


async def to_approval(http, people, case_id: str, fund: str) -> None:
    r = await http.post(f"/cases/{case_id}/assess", headers=people["grassroots"], json={"findings": "核实：单亲，收入低"})
    assert r.status_code == 200, r.text
    assert (await http.post(f"/cases/{case_id}/district-review", headers=people["district"])).status_code == 200
    r = await http.post(f"/cases/{case_id}/approve", headers=people["city"], json={"fund_id": fund})
    assert r.status_code == 200, r.text


async def test_payment_waits_for_five_working_days_of_public_notice(world, http, db, people, fund):
    member = await applicant(world, db, http, "林秀兰")
    r = await apply(http, people, member, new_resident_id(female=False))
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["student"]["name"] == "欧**雨" and "*" in case["student"]["id_number"]
    assert case["student"]["grant_fen"] == SENIOR_HIGH_FEN
    case_id = case["id"]

    r = await http.post(f"/cases/{case_id}/assess", headers=people["grassroots"], json={"findings": "核实：单亲，收入低"})
    assert r.status_code == 200 and r.json()["proposed_amount_fen"] == SENIOR_HIGH_FEN   # the tier
    # Decided only after the district's re-check — which the street cannot do.
    r = await http.post(f"/cases/{case_id}/approve", headers=people["city"], json={"fund_id": fund})
    assert r.status_code == 409 and "复核" in r.json()["detail"]
    r = await http.post(f"/cases/{case_id}/district-review", headers=people["street"])
    assert r.status_code == 403 and r.json()["type"] == "/problems/district-review-level"
    assert (await http.post(f"/cases/{case_id}/district-review", headers=people["district"])).status_code == 200
    # The district officer who re-checked does not also decide.
    r = await http.post(f"/cases/{case_id}/approve", headers=people["district"], json={"fund_id": fund})
    assert r.status_code == 403 and r.json()["type"] == "/problems/four-eyes"
    assert (await http.post(f"/cases/{case_id}/approve", headers=people["city"], json={"fund_id": fund})).status_code == 200

    r = await http.post(f"/cases/{case_id}/pay", headers=people["street"])
    assert r.status_code == 409 and r.json()["type"] == "/problems/public-notice" and "尚未公示" in r.json()["detail"]

    r = await http.post("/golden-autumn/notices", headers=people["district"],
                        json={"org_id": str(world["branch"].district), "title": "2026年金秋助学拟资助名单公示"})
    assert r.status_code == 201, r.text
    notice = r.json()
    posted, ends = date.fromisoformat(notice["posted_on"]), date.fromisoformat(notice["ends_on"])
    working = [posted + timedelta(days=i) for i in range(1, (ends - posted).days + 1)]
    assert sum(d.weekday() < 5 for d in working) >= 5 and ends.weekday() < 5
    assert notice["payable_from"] == (ends + timedelta(days=1)).isoformat()

    r = await http.post(f"/cases/{case_id}/pay", headers=people["street"])
    assert r.status_code == 409 and r.json()["type"] == "/problems/public-notice"
    assert notice["payable_from"] in r.json()["detail"]
    assert await db.fetchval("SELECT status FROM assistance_cases WHERE id = $1", uuid.UUID(case_id)) == "approved"

    # The notice period over (moved back as the calendar would move on), the grant is paid.
    await db.execute("UPDATE golden_autumn_notices SET posted_on = posted_on - 30, ends_on = ends_on - 30,"
                     " payable_from = payable_from - 30 WHERE id = $1", uuid.UUID(notice["id"]))
    r = await http.post(f"/cases/{case_id}/pay", headers=people["street"])
    assert r.status_code == 200, r.text
    assert await db.fetchval("SELECT payload->>'amount_fen' FROM outbox WHERE key = $1 AND event_type = 'AidDisbursed'",
                             case_id) == str(SENIOR_HIGH_FEN)


async def test_the_public_notice_shows_masked_names_school_level_and_amount_only(world, http, db, people, fund):
    member = await applicant(world, db, http, "诸葛明亮")
    r = await apply(http, people, member, new_resident_id(female=False), name="诸葛小花", school_level="undergraduate")
    case_id = r.json()["id"]
    await to_approval(http, people, case_id, fund)
    r = await http.post("/golden-autumn/notices", headers=people["street"], json={"org_id": str(world["branch"].street)})
    assert r.status_code == 201, r.text
    notice_id = r.json()["id"]

    public = await http.get(f"/golden-autumn/notices/{notice_id}")   # no token: a public notice
    assert public.status_code == 200
    entries = public.json()["entries"]
    assert [(e["member_name"], e["student_name"], e["school_level"], e["amount"]["fen"]) for e in entries] == [
        (mask_name("诸葛明亮"), mask_name("诸葛小花"), "undergraduate", 400_000)]
    text = public.text
    assert "诸葛明亮" not in text and "诸葛小花" not in text and str(member) not in text and case_id not in text
    assert set(entries[0]) == {"position", "member_name", "student_name", "school_level", "school_level_label", "amount"}
    assert (await http.get(f"/golden-autumn/notices/{uuid.uuid4()}")).status_code == 404
    # A case is posted once; with nothing left to post, nothing is posted.
    r = await http.post("/golden-autumn/notices", headers=people["street"], json={"org_id": str(world["branch"].street)})
    assert r.status_code == 422 and r.json()["type"] == "/problems/nothing-to-post"


async def test_no_second_golden_autumn_grant_for_a_student_in_a_year(world, http, db, people, fund):
    student = new_resident_id(female=False)
    first_parent = await applicant(world, db, http, "黄志强")
    second_parent = await applicant(world, db, http, "黄太太")
    first = await apply(http, people, first_parent, student)
    assert first.status_code == 201
    # The other parent applies for the same child: refused, while the first application lives.
    r = await apply(http, people, second_parent, student)
    assert r.status_code == 409 and r.json()["type"] == "/problems/already-aided-this-year"
    assert r.json()["errors"][0]["field"] == "body.student.id_number"
    # Once the first is rejected, the child may be applied for again.
    case_id = first.json()["id"]
    assert (await http.post(f"/cases/{case_id}/assess", headers=people["grassroots"],
                            json={"findings": "材料待补"})).status_code == 200
    assert (await http.post(f"/cases/{case_id}/district-review", headers=people["district"])).status_code == 200
    r = await http.post(f"/cases/{case_id}/reject", headers=people["city"], json={"reason": "insufficient_evidence"})
    assert r.status_code == 200, r.text
    assert (await apply(http, people, second_parent, student)).status_code == 201


async def test_a_student_aided_by_the_government_is_not_aided_twice(world, http, db, people):
    member = await applicant(world, db, http, "邓丽")
    before = await db.fetchval("SELECT count(*) FROM assistance_cases")
    r = await apply(http, people, member, new_resident_id(female=False), aided_by_government=True)
    assert r.status_code == 422 and r.json()["type"] == "/problems/aided-by-government"
    assert await db.fetchval("SELECT count(*) FROM assistance_cases") == before   # nothing written


async def test_the_grant_is_the_tier_of_the_school_level(world, http, db, people):
    member = await applicant(world, db, http, "蒋文")
    r = await apply(http, people, member, new_resident_id(female=False), school_level="primary")
    case_id = r.json()["id"]
    r = await http.post(f"/cases/{case_id}/assess", headers=people["grassroots"],
                        json={"findings": "核实", "proposed_amount_fen": 900_000})
    assert r.status_code == 422 and r.json()["type"] == "/problems/golden-autumn-tier"
    r = await http.post(f"/cases/{case_id}/assess", headers=people["grassroots"],
                        json={"findings": "核实", "proposed_amount_fen": 100_000})
    assert r.status_code == 200


async def test_an_education_case_names_its_student(world, http, people, db):
    member = await applicant(world, db, http, "韩梅")
    body = application(member, new_resident_id(female=False))
    del body["student"]
    r = await http.post("/cases", json=body, headers=people["grassroots"])
    assert r.status_code == 422
    r = await http.post("/cases", json=application(member, "11010519491231002Y"), headers=people["grassroots"])
    assert r.status_code == 422 and "student" in str(r.json()["errors"])
