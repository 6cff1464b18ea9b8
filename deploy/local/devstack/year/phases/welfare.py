"""The welfare side of the city's year (帮扶): hardship files, the seasonal campaigns, assistance
cases, 金秋助学, the 12351 hotline and labour-dispute mediation, through welfare's real HTTP API
with staff tokens of the right units (and notify's officer directory for who is told).

The calendar (STEPS, merged with the other phases' by devstack.year.plan):
- 1/5  帮扶准备: the officers each district's work needs are registered in notify (approvers of
  districts and streets, the 12351 desk, the rights officers); each district office sets its 低保
  from 1 January; the city's root fund is credited from the budget and allocated to a fund per
  district, each district allocating to a fund per street (cases are paid from the street's).
- 1/8  困难职工建档: hardship files opened for households (levels from the district's 低保), and
  visits with a gift (走访慰问) to some of them.
- 1/15 送温暖: per district preview → launch → run; one wrong payment reversed (asked by the
  cashier, approved by the chair: four eyes).
- every month: 帮扶案件 on the 15th (new cases opened and assessed at the grassroots union; last
  month's approved or rejected by the street chair, never the opener, then paid and closed) and
  12351热线 on the 6th (new tickets; last month's assigned, resolved and rated — some left to run
  overdue).
- 3/10, 5/12, 7/8, 9/8, 11/10 劳动争议调解 (registered, a session held) and on the 24th of the same
  months their conclusion (agreement, or failure; the year's first failure referred to legal aid,
  whose outcome is recorded; one dispute a year left past its 15 days: arbitration opens).
- 7/15 送清凉, 9/20 中秋国庆 (campaigns as 送温暖), 8/5 金秋助学 (education cases: grassroots
  application, district re-check, the city's collective decision, the public notice), 8/20
  金秋助学发放 (paid after the notice's five working days, closed).
- 12/10 困难档案年度复核: the files due (GET /hardship-files/due) re-verified; some households
  are out of hardship and their files close.
- 12/28 帮扶年终核对: the December cases finished, then figures read back through the API
  (campaigns paid what their launch said, the reversal, cases closed, tickets overdue, reviews);
  any difference raises YearFailed.

Volumes (assumptions, per 1,000 members of the city; `year.scale.per_thousand`, at least 1):
- hardship households (困难职工家庭建档) 10 — about 1 % of members, the share the national
  assistance system holds; levels ≈ 35 % 深度困难, 50 % 相对困难, 15 % 意外致困;
- visits with a gift in January 3 (¥500 each);
- assistance cases 6 a year (0.5 a month), ≈ 15 % rejected; ¥500–¥5,000 each;
- 金秋助学 grants 1.5 (households with a child at school);
- 12351 tickets 24 a year (2 a month), ≈ 15 % left unresolved (they become overdue);
- labour disputes 3 a year (0.6 in each of five months), ≈ 30 % fail, ≈ 10 % collective, 20 % by
  workers who are not members; one referral to legal aid a year;
- campaigns: every open, re-verified hardship file of the district is paid (送温暖 ¥3,000 /
  ¥2,500 / ¥2,000 by level, 送清凉 ¥500 / ¥400 / ¥300, 中秋国庆 ¥2,000 / ¥1,500 / ¥1,000).

Requests: every creating POST carries an Idempotency-Key derived from what it creates, so a retry
after a lost answer (a replica killed) replays; workflow steps accept 409 where it means "already
done" and then read the state back. Random draws come from `year.rng` in the driver's order only
(all draws of a step are made before its requests run, some of them concurrently)."""
from __future__ import annotations

import asyncio
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Awaitable, Iterable

from devstack.year.context import Year, YearFailed
from devstack.year.plan import Step
from unionops.pii import check_character

# ---- volumes (per 1,000 members) -------------------------------------------------------------------
HOUSEHOLDS = 10
VISITS = 3
CASES_A_MONTH = 0.5
STUDENTS = 1.5
TICKETS_A_MONTH = 2
DISPUTES_A_BATCH = 0.6
CONCURRENCY = 8   # requests of one step in flight at once

WARMTH = {"deep": 300_000, "accident": 250_000, "relative": 200_000}
COOLING = {"deep": 50_000, "accident": 40_000, "relative": 30_000}
MID_AUTUMN = {"deep": 200_000, "accident": 150_000, "relative": 100_000}
VISIT_GIFT = 50_000
STANDARDS = (95_000, 100_000, 105_000, 110_000)   # 低保 a person a month, by district in turn

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华兰霞平刚桂英建国志强丹萍红玉梅海燕鹏飞雪琳晨浩然子涵欣怡宇轩"


# ---- the phase's memory between steps --------------------------------------------------------------

@dataclass
class HardshipFile:
    id: str
    member_id: str
    district_id: str
    level: str
    household: dict          # the body as it was filed (people with their ID numbers): the review's start
    open: bool = True


@dataclass
class Ledger:
    """What this phase did, to read back at the end of the year."""
    root_fund: str | None = None
    district_funds: dict[str, str] = field(default_factory=dict)   # district id → fund id
    street_funds: dict[str, str] = field(default_factory=dict)     # street id → fund id
    standards: dict[str, int] = field(default_factory=dict)        # district id → 低保
    files: dict[str, HardshipFile] = field(default_factory=dict)   # member id → file
    id_numbers: set[str] = field(default_factory=set)              # every number in use
    campaigns: dict[str, tuple[str, int]] = field(default_factory=dict)  # id → (name, households at launch)
    reversals: dict[str, str] = field(default_factory=dict)        # campaign id → reversal id
    pending_cases: list[dict] = field(default_factory=list)        # assessed, to decide next month
    cases_closed: set[str] = field(default_factory=set)
    cases_rejected: set[str] = field(default_factory=set)
    students: list[str] = field(default_factory=list)              # approved education cases
    pending_tickets: list[dict] = field(default_factory=list)
    tickets_left_open: list[str] = field(default_factory=list)
    tickets_resolved: int = 0
    open_disputes: list[dict] = field(default_factory=list)
    referred: bool = False
    legal_aid_case: str | None = None
    left_past_15_days: bool = False
    reviews: int = 0
    reviews_closed: int = 0
    traced: dict[str, int] = field(default_factory=dict)
    tree: Any = None
    tree_key: Any = None


_LEDGERS: "weakref.WeakKeyDictionary[Year, Ledger]" = weakref.WeakKeyDictionary()


def _ledger(year: Year) -> Ledger:
    try:
        return _LEDGERS.setdefault(year, Ledger())
    except TypeError:   # a Year that cannot be weakly referenced: keep it on the object
        if not hasattr(year, "_welfare_ledger"):
            year._welfare_ledger = Ledger()
        return year._welfare_ledger


# ---- helpers ---------------------------------------------------------------------------------------

def _token(year: Year, role: str, org_id: Any, who: str) -> str:
    """A token of `role` at `org_id` for the person `who` (four eyes compares subjects)."""
    return year.token(role, org_id, subject=who)


def _admin(year: Year, who: str = "市总-帮扶处") -> str:
    return _token(year, "federation_admin", year.city.root_id, who)


async def _gather(coros: Iterable[Awaitable]) -> list:
    """Run a step's requests a few at a time (their random draws are already made)."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(c):
        async with gate:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


@dataclass
class Tree:
    """The city's units as this step finds them (the lead's phases found, move and merge unions):
    each unit's street and district, looked up once per unit."""
    units: dict[str, Any]
    streets: set[str]
    districts: dict[str, Any]
    street_of: dict[str, Any] = field(default_factory=dict)


def _tree(year: Year) -> Tree:
    ledger, city = _ledger(year), year.city
    key = (year.clock.today(), len(city.districts), len(city.streets), len(city.unions))
    if ledger.tree_key != key:
        ledger.tree = Tree({str(u.id): u for u in [*city.districts, *city.streets, *city.unions]},
                           {str(s.id) for s in city.streets}, {str(d.id): d for d in city.districts})
        ledger.tree_key = key
    return ledger.tree


def _street_of(year: Year, unit_id: Any) -> Any | None:
    """The street (or town) union above a grassroots union, None when it hangs under a district."""
    tree = _tree(year)
    unit_id = year.city.successor(unit_id)
    if str(unit_id) not in tree.street_of:
        unit = tree.units.get(str(unit_id))
        while unit is not None and str(unit.id) not in tree.streets:
            unit = tree.units.get(str(unit.parent_id)) if unit.parent_id is not None else None
        tree.street_of[str(unit_id)] = unit
    return tree.street_of[str(unit_id)]


def _district_of(year: Year, unit_id: Any) -> str | None:
    tree = _tree(year)
    unit = tree.units.get(year.city.successor(unit_id))
    if unit is None:
        return None
    if str(unit.id) in tree.districts:
        return str(unit.id)
    return str(unit.district_id) if getattr(unit, "district_id", None) else None


def _district(year: Year, district_id: Any) -> Any | None:
    return _tree(year).districts.get(str(district_id))


def _trace(year: Year, what: str, services: tuple[str, ...]) -> tuple[str, ...] | None:
    """Trace samples: the first two of each kind of action a year, not every request."""
    ledger = _ledger(year)
    ledger.traced[what] = ledger.traced.get(what, 0) + 1
    return services if ledger.traced[what] <= 2 else None


def _active(year: Year) -> list:
    """The active members, in a stable order (draws do not depend on dict order)."""
    return sorted(year.city.active(), key=lambda p: str(p.member_id))


def _member(year: Year, member_id: Any):
    return year.city.members.get(member_id) or year.city.members.get(str(member_id)) or \
        year.city.members.get(uuid.UUID(str(member_id)))


def _is_active(year: Year, member_id: Any) -> bool:
    p = _member(year, member_id)
    return p is not None and p.status == "active"


def _name(year: Year) -> str:
    rng = year.rng
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _id_number(year: Year, area: str, born: date, female: bool) -> str:
    """A valid resident ID number (GB 11643-1999) no one in the city has yet."""
    ledger = _ledger(year)
    if not ledger.id_numbers:
        ledger.id_numbers.update(p.id_number for p in year.city.members.values())
    while True:
        seq = year.rng.randrange(0, 500) * 2 + (0 if female else 1)
        first17 = f"{area}{born:%Y%m%d}{seq:03d}"
        number = first17 + check_character(first17)
        if number not in ledger.id_numbers:
            ledger.id_numbers.add(number)
            return number


def _ascii(text: str) -> str:
    """A header-safe stand-in for a Chinese account name in an Idempotency-Key."""
    return uuid.uuid5(uuid.NAMESPACE_URL, text).hex


def _problem(r) -> str:
    try:
        return str(r.json().get("type", ""))
    except ValueError:
        return ""


def _employer(year: Year, person) -> tuple[str, str | None]:
    """The worker's employer as the application names it: its name, and its credit code when the
    city's register of employers knows it (Person.employer is the name the member sheet gave)."""
    name = getattr(person, "employer", None) or "示例劳务派遣有限公司"
    known = next((e for e in year.city.employers if e.name == name), None)
    return name, known.credit_code if known else None


# ---- 1/5 帮扶准备 ----------------------------------------------------------------------------------

def _officer_body(name: str, org_id: Any, roles: list[str], account: str) -> dict:
    return {"name": name, "org_id": str(org_id), "roles": roles, "inapp_user_id": account,
            "email": f"{_ascii(account)[:12]}@welfare.example.cn"}


def _chair(district) -> str:
    return f"{district.name}-帮扶主席"


def _cashier(district) -> str:
    return f"{district.name}-出纳"


def _desk(district) -> str:
    return f"{district.name}-12351话务员"


def _rights(district) -> str:
    return f"{district.name}-维权干事"


def _street_chair(street) -> str:
    return f"{street.name}-主席"


def _street_clerk(street) -> str:
    return f"{street.name}-帮扶干事"


async def preparations(year: Year) -> None:
    """Officers in notify, 低保 per district, the funds: city → district → street."""
    await year.settle()   # the units must have reached notify and welfare
    ledger, city, today = _ledger(year), year.city, year.clock.today()
    admin = _admin(year)
    officers = []
    for d in city.districts:
        staff = _token(year, "staff", d.id, _chair(d))
        officers += [(staff, _officer_body(_name(year), d.id, ["approver", "chair"], _chair(d))),
                     (staff, _officer_body(_name(year), d.id, ["hotline_officer"], _desk(d))),
                     (staff, _officer_body(_name(year), d.id, ["rights_officer"], _rights(d)))]
    for s in city.streets:
        officers.append((_token(year, "staff", s.parent_id, "区总-组织部"),
                         _officer_body(_name(year), s.id, ["approver"], _street_chair(s))))
    await _gather(year.call("notify", "POST", "/officers", token=t, json=b, key=f"welfare-officer-{_ascii(b['inapp_user_id'])}")
                  for t, b in officers)
    year.count("officers", len(officers))

    for i, d in enumerate(city.districts):
        ledger.standards[str(d.id)] = STANDARDS[i % len(STANDARDS)]
    await _gather(year.call("welfare", "PUT", f"/minimum-living-standards/{d.id}/{today.year}-01-01",
                            token=_token(year, "staff", d.id, _chair(d)),
                            json={"monthly_fen": ledger.standards[str(d.id)]}, expect=(200,))
                  for d in city.districts)
    year.count("低保", len(city.districts))

    # The money: what the year will pay, with room (a fund never goes below zero).
    members = max(1, len(city.members))
    per_district = {str(d.id): 0 for d in city.districts}
    for p in city.members.values():
        d = _district_of(year, p.union_id)
        if d in per_district:
            per_district[d] += 1
    street_members: dict[str, int] = {}
    for p in city.members.values():
        s = _street_of(year, p.union_id)
        if s is not None:
            street_members[str(s.id)] = street_members.get(str(s.id), 0) + 1
    street_budget = {str(s.id): 2_000_000 + 10_000 * street_members.get(str(s.id), 0) for s in city.streets}
    household_year = WARMTH["deep"] + COOLING["deep"] + MID_AUTUMN["deep"] + VISIT_GIFT + 500_000  # + 金秋助学
    district_budget = {}
    for d in city.districts:
        streets = sum(street_budget[str(s.id)] for s in city.streets if str(s.parent_id) == str(d.id))
        households = per_district[str(d.id)] * HOUSEHOLDS // 1000 + 5
        district_budget[str(d.id)] = 2 * households * household_year + streets + 5_000_000
    total = sum(district_budget.values())

    y = today.year
    r = await year.call("welfare", "POST", "/funds", token=admin, key=f"welfare-{y}-fund-city",
                        json={"org_id": str(city.root_id), "name": f"{y}年市总工会专项帮扶资金", "year": y},
                        trace=_trace(year, "fund", ("welfare",)))
    ledger.root_fund = r.json()["id"]
    await year.call("welfare", "POST", f"/funds/{ledger.root_fund}/budget", token=admin,
                    key=f"welfare-{y}-budget-city",
                    json={"amount_fen": total, "reason": f"市财政{y}年帮扶专项预算（{members}名会员）"})

    async def district_fund(d) -> None:
        staff = _token(year, "staff", d.id, _chair(d))
        r = await year.call("welfare", "POST", "/funds", token=staff, key=f"welfare-{y}-fund-{d.id}",
                            json={"org_id": str(d.id), "name": f"{y}年{d.name}专项帮扶资金", "year": y,
                                  "parent_fund_id": ledger.root_fund})
        ledger.district_funds[str(d.id)] = r.json()["id"]
        await year.call("welfare", "POST", f"/funds/{ledger.root_fund}/allocations", token=admin,
                        key=f"welfare-{y}-allocation-{d.id}",
                        json={"to_fund_id": r.json()["id"], "amount_fen": district_budget[str(d.id)],
                              "reason": "按困难职工户数下拨"})

    await _gather(district_fund(d) for d in city.districts)

    async def street_fund(s) -> None:
        d = str(s.parent_id)
        if d not in ledger.district_funds:
            return
        district = _district(year, d)
        staff = _token(year, "staff", d, _chair(district))
        r = await year.call("welfare", "POST", "/funds", token=staff, key=f"welfare-{y}-fund-{s.id}",
                            json={"org_id": str(s.id), "name": f"{y}年{s.name}帮扶资金", "year": y,
                                  "parent_fund_id": ledger.district_funds[d]})
        ledger.street_funds[str(s.id)] = r.json()["id"]
        await year.call("welfare", "POST", f"/funds/{ledger.district_funds[d]}/allocations", token=staff,
                        key=f"welfare-{y}-allocation-{s.id}",
                        json={"to_fund_id": r.json()["id"], "amount_fen": street_budget[str(s.id)],
                              "reason": "街道帮扶案件资金"})

    await _gather(street_fund(s) for s in city.streets)
    year.count("funds", 1 + len(ledger.district_funds) + len(ledger.street_funds))


# ---- 1/8 困难职工建档 ------------------------------------------------------------------------------

LEVEL_SHARES = (("deep", 35), ("relative", 50), ("accident", 15))


def _draw_household(year: Year, person, level: str, standard: int, children: list[dict] | None = None,
                    spouse: dict | None = None) -> dict:
    """A household of the level against the district's 低保 (what staff enter from the visit)."""
    rng, today = year.rng, year.clock.today()
    area = person.id_number[:6]
    if spouse is None and rng.random() < 0.7:
        born = date(person.birth_date.year + rng.randint(-3, 3), rng.randint(1, 12), rng.randint(1, 28))
        spouse = {"relation": "spouse", "name": _name(year), "id_number": _id_number(year, area, born, not person.female),
                  "monthly_income_fen": 0}
    if children is None:
        children = []
        for _ in range(rng.choice((0, 1, 1, 2))):
            born = date(today.year - rng.randint(6, 20), rng.randint(1, 12), rng.randint(1, 28))
            children.append({"relation": "child", "name": _name(year), "monthly_income_fen": 0,
                             "id_number": _id_number(year, area, born, rng.random() < 0.5)})
    people = [{"relation": "self", "name": person.name, "id_number": person.id_number, "monthly_income_fen": 0}]
    people += ([dict(spouse)] if spouse else []) + [dict(c) for c in children]
    size = len(people)
    percent = {"deep": rng.randint(30, 90), "relative": rng.randint(110, 190), "accident": rng.randint(220, 300),
               "out": rng.randint(230, 320)}[level]
    income = standard * percent * 12 * size // 100
    event = income * rng.randint(85, 120) // 100 if level == "accident" else 0
    earners = [p for p in people if p["relation"] in ("self", "spouse")]
    for p in earners:
        p["monthly_income_fen"] = income // 12 // len(earners)
    if level == "deep":
        people[0]["health_note"] = rng.choice(("慢性肾病，长期透析", "脑梗后遗症，需长期康复", "癌症术后化疗中"))
    causes = {"deep": ["illness"], "relative": [rng.choice(("single_parent", "unemployment", "disability"))],
              "accident": ["accident"], "out": ["other"]}[level]
    if level == "relative" and not spouse:
        causes = ["single_parent"]
    return {"household": people, "causes": causes, "annual_income_fen": income, "unavoidable_costs_fen": 0,
            "largest_event_cost_fen": event}


async def hardship_files(year: Year) -> None:
    """Households filed by the grassroots unions (建档), then visits with a gift (五必访)."""
    ledger, rng = _ledger(year), year.rng
    candidates = [p for p in _active(year) if _district_of(year, p.union_id) in ledger.standards]
    k = min(len(candidates), year.scale.per_thousand(HOUSEHOLDS))
    chosen = rng.sample(candidates, k)
    levels = [lv for lv, share in LEVEL_SHARES for _ in range(share)]
    plans = []
    for person in chosen:
        district = _district_of(year, person.union_id)
        level = rng.choice(levels)
        plans.append((person, district, level,
                      {"member_id": str(person.member_id), "file_kind": "model_worker" if rng.random() < 0.03 else "worker"}
                      | _draw_household(year, person, level, ledger.standards[district])))

    async def open_file(person, district, level, body) -> None:
        r = await year.call("welfare", "POST", "/hardship-files", json=body, expect=(201, 422),
                            token=_token(year, "staff", person.union_id, "基层工会-组织委员"),
                            key=f"welfare-{year.clock.today().year}-file-{person.member_id}")
        if r.status_code == 422:
            if _problem(r).endswith("migrant-worker-waiting-period"):
                year.count("files skipped (migrant worker < 12 months)")
                return
            raise YearFailed(f"困难职工建档被拒绝（{person.member_id}）: {r.text}")
        f = r.json()
        if f["level"] != level:
            raise YearFailed(f"困难等级 {f['level']} ≠ 预期 {level}（会员 {person.member_id}）")
        ledger.files[str(person.member_id)] = HardshipFile(f["id"], str(person.member_id), district, level, body)

    await _gather(open_file(*p) for p in plans)
    year.count("hardship files", len(ledger.files))

    files = sorted(ledger.files.values(), key=lambda f: f.member_id)
    visited = rng.sample(files, min(len(files), year.scale.per_thousand(VISITS)))
    today = year.clock.today()

    async def visit(f: HardshipFile, kind: str, visitors: list[str]) -> None:
        district = _district(year, f.district_id)
        await year.call("welfare", "POST", "/visits", token=_token(year, "staff", district.id, _chair(district)),
                        key=f"welfare-{today.year}-visit-{f.id}",
                        json={"member_id": f.member_id, "kind": kind, "visited_on": str(today), "visitors": visitors,
                              "notes": "春节前入户走访，了解家庭收入和就医情况，送去慰问金",
                              "gift_fen": VISIT_GIFT, "fund_id": ledger.district_funds[f.district_id]})

    await _gather(visit(f, "sick_or_hospitalised" if f.level == "deep" else "in_hardship", [_name(year), _name(year)])
                  for f in visited)
    year.count("visits", len(visited))


# ---- campaigns: 送温暖, 送清凉, 中秋国庆 -------------------------------------------------------------

async def _campaign(year: Year, kind: str, label: str, amounts: dict[str, int]) -> list[tuple[Any, dict]]:
    """Per district: preview the need, launch with that budget, run; returns (district, campaign)."""
    ledger, today = _ledger(year), year.clock.today()
    done = []

    async def one(d) -> None:
        fund = ledger.district_funds.get(str(d.id))
        if fund is None:
            return
        chair, cashier = _token(year, "staff", d.id, _chair(d)), _token(year, "staff", d.id, _cashier(d))
        body = {"name": f"{today.year}年{d.name}{label}", "kind": kind, "org_id": str(d.id), "fund_id": fund,
                "budget_fen": 1, "level_amounts": amounts, "starts_on": str(today),
                "ends_on": str(today + timedelta(days=30))}
        need = (await year.call("welfare", "POST", "/campaigns/preview", token=chair, json=body,
                                expect=(200,))).json()
        if need["households"] == 0:
            year.count(f"{label}: districts without households")
            return
        body["budget_fen"] = need["need"]["fen"]
        c = (await year.call("welfare", "POST", "/campaigns", token=chair, json=body,
                             key=f"welfare-{today.year}-{kind}-{d.id}", trace=_trace(year, "launch", ("welfare", "notify")))).json()
        run = (await year.call("welfare", "POST", f"/campaigns/{c['id']}/runs", token=cashier, json={},
                               key=f"welfare-{today.year}-{kind}-{d.id}-run-1",
                               trace=_trace(year, "run", ("welfare", "notify")))).json()
        if run["paid_count"] != need["households"]:
            raise YearFailed(f"{c['name']}: 发放 {run['paid_count']} 户，预览 {need['households']} 户"
                             f"（未发放：{run['not_paid_by_reason']}）")
        ledger.campaigns[c["id"]] = (c["name"], run["paid_count"])
        year.count(f"{label} households paid", run["paid_count"])
        year.count(f"{label} fen paid", run["paid"]["fen"])
        done.append((d, c))

    await _gather(one(d) for d in year.city.districts)
    year.count("campaigns", len(done))
    return done


async def warmth(year: Year) -> None:
    """送温暖 in every district, then one wrong payment reversed with four eyes (冲正)."""
    done = await _campaign(year, "spring_festival", "春节送温暖", WARMTH)
    if not done:
        return
    ledger = _ledger(year)
    d, c = min(done, key=lambda dc: str(dc[0].id))
    fund = ledger.district_funds[str(d.id)]
    cashier, chair = _token(year, "staff", d.id, _cashier(d)), _token(year, "staff", d.id, _chair(d))
    entries = (await year.call("welfare", "GET", f"/funds/{fund}/ledger", token=chair,
                               params={"limit": 5000}, expect=(200,))).json()
    paid = [e for e in entries if e["kind"] == "disbursement" and e["campaign_id"] == c["id"]]
    if not paid:
        raise YearFailed(f"{c['name']}: 资金台账中没有该活动的发放分录")
    entry = year.rng.choice(paid)
    r = await year.call("welfare", "POST", "/reversals", token=cashier, key=f"welfare-reversal-{entry['id']}",
                        json={"entry_id": entry["id"], "reason": "重复发放：该户已由街道工会另行发放"})
    reversal = r.json()
    r = await year.call("welfare", "POST", f"/reversals/{reversal['id']}/approve", token=chair,
                        json={"note": "核实无误，同意冲正"}, expect=(200, 409))
    if r.status_code == 409 and not _problem(r).endswith("reversal-decided"):
        raise YearFailed(f"冲正审批被拒绝: {r.text}")
    ledger.reversals[c["id"]] = reversal["id"]
    year.count("reversals")


async def cooling(year: Year) -> None:
    await _campaign(year, "summer_cooling", "夏季送清凉", COOLING)


async def mid_autumn(year: Year) -> None:
    await _campaign(year, "mid_autumn", "中秋国庆帮扶", MID_AUTUMN)


# ---- assistance cases, every month ----------------------------------------------------------------

CASE_KINDS = (("living", "患病住院，家庭月收入低于低保标准", "入户核查：医疗费用高，收入微薄"),
              ("medical", "子女重病住院，自付医疗费用较高", "核查医院票据，自付部分属实"),
              ("temporary", "家中房屋受灾，临时生活困难", "现场查看，受灾情况属实"))
REJECT_REASONS = ("insufficient_evidence", "not_eligible", "duplicate")


async def _case_step(year: Year, case_id: str, action: str, token: str, body: dict | None, done: set[str]) -> dict:
    """One workflow step; a 409 after a lost answer means it was done: read the case back."""
    r = await year.call("welfare", "POST", f"/cases/{case_id}/{action}", token=token, json=body,
                        expect=(200, 409))
    if r.status_code == 200:
        return r.json()
    case = (await year.call("welfare", "GET", f"/cases/{case_id}", token=token, expect=(200,))).json()
    if case["status"] not in done:
        raise YearFailed(f"帮扶案件 {case_id} {action}: {r.text}")
    return case


async def _decide(year: Year, pending: list[dict]) -> None:
    """Street chairs approve or reject last month's assessed cases (never their opener); the
    street's clerk pays and closes. A member who left since is withdrawn instead."""
    ledger = _ledger(year)

    async def one(p: dict) -> None:
        case_id, street = p["case_id"], _street_of(year, p["union_id"])
        if street is None or str(street.id) not in ledger.street_funds:
            raise YearFailed(f"帮扶案件 {case_id}: 所属工会没有街道帮扶资金")
        chair = _token(year, "staff", street.id, _street_chair(street))
        clerk = _token(year, "staff", street.id, _street_clerk(street))
        file = ledger.files.get(p["member_id"])
        if not _is_active(year, p["member_id"]) or file is None or not file.open:
            await _case_step(year, case_id, "withdraw", clerk, None, {"closed"})
            year.count("cases withdrawn")
            return
        if p["reject"]:
            await _case_step(year, case_id, "reject", chair, {"reason": p["reject"]}, {"rejected", "closed"})
            await _case_step(year, case_id, "close", clerk, None, {"closed"})
            ledger.cases_rejected.add(case_id)
            ledger.cases_closed.add(case_id)
            year.count("cases rejected")
            return
        await _case_step(year, case_id, "approve", chair, {"fund_id": ledger.street_funds[str(street.id)]},
                         {"approved", "paid", "closed"})
        await _case_step(year, case_id, "pay", clerk, None, {"paid", "closed"})
        await _case_step(year, case_id, "close", clerk, None, {"closed"})
        ledger.cases_closed.add(case_id)
        year.count("cases paid")

    await _gather(one(p) for p in pending)


async def _open_cases(year: Year, month: int) -> list[dict]:
    ledger, rng, today = _ledger(year), year.rng, year.clock.today()
    files = sorted((f for f in ledger.files.values() if f.open and _is_active(year, f.member_id)),
                   key=lambda f: f.member_id)
    chosen = rng.sample(files, min(len(files), year.scale.per_thousand(CASES_A_MONTH)))
    plans = [(f, rng.choice(CASE_KINDS), rng.choice((50_000, 100_000, 200_000, 300_000, 500_000)),
              rng.choice(REJECT_REASONS) if rng.random() < 0.15 else None,
              rng.choice(("application", "application", "visit"))) for f in chosen]

    async def one(f: HardshipFile, kind, amount: int, reject: str | None, source: str) -> dict | None:
        person = _member(year, f.member_id)
        organiser = _token(year, "staff", person.union_id, "基层工会-组织委员")
        r = await year.call("welfare", "POST", "/cases", token=organiser, expect=(201, 422),
                            key=f"welfare-{today.year}-{month}-case-{f.member_id}",
                            json={"member_id": f.member_id, "kind": kind[0], "source": source,
                                  "summary": kind[1]}, trace=_trace(year, "case", ("welfare", "notify")))
        if r.status_code == 422:
            if _problem(r).endswith("migrant-worker-waiting-period"):
                return None
            raise YearFailed(f"帮扶立案被拒绝: {r.text}")
        case = r.json()
        await _case_step(year, case["id"], "assess", organiser, {"proposed_amount_fen": amount, "findings": kind[2]},
                         {"assessed", "approved", "rejected", "paid", "closed"})
        return {"case_id": case["id"], "member_id": f.member_id, "union_id": case["union_id"], "reject": reject}

    opened = [c for c in await _gather(one(*p) for p in plans) if c]
    year.count("cases opened", len(opened))
    return opened


def _cases_of(month: int):
    async def cases(year: Year) -> None:
        ledger = _ledger(year)
        pending, ledger.pending_cases = ledger.pending_cases, []
        await _decide(year, pending)
        ledger.pending_cases = await _open_cases(year, month)
    return cases


# ---- 12351 hotline, every month --------------------------------------------------------------------

TICKETS = (("general", "咨询入会手续和会员权益"), ("general", "咨询工会帮扶政策"),
           ("difficult", "工资被拖欠两个月，企业负责人联系不上"), ("complex", "工伤认定后企业拒不支付待遇"))


def _tickets_of(month: int):
    async def tickets(year: Year) -> None:
        ledger, rng, today = _ledger(year), year.rng, year.clock.today()
        pending, ledger.pending_tickets = ledger.pending_tickets, []
        plans = []
        for t in pending:
            roll = rng.random()
            plans.append((t, "open" if roll < 0.15 else "resolve", rng.choice((3, 4, 5, 5, 5)), rng.random() < 0.5))

        async def handle(t: dict, what: str, satisfaction: int, by_member: bool) -> None:
            district = _district(year, _district_of(year, t["org_id"]))
            if district is None:
                district = _district(year, t["district_id"])
            desk = _token(year, "staff", district.id, _desk(district))
            if what == "open":
                ledger.tickets_left_open.append(t["id"])
                return
            for action, body, done in (("assign", {"assignee": _rights(district)}, ("assigned", "resolved")),
                                       ("resolve", {"resolution": "已联系企业和街道，问题已协调解决"}, ("resolved",))):
                r = await year.call("welfare", "POST", f"/hotline/tickets/{t['id']}/{action}", token=desk,
                                    json=body, expect=(200, 409))
                if r.status_code == 409:
                    got = (await year.call("welfare", "GET", f"/hotline/tickets/{t['id']}", token=desk,
                                           expect=(200,))).json()
                    if got["status"] not in done:
                        raise YearFailed(f"12351工单 {t['id']} {action}: {r.text}")
            rater = (year.member_token(t["member_id"]) if by_member and _is_active(year, t["member_id"]) else desk)
            r = await year.call("welfare", "POST", f"/hotline/tickets/{t['id']}/rating", token=rater,
                                json={"satisfaction": satisfaction}, expect=(200, 409))
            if r.status_code == 409 and not _problem(r).endswith("already-rated"):
                raise YearFailed(f"12351工单 {t['id']} 满意度: {r.text}")
            ledger.tickets_resolved += 1

        await _gather(handle(*p) for p in plans)
        year.count("tickets resolved", sum(1 for p in plans if p[1] == "resolve"))

        active = _active(year)
        callers = rng.sample(active, min(len(active), year.scale.per_thousand(TICKETS_A_MONTH)))
        new = [(p, rng.choice(TICKETS)) for p in callers]

        async def open_ticket(p, ticket) -> None:
            district = _district_of(year, p.union_id)
            d = _district(year, district)
            if d is None:
                return
            r = await year.call("welfare", "POST", "/hotline/tickets", token=_token(year, "staff", d.id, _desk(d)),
                                key=f"welfare-{today.year}-{month}-ticket-{p.member_id}",
                                json={"member_id": str(p.member_id), "category": ticket[0], "summary": ticket[1]},
                                trace=_trace(year, "ticket", ("welfare",)))
            t = r.json()
            ledger.pending_tickets.append({"id": t["id"], "org_id": t["org_id"], "member_id": str(p.member_id),
                                           "district_id": district})

        await _gather(open_ticket(*n) for n in new)
        ledger.pending_tickets.sort(key=lambda t: t["id"])
        year.count("tickets opened", len(ledger.pending_tickets))
    return tickets


# ---- labour disputes -------------------------------------------------------------------------------

DISPUTE_KINDS = (("pay", "拖欠工资三个月共计一万二千元"), ("contract", "未签订书面劳动合同，要求支付二倍工资"),
                 ("dismissal", "被违法解除劳动合同，要求支付赔偿金"), ("injury", "工伤后被要求自行承担医疗费"),
                 ("social_insurance", "企业未依法缴纳社会保险"))


def _disputes_registered(month: int):
    async def register(year: Year) -> None:
        ledger, rng, today = _ledger(year), year.rng, year.clock.today()
        active = _active(year)
        workers = rng.sample(active, min(len(active), year.scale.per_thousand(DISPUTES_A_BATCH)))
        plans = [(p, rng.choice(DISPUTE_KINDS), rng.random() < 0.2, 23 if rng.random() < 0.1 else 1, _name(year),
                  rng.choice(("written", "written", "oral")), _name(year)) for p in workers]

        async def one(p, kind, stranger: bool, concerned: int, stranger_name: str, form: str,
                      mediator_name: str) -> None:
            street = _street_of(year, p.union_id)
            if street is None:
                return
            mediator = _token(year, "staff", street.id, f"{street.name}-调解员")
            employer, credit = _employer(year, p)
            body = {"unit_id": str(street.id), "application_form": form, "applied_on": str(today),
                    "employer_name": employer, "kind": kind[0], "workers_concerned": concerned, "claim": kind[1]}
            body |= {"worker_name": stranger_name} if stranger else {"member_id": str(p.member_id)}
            if credit:
                body["employer_credit_code"] = credit
            d = (await year.call("welfare", "POST", "/disputes", token=mediator, json=body,
                                 key=f"welfare-{today.year}-{month}-dispute-{p.member_id}",
                                 trace=_trace(year, "dispute", ("welfare", "notify")))).json()
            await year.call("welfare", "POST", f"/disputes/{d['id']}/sessions", token=mediator, expect=(200,),
                            json={"held_on": str(today), "mediator": mediator_name,
                                  "note": "双方到场陈述，企业同意核对工资台账"})
            ledger.open_disputes.append({"id": d["id"], "street_id": str(street.id), "member": not stranger})

        await _gather(one(*p) for p in plans)
        ledger.open_disputes.sort(key=lambda x: x["id"])
        year.count("disputes registered", len(plans))
    return register


def _disputes_concluded(month: int):
    async def conclude(year: Year) -> None:
        ledger, rng, today = _ledger(year), year.rng, year.clock.today()
        batch, ledger.open_disputes = ledger.open_disputes, []
        if batch and not ledger.left_past_15_days:
            batch = batch[1:]   # the first of the year is left in mediation past its 15 days
            ledger.left_past_15_days = True
        plans = [(d, "failure" if rng.random() < 0.3 else "agreement", rng.choice((300_000, 1_200_000, 2_500_000)))
                 for d in batch]
        if not ledger.referred:
            # Legal aid follows a failure of a member's dispute: make sure the year has one.
            for i, (d, _, amount) in enumerate(plans):
                if d["member"]:
                    plans[i] = (d, "failure", amount)
                    break
        referral = None

        async def one(d: dict, outcome: str, amount: int) -> None:
            nonlocal referral
            street = _tree(year).units[d["street_id"]]
            mediator = _token(year, "staff", street.id, f"{street.name}-调解员")
            if outcome == "agreement":
                body = {"agreed_on": str(today), "terms": "企业于月底前一次付清拖欠款项", "amount_fen": amount}
            else:
                body = {"failed_on": str(today), "reason": rng_reason[d["id"]]}
            r = await year.call("welfare", "POST", f"/disputes/{d['id']}/{outcome}", token=mediator, json=body,
                                expect=(200, 409))
            if r.status_code == 409:
                got = (await year.call("welfare", "GET", f"/disputes/{d['id']}", token=mediator,
                                       expect=(200,))).json()
                if got["status"] not in ("agreed", "failed"):
                    raise YearFailed(f"劳动争议 {d['id']} {outcome}: {r.text}")
            year.count("disputes agreed" if outcome == "agreement" else "disputes failed")
            if outcome == "failure" and d["member"] and referral is None and not ledger.referred:
                referral = (d, mediator)

        rng_reason = {d["id"]: rng.choice(("no_agreement", "party_refused", "party_absent")) for d, *_ in plans}
        for p in plans:   # one at a time: the referral is the first failure in order
            await one(*p)
        if referral is not None:
            d, mediator = referral
            r = await year.call("welfare", "POST", f"/disputes/{d['id']}/legal-aid", token=mediator,
                                expect=(200, 409), trace=_trace(year, "referral", ("welfare", "notify")))
            got = r.json() if r.status_code == 200 else (await year.call(
                "welfare", "GET", f"/disputes/{d['id']}", token=mediator, expect=(200,))).json()
            if not got.get("legal_aid"):
                raise YearFailed(f"劳动争议 {d['id']} 转介法律援助: {r.text}")
            case_id = got["legal_aid"]["case_id"]
            r = await year.call("welfare", "POST", f"/cases/{case_id}/legal-aid-outcome", token=mediator,
                                json={"form": "arbitration", "result": "won"}, expect=(200, 409))
            if r.status_code == 409:
                case = (await year.call("welfare", "GET", f"/cases/{case_id}", token=mediator, expect=(200,))).json()
                if case["status"] != "closed":
                    raise YearFailed(f"法律援助案件 {case_id}: {r.text}")
            ledger.referred, ledger.legal_aid_case = True, case_id
            ledger.cases_closed.add(case_id)
            year.count("legal aid referrals")
    return conclude


# ---- 金秋助学 ---------------------------------------------------------------------------------------

def _school_level(born: date, today: date) -> str | None:
    age = today.year - born.year
    for top, level in ((12, "primary"), (15, "junior_high"), (18, "senior_high"), (22, "undergraduate")):
        if 7 <= age <= top:
            return level
    return None


async def golden_autumn(year: Year) -> None:
    """Applications at the grassroots union, the district's re-check, the city's collective
    decision (a federation admin who did not re-check), the district's public notice (公示)."""
    ledger, rng, today = _ledger(year), year.rng, year.clock.today()
    families = []
    for f in sorted(ledger.files.values(), key=lambda f: f.member_id):
        if not (f.open and _is_active(year, f.member_id)) or \
                _district_of(year, _member(year, f.member_id).union_id) not in ledger.district_funds:
            continue
        for child in f.household["household"]:
            n = child["id_number"]
            level = _school_level(date(int(n[6:10]), int(n[10:12]), int(n[12:14])), today)
            if child["relation"] == "child" and level:
                families.append((f, child, level))
                break
    chosen = rng.sample(families, min(len(families), year.scale.per_thousand(STUDENTS)))
    plans = [(f, child, "vocational" if level == "senior_high" and rng.random() < 0.3 else level,
              rng.random() < 0.1) for f, child, level in chosen]
    city = _admin(year, "市总-集体决定")

    async def one(f: HardshipFile, child: dict, level: str, reject: bool) -> None:
        person = _member(year, f.member_id)
        # The application is the member's union's now (a transfer moves it), re-checked by its district.
        district = _district(year, _district_of(year, person.union_id))
        grassroots = _token(year, "staff", person.union_id, "基层工会-主席")
        reviewer = _token(year, "staff", district.id, f"{district.name}-复核员")
        r = await year.call("welfare", "POST", "/cases", token=grassroots, expect=(201, 409, 422),
                            key=f"welfare-{today.year}-golden-autumn-{child['id_number'][-8:]}-{f.member_id}",
                            trace=_trace(year, "golden autumn", ("welfare", "notify")),
                            json={"member_id": f.member_id, "kind": "education", "source": "application",
                                  "summary": "孩子考入新学段，学费和生活费困难",
                                  "student": {"name": child["name"], "id_number": child["id_number"],
                                              "school_level": level}})
        if r.status_code != 201:
            if _problem(r).endswith(("migrant-worker-waiting-period", "already-aided-this-year")):
                return
            raise YearFailed(f"金秋助学申请被拒绝: {r.text}")
        case_id = r.json()["id"]
        await _case_step(year, case_id, "assess", grassroots, {"findings": "核实：家庭困难，学生在读"},
                         {"assessed", "district_reviewed", "approved", "rejected"})
        await _case_step(year, case_id, "district-review", reviewer, None, {"district_reviewed", "approved", "rejected"})
        if reject:
            await _case_step(year, case_id, "reject", city, {"reason": "not_eligible"}, {"rejected", "closed"})
            await _case_step(year, case_id, "close", reviewer, None, {"closed"})
            ledger.cases_rejected.add(case_id)
            ledger.cases_closed.add(case_id)
            return
        await _case_step(year, case_id, "approve", city, {"fund_id": ledger.district_funds[str(district.id)]},
                         {"approved"})
        ledger.students.append(case_id)

    await _gather(one(*p) for p in plans)
    year.count("金秋助学 applications", len(plans))

    notices = 0
    for d in year.city.districts:
        r = await year.call("welfare", "POST", "/golden-autumn/notices", expect=(201, 422),
                            token=_token(year, "staff", d.id, f"{d.name}-复核员"),
                            key=f"welfare-{today.year}-golden-autumn-notice-{d.id}",
                            json={"org_id": str(d.id), "title": f"{today.year}年{d.name}金秋助学拟资助名单公示"})
        if r.status_code == 422 and not _problem(r).endswith("nothing-to-post"):
            raise YearFailed(f"金秋助学公示: {r.text}")
        if r.status_code == 201:
            notice = r.json()
            public = await year.call("welfare", "GET", f"/golden-autumn/notices/{notice['id']}", token=None,
                                     expect=(200,))
            if any("*" not in e["student_name"] or "*" not in e["member_name"] for e in public.json()["entries"]):
                raise YearFailed(f"金秋助学公示 {notice['id']} 显示了未脱敏的姓名")
            notices += 1
    year.count("金秋助学 notices", notices)
    year.count("金秋助学 approved", len(ledger.students))


async def golden_autumn_paid(year: Year) -> None:
    """After the notice's five working days the grants are paid and the cases closed."""
    ledger = _ledger(year)

    async def one(case_id: str) -> None:
        case = (await year.call("welfare", "GET", f"/cases/{case_id}", token=_admin(year), expect=(200,))).json()
        street = _street_of(year, case["union_id"])
        unit = street.id if street is not None else _district_of(year, case["union_id"])
        clerk = _token(year, "staff", unit, "帮扶干事-发放")
        file = ledger.files.get(case["member_id"])
        if not _is_active(year, case["member_id"]) or file is None or not file.open:
            # Left the union (or the file closed) since the notice: withdrawn, as welfare requires.
            await _case_step(year, case_id, "withdraw", clerk, None, {"closed"})
            year.count("金秋助学 withdrawn")
        else:
            await _case_step(year, case_id, "pay", clerk, None, {"paid", "closed"})
            await _case_step(year, case_id, "close", clerk, None, {"closed"})
            year.count("金秋助学 paid")
        ledger.cases_closed.add(case_id)

    await _gather(one(c) for c in ledger.students)


# ---- 12/10 年度复核 ---------------------------------------------------------------------------------

async def reviews(year: Year) -> None:
    """The files due within 60 days (opened in January: due next January) are re-verified by the
    district; about one household in six is out of hardship and its file closes."""
    ledger, rng = _ledger(year), year.rng
    by_id = {f.id: f for f in ledger.files.values()}
    due: list[tuple[Any, HardshipFile]] = []
    for d in year.city.districts:
        staff = _token(year, "staff", d.id, f"{d.name}-复核员")
        offset = 0
        while True:
            page = (await year.call("welfare", "GET", "/hardship-files/due", token=staff, expect=(200,),
                                    params={"within_days": 60, "limit": 5000, "offset": offset})).json()
            due += [(d, by_id[f["id"]]) for f in page if f["id"] in by_id]
            if len(page) < 5000:
                break
            offset += len(page)
    due.sort(key=lambda x: x[1].id)
    plans = []
    for d, f in due:
        person = _member(year, f.member_id)
        if person is None or person.status == "left":   # its file closes by the sweep, not by a review
            continue
        out = rng.random() < 1 / 6
        people = f.household["household"]
        spouse = next((p for p in people if p["relation"] == "spouse"), None)
        children = [p for p in people if p["relation"] == "child"]
        body = _draw_household(year, person, "out" if out else f.level, ledger.standards[f.district_id],
                               children=children, spouse=spouse)
        body["household"][0]["name"] = people[0]["name"]
        plans.append((d, f, out, body))

    async def one(d, f: HardshipFile, out: bool, body: dict) -> None:
        r = await year.call("welfare", "POST", f"/hardship-files/{f.id}/reviews", json=body, expect=(201, 409),
                            token=_token(year, "staff", d.id, f"{d.name}-复核员"),
                            key=f"welfare-{year.clock.today().year}-review-{f.id}")
        if r.status_code == 409:   # closed since (the member left): nothing to re-verify
            f.open = False
            return
        got = r.json()
        if (got["status"] == "closed") != out:
            raise YearFailed(f"困难档案 {f.id} 复核后状态 {got['status']}，预期 {'closed' if out else 'open'}")
        f.open = not out
        ledger.reviews += 1
        ledger.reviews_closed += out

    await _gather(one(*p) for p in plans)
    year.count("files re-verified", ledger.reviews)
    year.count("files closed (out of hardship)", ledger.reviews_closed)


# ---- 12/28 the year's end: December's cases finished, figures read back ----------------------------

async def year_end(year: Year) -> None:
    ledger = _ledger(year)
    pending, ledger.pending_cases = ledger.pending_cases, []
    await _decide(year, pending)
    await year.settle()
    admin = _admin(year, "市总-经审")
    problems = []
    for campaign_id, (name, households) in sorted(ledger.campaigns.items()):
        c = (await year.call("welfare", "GET", f"/campaigns/{campaign_id}", token=admin, expect=(200,))).json()
        if c["paid_count"] != households:
            problems.append(f"{name}: 已发放 {c['paid_count']} 户，应为 {households} 户")
        reversed_ = 1 if campaign_id in ledger.reversals else 0
        if c.get("reversed_count", 0) != reversed_:
            problems.append(f"{name}: 冲正 {c.get('reversed_count')} 笔，应为 {reversed_} 笔")
    for reversal_id in ledger.reversals.values():
        r = (await year.call("welfare", "GET", f"/reversals/{reversal_id}", token=admin, expect=(200,))).json()
        if r["status"] != "approved" or r["decided_by"] == r["requested_by"]:
            problems.append(f"冲正 {reversal_id}: {r['status']}，申请 {r['requested_by']} 审批 {r['decided_by']}")
    closed = sorted(ledger.cases_closed)
    sample = year.rng.sample(closed, min(len(closed), 200))   # a large city: a sample, each read once
    for case_id in sample:
        c = (await year.call("welfare", "GET", f"/cases/{case_id}", token=admin, expect=(200,))).json()
        if c["status"] != "closed":
            problems.append(f"帮扶案件 {case_id}: {c['status']}，应已结案")
        elif case_id in ledger.cases_rejected and c["outcome"] != "rejected":
            problems.append(f"帮扶案件 {case_id}: 结果 {c['outcome']}，应为驳回")
        elif c["kind"] != "legal" and case_id not in ledger.cases_rejected and c["outcome"] != "paid":
            problems.append(f"帮扶案件 {case_id}: 结果 {c['outcome']}，应为已发放")
    late = year.rng.sample(ledger.tickets_left_open, min(len(ledger.tickets_left_open), 200))
    for ticket_id in late:
        t = (await year.call("welfare", "GET", f"/hotline/tickets/{ticket_id}", token=admin, expect=(200,))).json()
        if not t["overdue"]:
            problems.append(f"12351工单 {ticket_id}: 未办结却未超期（due {t['due_at']}）")
    if ledger.root_fund:
        funds = [ledger.root_fund, *ledger.district_funds.values(), *ledger.street_funds.values()]
        for fund_id in funds:
            b = (await year.call("welfare", "GET", f"/funds/{fund_id}", token=admin, expect=(200,))).json()["balance"]
            if min(b[k]["fen"] for k in ("available", "committed", "disbursed")) < 0:
                problems.append(f"专项资金 {fund_id}: 余额为负 {b}")
    if ledger.reviews == 0 and any(f.open for f in ledger.files.values()):
        problems.append("年度复核没有复核任何困难档案")
    if problems:
        raise YearFailed("帮扶年终核对不符：" + "；".join(problems[:10]))
    year.count("figures checked", len(ledger.campaigns) + len(sample) + len(late))


# ---- the calendar ----------------------------------------------------------------------------------

DISPUTE_MONTHS = ((3, 10), (5, 12), (7, 8), (9, 8), (11, 10))

STEPS = [
    Step(1, 5, "帮扶准备", preparations),
    Step(1, 8, "困难职工建档", hardship_files),
    Step(1, 15, "送温暖", warmth),
    *(Step(m, 6, "12351热线", _tickets_of(m)) for m in range(1, 13)),
    *(Step(m, 15 if m < 12 else 16, "帮扶案件", _cases_of(m)) for m in range(1, 13)),
    *(Step(m, d, "劳动争议调解", _disputes_registered(m)) for m, d in DISPUTE_MONTHS),
    *(Step(m, 24, "劳动争议调解", _disputes_concluded(m)) for m, _ in DISPUTE_MONTHS),
    Step(7, 15, "送清凉", cooling),
    Step(8, 5, "金秋助学", golden_autumn),
    Step(8, 20, "金秋助学", golden_autumn_paid),
    Step(9, 20, "中秋国庆", mid_autumn),
    Step(12, 10, "困难档案年度复核", reviews),
    Step(12, 28, "帮扶年终核对", year_end),
]
