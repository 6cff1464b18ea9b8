"""Membership's year: who joins, moves, retires and leaves, and the organisation's own work.

Volumes (shares of the city's members a year; docs/benchmarks.md "The year of the city"):
- individual admissions at the union office (POST /members): 6 %, spread over the twelve months;
- the spring founding drive (建会, March): a union founded for each uncovered employer, its
  founding members brought in on one sheet (intake new_joins: each is welcomed) — 70 % of the
  employer's headcount;
- job changes reported by HR systems (hr.employment.v2): 5 %, monthly; the membership follows the
  new employer's union;
- transfers made by the member's own union: 1 %; retirements (retained): 1.5 %; leaving (resigned):
  2 %; deaths: 0.2 %;
- January: 3 % of members set their preferences (1 % turn e-mail off, 2 % quiet hours 21:00-08:00);
- June: two small unions of one street merge (合并);
- December: coverage summaries published and every district's statistical report drawn."""
from __future__ import annotations

import uuid

from contracts.events import EmploymentChanged
from devstack.year.city import SHEET_ROWS, sheet
from devstack.year.context import Person, Unit, Year, YearFailed
from devstack.year.plan import Step
from unionops.pii import KeyRing, b64

EVERY = ("membership", "welfare", "competitions", "notify")  # an admission touches all four


def _monthly(year: Year, per_year: float) -> int:
    return max(1, round(year.scale.members * per_year / 12))


async def admissions(year: Year) -> None:
    """The union offices admit people one by one, as they come."""
    city, rng = year.city, year.rng
    for n in range(_monthly(year, 0.06)):
        union = rng.choice(city.unions)
        employers = [e for e in city.employers if e.union_id == union.id] or [None]
        employer = rng.choice(employers)
        p = year.people.person(union.id, employer.name if employer else union.name.removesuffix("工会"))
        body = {"union_id": union.id, "name": p.name, "id_number": p.id_number, "phone": p.phone, "email": p.email,
                "employer": p.employer, "joined_on": year.clock.today().isoformat()}
        r = await year.call("membership", "POST", "/members", token=year.token("staff", union.id), json=body,
                            key=f"year-admit-{p.id_number[-8:]}-{p.email}", trace=EVERY if n < 2 else None)
        p.member_id = r.json()["id"]
        city.members[p.member_id] = p
        year.count("admitted")


async def founding_drive(year: Year) -> None:
    """建会: a union for every employer without one, with its founding members on one sheet."""
    city = year.city
    uncovered = [e for e in city.employers if e.union_id is None]
    for i, employer in enumerate(uncovered):
        street = city.unit(employer.org_id)
        r = await year.call("membership", "POST", "/organisations", token=year.token("staff", street.id), json={
            "parent_id": street.id, "name": f"{employer.name}工会", "level": "grassroots", "kind": "enterprise_union",
            "region_code": street.region_code, "established_on": year.clock.today().isoformat(),
            "employer_ids": [employer.id]}, key=f"year-founding-{employer.id}")
        union = Unit(r.json()["id"], f"{employer.name}工会", "grassroots", "enterprise_union", street.region_code,
                     street.id, street.district_id or street.parent_id)
        city.unions.append(union)
        employer.union_id = union.id
        founders = [year.people.person(union.id, employer.name) for _ in range(max(3, round(employer.headcount * 0.7)))]
        for start in range(0, len(founders), SHEET_ROWS):
            rows = founders[start:start + SHEET_ROWS]
            await year.call("membership", "POST", "/imports/members", token=year.token("staff", street.id),
                            key=f"year-founders-{employer.id}-{start}",
                            files={"file": (f"founders-{i}.csv", sheet(rows, [year.clock.today()] * len(rows)), "text/csv")},
                            data={"intake": "new_joins"}, trace=EVERY if i == 0 else None)
            for p, member_id in zip(rows, await year.member_ids([p.id_number for p in rows])):
                p.member_id = member_id
                city.members[member_id] = p
        year.count("unions founded")
        year.count("founding members", len(founders))


def _other_employer(year: Year, person: Person):
    covered = [e for e in year.city.employers if e.union_id and e.union_id != person.union_id]
    return year.rng.choice(covered) if covered else None


async def job_changes(year: Year) -> None:
    """HR systems report who changed employer; membership moves them to the new employer's union."""
    keys = KeyRing.from_config(year.settings.pii_hr_keys)
    for person in year.city.sample_active(year.rng, _monthly(year, 0.05)):
        employer = _other_employer(year, person)
        if employer is None:
            return
        change_id = uuid.uuid4()
        sealed = b64(keys.seal_field("id_number", str(change_id), person.id_number))
        await year.publish_hr(EmploymentChanged(
            change_id=change_id, id_number_sealed=sealed, name=person.name, new_employer_name=employer.name,
            new_employer_credit_code=employer.credit_code, residence_region_code=year.city.unit(employer.org_id).region_code,
            effective_on=year.clock.today(), hr_system="year-payroll"))
        person.union_id, person.employer = employer.union_id, employer.name
        year.count("HR job changes")


async def union_transfers(year: Year) -> None:
    """A member's own union transfers them to the union of their new employer."""
    for person in year.city.sample_active(year.rng, _monthly(year, 0.01)):
        employer = _other_employer(year, person)
        if employer is None:
            return
        await year.call("membership", "POST", f"/members/{person.member_id}/transfers",
                        token=year.token("staff", person.union_id), key=f"year-transfer-{person.member_id}-{year.clock.today()}",
                        json={"to_union_id": employer.union_id, "new_employer": employer.name,
                              "new_employer_credit_code": employer.credit_code,
                              "effective_on": year.clock.today().isoformat()}, trace=EVERY if year.rng.random() < 0.1 else None)
        person.union_id, person.employer = employer.union_id, employer.name
        year.count("transfers")


async def status_changes(year: Year) -> None:
    """Retirements (retained), members who resign, deaths."""
    for share, status, reason in ((0.015, "retained", "retired"), (0.02, "left", "resigned"), (0.002, "left", "deceased")):
        for person in year.city.sample_active(year.rng, _monthly(year, share)):
            await year.call("membership", "POST", f"/members/{person.member_id}/status-changes",
                            token=year.token("staff", person.union_id),
                            json={"status": status, "reason": reason, "effective_on": year.clock.today().isoformat()},
                            expect=(200, 201))
            person.status = status
            year.count({"retired": "retired", "resigned": "left", "deceased": "deceased"}[reason])


async def month(year: Year) -> None:
    await admissions(year)
    await job_changes(year)
    # An HR event takes effect when membership has consumed it: the offices act on the result (a
    # union transferring a member the HR system has just moved asks the member's new union).
    await year.settle()
    await union_transfers(year)
    await status_changes(year)


async def preferences(year: Year) -> None:
    """Some members choose how they are told: e-mail off, or quiet hours."""
    people = year.city.sample_active(year.rng, year.scale.share(0.03))
    for i, person in enumerate(people):
        body = {"channels": {"email": False}} if i % 3 == 0 else {"quiet_hours": "21:00-08:00"}
        await year.call("notify", "PUT", f"/members/{person.member_id}/preferences",
                        token=year.member_token(person.member_id), json=body)
        year.count("preferences set")


async def merge(year: Year) -> None:
    """Two small unions of one street merge; their members follow."""
    by_street: dict[str, list] = {}
    for u in year.city.unions:
        if u.kind == "enterprise_union":
            by_street.setdefault(u.parent_id, []).append(u)
    pairs = [us for us in by_street.values() if len(us) >= 2]
    if not pairs:
        return
    smaller, larger = sorted(year.rng.choice(pairs), key=lambda u: len(year.city.active(u.id)))[:2]
    await year.call("membership", "POST", f"/organisations/{smaller.id}/merge", token=year.token("staff", smaller.parent_id),
                    json={"into_org_id": larger.id, "merged_on": year.clock.today().isoformat()}, trace=EVERY)
    for p in year.city.members.values():
        if p.union_id == smaller.id and p.status != "left":  # who left stays on the old union's record
            p.union_id = larger.id
    year.city.unions.remove(smaller)
    year.city.merged_into[str(smaller.id)] = str(larger.id)
    for e in year.city.employers:
        if e.union_id == smaller.id:
            e.union_id = larger.id
    year.count("unions merged")


async def year_end(year: Year) -> None:
    """The coverage summaries for the dashboards, and each district's statistical report."""
    await year.call("membership", "POST", "/coverage/summaries", token=year.admin_token(), expect=(202,))
    for district in year.city.districts:
        report = await year.get("membership", f"/statistics/{district.id}", token=year.token("staff", district.id),
                                params={"year": year.year})
        if not report:
            raise YearFailed(f"no statistical report for {district.name}")
        year.count("statistical reports")


async def check_members(year: Year) -> None:
    """The driver's picture of the city agrees with membership's (a sample): where each member is."""
    for person in year.rng.sample(list(year.city.members.values()), min(50, len(year.city.members))):
        m = await year.get("membership", f"/members/{person.member_id}")
        if m["union_id"] != person.union_id or m["status"] != person.status:
            raise YearFailed(f"member {person.member_id}: membership says {m['union_id']}/{m['status']}, "
                             f"the year expected {person.union_id}/{person.status}")
    year.count("members checked", min(50, len(year.city.members)))
    # The services live on the simulated day: an admission without a date is dated today, there
    # and in PostgreSQL (whose now() the simulated clock moves too).
    union = year.rng.choice(year.city.unions)
    p = year.people.person(union.id, union.name.removesuffix("工会"))
    r = await year.call("membership", "POST", "/members", token=year.token("staff", union.id),
                        key=f"year-clock-check-{p.id_number}", json={"union_id": union.id, "name": p.name,
                                                                     "id_number": p.id_number, "email": p.email})
    p.member_id = r.json()["id"]
    year.city.members[p.member_id] = p
    joined = (await year.get("membership", f"/members/{p.member_id}"))["joined_on"]
    db_day = await year.database_today()
    if joined != year.clock.today().isoformat() or db_day != year.clock.today():
        raise YearFailed(f"the services' day is not the simulated day {year.clock.today()}: "
                         f"joined_on {joined}, PostgreSQL {db_day}")
    year.count("clock checked")


STEPS = [Step(1, 6, "会员偏好", preferences)]
STEPS += [Step(m, 8, "入会、调动与退会", month) for m in range(1, 13)]
STEPS += [Step(3, 15, "春季建会", founding_drive), Step(6, 18, "基层工会合并", merge),
          Step(12, 20, "年终统计与覆盖汇总", year_end), Step(12, 28, "会员核对", check_members)]
