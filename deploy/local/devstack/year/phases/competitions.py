"""The competitions side of a city's year (劳动竞赛), through competitions' HTTP API with staff
tokens of the right units. Over 400 lines: five plans of the year share one state and its helpers.

Steps (Beijing dates of the simulated year):
- 3 Mar  五一劳动奖·推荐: each district's lists — 五一劳动奖章 (members), 工人先锋号 (teams),
         五一劳动奖状 (units) — filled until every quota holds (≥35 % front line, ≥10 % migrant
         workers, ≤15 % unit heads, ≥20 % women: competitions' defaults), then submitted (上报);
- 28 Apr 五一劳动奖·表彰: the city grants every submitted list; self-check: /awards per award;
- 8th of every month 合理化建议: new proposals (members themselves, or staff entering paper ones
         a few days back), 交办 at once; answered a month on (adopted / not adopted / under
         study, under study answered finally a month later); adopted ones implemented two months
         after the answer, 60 % of those rewarded two months later; 15 % are never answered and
         become overdue; 28 Dec 合理化建议·年终: self-check of the overdue and rewarded lists;
- 6 / 11 / 15 May 培训: the city's 集体协商指导员培训班 (5 sessions, 4 needed, assessed) and one
         职代会代表培训班 per district (3 sessions, 2 needed): enrolment from the register, opening,
         attendance per session, assessment, completion with certificates; self-check of the
         certificates per programme;
- 1 Jul → 25 Sep 技能比武: the city's skill contest — draft with its announcement, scoring
         standard (理论 30 %, 实操 70 %) and prizes, open 1–20 Jul; unions register teams (4–5
         people, ≥1 woman, one leader, one team per unit, a cap one below the teams planned: the
         last waits and moves up when the first withdraws; a team of men only is refused);
         closed 21 Jul; judging from 15 Sep by 7 judges, two of them from entrant unions
         (回避: they do not score their own union's people), one score sheet per judge; results
         published 25 Sep; self-check: every registered team ranked;
- 20 Nov 安康杯: each district's checklist (threshold 92), a tenth of its unions scored, those
         reaching the threshold granted (one below it refused, as the rule says).

Volumes (assumptions; "per 1,000" is per 1,000 active members of the city, or of the district):
- 合理化建议: 24 per 1,000 members a year (2 a month); 60 % handed in by members themselves,
  40 % entered by union staff; 10 % major (3 months to answer); 45 % adopted, 30 % not adopted,
  10 % under study first, 15 % never answered;
- 五一劳动奖章: 0.2 nominees per 1,000 district members (at least 5 a district); 工人先锋号 5 %
  and 五一劳动奖状 2 % of a district's unions (at least 1 each);
- 集体协商指导员: 1 trainee per 1,000 members (at least 8); 职代会代表: 3 per 1,000 district
  members (at least 5 a district); 93 % attendance per session, 92 % pass the assessment;
- 技能比武: 0.4 teams per 1,000 members, at least 6 where the unions can field them (never
  fewer than 3); 7 judges; prizes 10 % / 20 % / 30 % of the teams ranked (at least one each);
- 安康杯: 10 % of a district's unions scored (at least 2).
"""
from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Iterable

from devstack.year.context import Year, YearFailed
from devstack.year.plan import Step

SERVICE = "competitions"
BEIJING = timezone(timedelta(hours=8))
CONCURRENCY = 8            # requests in flight at once within a step (the driver's order is kept)

PROPOSALS_PER_THOUSAND_A_MONTH = 2.0
MEDAL_NOMINEES_PER_THOUSAND = 0.2
PIONEER_SHARE_OF_UNIONS = 0.05
CERTIFICATE_SHARE_OF_UNIONS = 0.02
INSTRUCTORS_PER_THOUSAND = 1.0
DELEGATES_PER_THOUSAND = 3.0
TEAMS_PER_THOUSAND = 0.4
ANKANG_SHARE_OF_UNIONS = 0.10

# Quotas as competitions applies them by default (competitions.domain.awards.DEFAULT_QUOTAS).
WOMEN_MIN, MIGRANT_MIN, FRONT_LINE_MIN, UNIT_HEAD_MAX = 20, 10, 35, 15

PROPOSAL_TOPICS = [
    ("焊接工装夹具改进", "改进夹具定位方式，减少焊接返工。"),
    ("车间照明节能改造", "将高压钠灯更换为LED灯具，按区域分时控制。"),
    ("设备点检表电子化", "用手机扫码点检代替纸质点检表，异常自动上报。"),
    ("食堂错峰就餐", "各班组错峰半小时就餐，缩短排队时间。"),
    ("余热回收利用", "空压机余热回收用于职工浴室热水。"),
    ("仓库物料定置管理", "按使用频次重新划分库位，缩短领料时间。"),
    ("数控刀具寿命管理", "建立刀具寿命台账，按寿命预警换刀。"),
    ("夜班交通保障", "为夜班职工开通厂区至地铁站的通勤班车。"),
]
TEAM_NAMES = ["焊接班", "电工班", "装配班", "质检班", "维修班", "数控班", "运行班", "检修班", "调度班", "客服班"]
CONTEST_EVENTS = [{"name": "电工技能", "kind": "skill"}, {"name": "焊工技能", "kind": "skill"},
                  {"name": "数控车工", "kind": "skill"}]
CRITERIA = [{"name": "理论", "kind": "theory", "weight_bp": 3000, "max_score": "100"},
            {"name": "实操", "kind": "practical", "weight_bp": 7000, "max_score": "100"}]
JUDGES = 7
ANKANG_ITEMS = [{"code": "A1", "title": "安全生产责任制落实", "max_points": "30"},
                {"code": "A2", "title": "隐患排查治理", "max_points": "30"},
                {"code": "A3", "title": "职工安全培训与应急演练", "max_points": "20"},
                {"code": "A4", "title": "“安康杯”知识竞赛参与", "max_points": "20"}]


# ---- the state a year's steps share ---------------------------------------------------------------

@dataclass
class Proposal:
    id: str
    union_id: str
    step: int                 # the month it was submitted in
    fate: str                 # adopt | reject | study | ignore
    due: date
    answered: bool = False
    adopted_in: int | None = None
    implemented_in: int | None = None
    rewarded: bool = False
    final: str | None = None  # a proposal under study: adopt | reject


@dataclass
class Programme:
    id: str
    org_id: str
    sessions: int
    min_sessions: int
    assessed: bool
    enrolled: list[str] = field(default_factory=list)
    attended: dict[str, int] = field(default_factory=dict)


@dataclass
class State:
    batches: list[tuple[str, str, int]] = field(default_factory=list)   # (batch id, award, nominees)
    awards: dict[str, int] = field(default_factory=dict)                # award → granted
    proposals: list[Proposal] = field(default_factory=list)
    programmes: list[Programme] = field(default_factory=list)
    contest_id: str | None = None
    planned: int = 0                                                    # teams the contest is set for
    teams: list[dict] = field(default_factory=list)                     # as registered (TeamOut)
    registered: int = 0


_STATES: dict[int, State] = {}


def state(year: Year) -> State:
    return _STATES.setdefault(id(year), State())


# ---- helpers ---------------------------------------------------------------------------------------

def _listed(things) -> list:
    return list(things.values()) if isinstance(things, dict) else list(things)


def _id(x) -> str:
    return str(x)


def _district_of(year: Year) -> dict[str, str]:
    return {_id(u.id): _id(u.district_id) for u in _listed(year.city.unions)}


def _members_by_district(year: Year) -> dict[str, list]:
    """Active members of each district, in a stable order (the driver's rng shuffles them)."""
    district = _district_of(year)
    by: dict[str, list] = {}
    for p in sorted(year.city.active(), key=lambda p: _id(p.member_id)):
        d = district.get(_id(p.union_id))
        if d is not None:
            by.setdefault(d, []).append(p)
    return by


def _unions_of(year: Year, district_id) -> list:
    return sorted(_listed(year.city.unions_of(district_id)), key=lambda u: _id(u.id))


def _migrant(person) -> bool | None:
    """Whether the register says the person is a migrant worker, when the city keeps it."""
    for name in ("migrant_worker", "migrant", "is_migrant_worker"):
        if hasattr(person, name):
            return bool(getattr(person, name))
    return None


def _iso_beijing(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING).isoformat()


async def _gather(calls: Iterable[Callable[[], Awaitable[Any]]]) -> list:
    """Run the calls `CONCURRENCY` at a time; results in the calls' order. Every rng draw is
    made before, in the driver's order, so concurrency changes nothing of what is done."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(call):
        async with gate:
            return await call()

    return await asyncio.gather(*(one(c) for c in calls))


def _staff(year: Year, org_id) -> str:
    return year.token("staff", _id(org_id))


def _root(year: Year) -> str:
    return _staff(year, year.city.root_id)


def _fail(what: str) -> None:
    raise YearFailed(f"竞赛（competitions）自检失败：{what}")


# ---- 五一劳动奖: nominations (March) and the grant (April) ------------------------------------------

async def nominations(year: Year) -> None:
    await year.settle()  # competitions learns members and units from events
    rng = year.rng
    by_district = _members_by_district(year)
    for d in sorted(_listed(year.city.districts), key=lambda u: _id(u.id)):
        officer = _staff(year, d.id)
        people = by_district.get(_id(d.id), [])
        rng.shuffle(people)
        if len(people) >= 5:
            await _medal_list(year, d, officer, people)
        unions = _unions_of(year, d.id)
        for award, share, kind in (("worker_pioneer", PIONEER_SHARE_OF_UNIONS, "team"),
                                   ("may_day_certificate", CERTIFICATE_SHARE_OF_UNIONS, "unit")):
            if unions:
                chosen = rng.sample(unions, min(len(unions), max(1, round(len(unions) * share))))
                await _collective_list(year, d, officer, award, chosen, kind)


async def _batch(year: Year, officer: str, org_id, award: str) -> str:
    r = await year.call(SERVICE, "POST", "/nomination-batches", token=officer,
                        json={"org_id": _id(org_id), "award": award, "year": year.year},
                        key=f"comps-{year.year}-batch-{award}-{org_id}")
    year.count("nomination lists")
    return r.json()["id"]


async def _nominate(year: Year, officer: str, batch_id: str, body: dict, key: str) -> dict:
    r = await year.call(SERVICE, "POST", f"/nomination-batches/{batch_id}/nominees", token=officer, json=body,
                        key=f"comps-{year.year}-nominee-{batch_id}-{key}")
    year.count("nominees")
    return r.json()


async def _medal_list(year: Year, district, officer: str, people: list) -> None:
    """五一劳动奖章: k members of the district, the quotas met by choice where the register tells
    (women; migrant workers if the city keeps the flag), else by replacing nominees until the
    competitions projection's migrant flags make the share."""
    k = min(len(people), max(5, round(len(people) * MEDAL_NOMINEES_PER_THOUSAND / 1000)))
    need_women, need_migrants = math.ceil(k * WOMEN_MIN / 100), math.ceil(k * MIGRANT_MIN / 100)
    women = [p for p in people if p.female]
    migrants = [p for p in people if _migrant(p)]
    picked: list = []
    for group, n in ((migrants, need_migrants), (women, need_women)):
        for p in group:
            if sum(1 for q in picked if q in group) >= n:
                break
            if p not in picked:
                picked.append(p)
    picked += [p for p in people if p not in picked][:k - len(picked)]
    heads = k * UNIT_HEAD_MAX // 100
    front = {id(p) for p in picked[:max(math.ceil(k * FRONT_LINE_MIN / 100), round(k * 0.7))]}
    flags = [(p, id(p) in front and i < k - heads, i >= k - heads) for i, p in enumerate(picked)]

    batch_id = await _batch(year, officer, district.id, "may_day_medal")
    nominees = await _gather(
        (lambda p=p, fl=fl, uh=uh: _nominate(year, officer, batch_id, {
            "member_id": _id(p.member_id), "front_line": fl, "unit_head": uh}, _id(p.member_id)))
        for p, fl, uh in flags)
    listed = {n["member_id"]: n for n in nominees}
    spare = [p for p in people if _id(p.member_id) not in listed]
    while sum(1 for n in listed.values() if n["migrant_worker"]) < need_migrants and spare:
        candidate = spare.pop(0)
        n = await _nominate(year, officer, batch_id, {"member_id": _id(candidate.member_id), "front_line": True},
                            _id(candidate.member_id))
        women_now = sum(1 for x in listed.values() if x["gender"] == "female")
        out = n if not n["migrant_worker"] else next(
            (x for x in listed.values() if not x["migrant_worker"] and not x["unit_head"]
             and (x["gender"] != "female" or women_now > need_women)), None)
        if n["migrant_worker"]:
            listed[n["member_id"]] = n
        if out is not None:
            await year.call(SERVICE, "DELETE", f"/nomination-batches/{batch_id}/nominees/{out['id']}",
                            token=officer, expect=(204, 404))
            listed.pop(out["member_id"], None)
    await _submit(year, officer, batch_id, "may_day_medal", len(listed))


async def _collective_list(year: Year, district, officer: str, award: str, unions: list, kind: str) -> None:
    batch_id = await _batch(year, officer, district.id, award)
    bodies = [{"union_id": _id(u.id), "front_line": i % 3 != 2}
              | ({"team_name": TEAM_NAMES[i % len(TEAM_NAMES)]} if kind == "team" else {})
              for i, u in enumerate(unions)]
    await _gather((lambda b=b: _nominate(year, officer, batch_id, b, b["union_id"])) for b in bodies)
    await _submit(year, officer, batch_id, award, len(bodies))


async def _submit(year: Year, officer: str, batch_id: str, award: str, nominees: int) -> None:
    view = (await year.call(SERVICE, "GET", f"/nomination-batches/{batch_id}", token=officer)).json()
    if not view["quotas_hold"]:
        # A district whose register cannot make the shares (no migrant worker at all) keeps its draft.
        year.count("nomination lists kept as drafts (quotas not met)")
        return
    await year.call(SERVICE, "POST", f"/nomination-batches/{batch_id}/submit", token=officer, expect=(200, 409))
    state(year).batches.append((batch_id, award, nominees))
    year.count("nomination lists submitted")


async def may_day_awards(year: Year) -> None:
    st, city = state(year), _root(year)
    for i, (batch_id, award, n) in enumerate(st.batches):
        await year.call(SERVICE, "POST", f"/nomination-batches/{batch_id}/grant", token=city, expect=(200, 409),
                        trace=("competitions",) if i == 0 else None)
        st.awards[award] = st.awards.get(award, 0) + n
        year.count("awards granted", n)
    for award, expected in st.awards.items():
        got = (await year.call(SERVICE, "GET", "/awards", token=city,
                               params={"year": year.year, "award": award, "limit": 1000})).json()
        if len(got) != min(expected, 1000):
            _fail(f"{year.year} 年 {award} 应授予 {expected} 项，/awards 列出 {len(got)} 项")


# ---- 合理化建议 all year ------------------------------------------------------------------------------

def _unit_staff(year: Year, union_id: str, known: set[str]) -> str:
    """The proposal's union answers it; a union gone in a merger is answered from the city."""
    return _staff(year, union_id) if union_id in known else _root(year)


async def proposals_month(year: Year) -> None:
    st, rng, today = state(year), year.rng, year.clock.today()
    month = today.month
    known = {_id(u.id) for u in _listed(year.city.unions)}
    # Earlier months' proposals move on first (what their unions decided this month).
    work: list[tuple[Proposal, str, dict]] = []
    for p in st.proposals:
        age = month - p.step
        if not p.answered and p.fate != "ignore" and age == 1:
            outcome = {"adopt": "adopted", "reject": "not_adopted", "study": "under_study"}[p.fate]
            work.append((p, "answer", {"outcome": outcome, "answer": {
                "adopted": "采纳，由承办部门组织实施。", "not_adopted": "经研究，现有条件下暂不采纳，感谢建议。",
                "under_study": "承办部门正在研究论证，下月答复。"}[outcome]}))
        elif p.fate == "study" and p.final is None and age == 2:
            p.final = "adopt" if rng.random() < 0.5 else "reject"
            work.append((p, "answer", {"outcome": "adopted" if p.final == "adopt" else "not_adopted",
                                       "answer": "经研究论证，" + ("予以采纳。" if p.final == "adopt" else "暂不采纳。")}))
        elif p.adopted_in is not None and p.implemented_in is None and month - p.adopted_in == 2:
            work.append((p, "implement", {"note": "已在车间推广实施。"}))
        elif p.implemented_in is not None and not p.rewarded and month - p.implemented_in == 2 \
                and rng.random() < 0.6:
            grade = rng.choices(["first", "second", "third", "encouragement"], [1, 2, 3, 4])[0]
            work.append((p, "reward", {"grade": grade, "effect": f"年节约成本约 {rng.randint(2, 60)} 万元"}))
    first_answer = next((i for i, w in enumerate(work) if w[1] == "answer"), None)

    async def move(n: int, p: Proposal, action: str, body: dict) -> None:
        trace = ("competitions", "notify") if n == first_answer else None
        # 409 only where a retry after a lost answer meets the step already taken.
        await year.call(SERVICE, "POST", f"/proposals/{p.id}/{action}", token=_unit_staff(year, p.union_id, known),
                        json=body, trace=trace, expect=(200, 409))
        if action == "answer":
            p.answered = True
            if body["outcome"] == "adopted":
                p.adopted_in = month
        elif action == "implement":
            p.implemented_in = month
        elif action == "reward":
            p.rewarded = True
        year.count({"answer": "proposals answered", "implement": "proposals implemented",
                    "reward": "proposals rewarded"}[action])

    await _gather((lambda n=n, w=w: move(n, *w)) for n, w in enumerate(work))

    # This month's proposals: a member in person, or staff entering one collected on paper.
    n = year.scale.per_thousand(PROPOSALS_PER_THOUSAND_A_MONTH)
    authors = year.city.sample_active(rng, n)
    plans = []
    for i, person in enumerate(authors):
        title, content = PROPOSAL_TOPICS[rng.randrange(len(PROPOSAL_TOPICS))]
        by_member = rng.random() < 0.6
        handed_in = today if by_member else today - timedelta(days=rng.randint(0, min(6, today.day - 1)))
        body = {"title": title, "content": content, "major": rng.random() < 0.1}
        if not by_member:
            body |= {"member_id": _id(person.member_id), "submitted_on": handed_in.isoformat()}
        fate = rng.choices(["adopt", "reject", "study", "ignore"], [45, 30, 10, 15])[0]
        token = year.member_token(person.member_id) if by_member else _staff(year, person.union_id)
        plans.append((i, body, fate, token, rng.choice(["设备部", "生产部", "后勤保障部", "安全环保部"])))

    async def submit(i: int, body: dict, fate: str, token: str, unit: str) -> Proposal:
        r = await year.call(SERVICE, "POST", "/proposals", token=token, json=body,
                            key=f"comps-{year.year}-proposal-{month}-{i}")
        p = r.json()
        year.count("proposals")
        await year.call(SERVICE, "POST", f"/proposals/{p['id']}/assign", token=_unit_staff(year, p["union_id"], known),
                        json={"assignee_unit": unit}, expect=(200, 409))
        return Proposal(id=p["id"], union_id=p["union_id"], step=month, fate=fate,
                        due=date.fromisoformat(p["answer_due_on"]))

    st.proposals += await _gather((lambda pl=pl: submit(*pl)) for pl in plans)


async def proposals_year_end(year: Year) -> None:
    st, today, city = state(year), year.clock.today(), _root(year)
    overdue = {p.id for p in st.proposals if not p.answered and p.due < today}
    listed = (await year.call(SERVICE, "GET", "/proposals", token=city,
                              params={"overdue": "true", "limit": 1000})).json()
    if len(listed) != min(len(overdue), 1000) or (len(overdue) <= 1000 and {x["id"] for x in listed} != overdue):
        _fail(f"逾期未答复的合理化建议应为 {len(overdue)} 件，/proposals?overdue=true 列出 {len(listed)} 件")
    rewarded = sum(1 for p in st.proposals if p.rewarded)
    got = (await year.call(SERVICE, "GET", "/proposals", token=city,
                           params={"status": "rewarded", "limit": 1000})).json()
    if len(got) != min(rewarded, 1000):
        _fail(f"已评奖的合理化建议应为 {rewarded} 件，列出 {len(got)} 件")
    year.count("proposals overdue", len(overdue))


# ---- May: training of bargaining instructors and congress delegates ---------------------------------

async def training_enrolment(year: Year) -> None:
    st, rng, today = state(year), year.rng, year.clock.today()
    starts, ends = today + timedelta(days=5), today + timedelta(days=9)
    by_district = _members_by_district(year)
    everyone = sorted((p for ps in by_district.values() for p in ps), key=lambda p: _id(p.member_id))
    plans = [(year.city.root_id, "bargaining_instructor", f"{year.year}年集体协商指导员培训班", 5, 4, True,
              rng.sample(everyone, min(len(everyone), max(8, year.scale.per_thousand(INSTRUCTORS_PER_THOUSAND)))))]
    for d in sorted(_listed(year.city.districts), key=lambda u: _id(u.id)):
        people = by_district.get(_id(d.id), [])
        if people:
            n = min(len(people), max(5, round(len(people) * DELEGATES_PER_THOUSAND / 1000)))
            plans.append((d.id, "congress_delegate", f"{year.year}年{d.name}职代会代表培训班", 3, 2, False,
                          rng.sample(people, n)))
    for org_id, kind, name, sessions, needed, assessed, people in plans:
        officer = _staff(year, org_id)
        r = await year.call(SERVICE, "POST", "/training/programmes", token=officer, key=f"comps-{year.year}-{kind}-{org_id}",
                            json={"name": name, "kind": kind, "org_id": _id(org_id), "starts_on": starts.isoformat(),
                                  "ends_on": ends.isoformat(), "place": "市职工服务中心" if kind == "bargaining_instructor"
                                  else "区职工服务中心", "sessions": sessions, "min_sessions": needed,
                                  "assessment_required": assessed, "capacity": len(people)})
        prog = Programme(id=r.json()["id"], org_id=_id(org_id), sessions=sessions, min_sessions=needed,
                         assessed=assessed)
        await year.call(SERVICE, "POST", f"/training/programmes/{prog.id}/status", token=officer,
                        json={"status": "open"}, expect=(200, 409))
        ids = [_id(p.member_id) for p in people]
        for c in range(0, len(ids), 1000):
            e = await year.call(SERVICE, "POST", f"/training/programmes/{prog.id}/enrolments", token=officer,
                                json={"member_ids": ids[c:c + 1000]}, key=f"comps-{year.year}-enrol-{prog.id}-{c}",
                                trace=("competitions", "notify") if c == 0 and kind == "bargaining_instructor" else None)
            prog.enrolled += [_id(m) for m in e.json()["enrolled"]]
            if e.json()["refused"]:
                year.count("training refusals", len(e.json()["refused"]))
        year.count("programmes")
        year.count("trainees enrolled", len(prog.enrolled))
        st.programmes.append(prog)


async def _attendance(year: Year, prog: Programme, session: int) -> None:
    present = [m for m in prog.enrolled if year.rng.random() < 0.93]
    await year.call(SERVICE, "PUT", f"/training/programmes/{prog.id}/sessions/{session}/attendance",
                    token=_staff(year, prog.org_id), json={"member_ids": present})
    for m in present:
        prog.attended[m] = prog.attended.get(m, 0) + 1
    year.count("attendance records", len(present))


async def training_start(year: Year) -> None:
    for prog in state(year).programmes:
        await year.call(SERVICE, "POST", f"/training/programmes/{prog.id}/status", token=_staff(year, prog.org_id),
                        json={"status": "running"}, expect=(200, 409))
        await _attendance(year, prog, 1)


async def training_finish(year: Year) -> None:
    expected_total = 0
    for i, prog in enumerate(state(year).programmes):
        officer = _staff(year, prog.org_id)
        for session in range(2, prog.sessions + 1):
            await _attendance(year, prog, session)
        passed = set(prog.enrolled)
        if prog.assessed:
            passed = {m for m in prog.enrolled if year.rng.random() < 0.92}
            await year.call(SERVICE, "PUT", f"/training/programmes/{prog.id}/assessment", token=officer,
                            json={"passed": sorted(passed), "failed": sorted(set(prog.enrolled) - passed)})
        await year.call(SERVICE, "POST", f"/training/programmes/{prog.id}/status", token=officer,
                        json={"status": "finished"}, expect=(200, 409),
                        trace=("competitions", "membership", "notify") if i == 0 else None)
        expected = sum(1 for m in prog.enrolled if prog.attended.get(m, 0) >= prog.min_sessions and m in passed)
        got = (await year.call(SERVICE, "GET", f"/training/programmes/{prog.id}", token=officer)).json()
        if got["certificates"] != expected or got["status"] != "finished":
            _fail(f"培训班 {got['name']} 应发结业证书 {expected} 本，实为 {got['certificates']}（{got['status']}）")
        expected_total += expected
        year.count("certificates", expected)
    figures = (await year.call(SERVICE, "GET", f"/training/figures/{year.city.root_id}", token=_root(year),
                               params={"year": year.clock.today().year})).json()
    if figures["unit"]["certificates"] < expected_total:
        _fail(f"全市培训结业证书应至少 {expected_total} 本，统计为 {figures['unit']['certificates']}")


# ---- Q3: the city skill contest (技能比武) -----------------------------------------------------------

async def contest_announced(year: Year) -> None:
    st, today, city = state(year), year.clock.today(), _root(year)
    st.planned = _teams_planned(year)
    cap = st.planned - 1
    r = await year.call(SERVICE, "POST", "/contests", token=city, key=f"comps-{year.year}-contest", json={
        "name": f"{year.year}年全市职工技能比武", "kind": "skill", "org_id": _id(year.city.root_id),
        "host_name": "市职工技术协会", "co_organisers": [{"name": "市人力资源和社会保障局"}],
        "starts_on": date(year.year, 9, 15).isoformat(), "ends_on": date(year.year, 9, 16).isoformat(),
        "place": "市职工技能实训基地", "events": CONTEST_EVENTS,
        "opens_at": _iso_beijing(today), "closes_at": _iso_beijing(date(year.year, 7, 21)),
        "min_team_size": 4, "max_team_size": 5, "min_women": 1, "max_teams_per_unit": 1,
        "team_cap": cap})
    st.contest_id = r.json()["id"]
    await year.call(SERVICE, "PUT", f"/contests/{st.contest_id}/criteria", token=city, json={"criteria": CRITERIA})
    await year.call(SERVICE, "PUT", f"/contests/{st.contest_id}/judging-rules", token=city,
                    json={"team_score": "mean", "prize_basis": "count", "prizes": {
                        "first": max(1, cap // 10), "second": max(1, cap // 5), "third": max(1, cap * 3 // 10)}})
    await year.call(SERVICE, "POST", f"/contests/{st.contest_id}/status", token=city, json={"status": "open"},
                    expect=(200, 409))
    year.count("contests")


def _fielding_unions(year: Year) -> list[tuple[Any, list, list]]:
    """Unions that can field a team: (union, its active women, its active men), from one pass
    over the register."""
    by_union: dict[str, list] = {}
    for p in year.city.active():
        by_union.setdefault(_id(p.union_id), []).append(p)
    out = []
    for u in sorted(_listed(year.city.unions), key=lambda u: _id(u.id)):
        people = sorted(by_union.get(_id(u.id), []), key=lambda p: _id(p.member_id))
        women = [p for p in people if p.female]
        if len(people) >= 4 and women:
            out.append((u, women, [p for p in people if not p.female]))
    return out


def _teams_planned(year: Year) -> int:
    """At least 6 teams where the city's unions can field them, never fewer than 3."""
    return max(3, min(len(_fielding_unions(year)), max(6, year.scale.per_thousand(TEAMS_PER_THOUSAND))))


async def contest_registration(year: Year) -> None:
    await year.settle()
    st, rng = state(year), year.rng
    unions = _fielding_unions(year)
    if len(unions) < 3:
        _fail(f"能组队参加技能比武的工会只有 {len(unions)} 个（每队至少4人、1名女职工）")
    chosen = rng.sample(unions, min(len(unions), st.planned))
    contest = (await year.call(SERVICE, "GET", f"/contests/{st.contest_id}", token=_root(year))).json()
    events = [e["id"] for e in contest["events"]]
    forms = []
    for n, (u, women, men) in enumerate(chosen):
        size = 5 if len(women) + len(men) >= 5 and rng.random() < 0.5 else 4
        people = [women[0]] + rng.sample([p for p in women[1:] + men], size - 1)
        rng.shuffle(people)
        forms.append((u, {"union_id": _id(u.id), "members": [
            {"member_id": _id(p.member_id), "leader": i == 0, "event_id": events[i % len(events)]}
            for i, p in enumerate(people)]}))
    # One union first sends a team of men only: refused (每队至少1名女职工), nothing registered.
    men_only = next(((u, men) for u, _, men in chosen if len(men) >= 4), None)
    if men_only is not None:
        u, men = men_only
        await year.call(SERVICE, "POST", f"/contests/{st.contest_id}/teams", token=_staff(year, u.id), expect=(422,),
                        json={"union_id": _id(u.id), "members": [{"member_id": _id(p.member_id), "leader": i == 0}
                                                                 for i, p in enumerate(men[:4])]},
                        key=f"comps-{year.year}-team-refused-{u.id}")
        year.count("teams refused (no woman)")
    # In order of arrival: the cap is one below the teams planned, so the last one waits.
    for n, (u, form) in enumerate(forms):
        r = await year.call(SERVICE, "POST", f"/contests/{st.contest_id}/teams", token=_staff(year, u.id), json=form,
                            key=f"comps-{year.year}-team-{u.id}", trace=("competitions", "notify") if n == 0 else None)
        st.teams.append(r.json())
        year.count("teams")
    cap = st.planned - 1
    waiting = [t for t in st.teams if t["status"] == "waitlisted"]
    if len(waiting) != max(0, len(st.teams) - cap):
        _fail(f"队伍名额 {cap} 个，报名 {len(st.teams)} 支，候补应为 {max(0, len(st.teams) - cap)} 支，实有 {len(waiting)} 支")
    st.registered = len(st.teams) - len(waiting)
    if waiting:
        first = st.teams[0]
        w = await year.call(SERVICE, "POST", f"/contests/{st.contest_id}/teams/{first['id']}/withdraw",
                            token=_staff(year, first["union_id"]), expect=(200, 409))
        if w.status_code == 200 and w.json()["promoted_team_ids"] != [waiting[0]["id"]]:
            _fail("首支队伍退赛后候补队伍未递补")
        year.count("teams withdrawn")


async def contest_closed(year: Year) -> None:
    st = state(year)
    r = await year.call(SERVICE, "POST", f"/contests/{st.contest_id}/status", token=_root(year),
                        json={"status": "closed"}, expect=(200, 409))
    if r.status_code == 200 and r.json()["teams_registered"] != st.registered:
        _fail(f"报名截止时应有 {st.registered} 支队伍，实为 {r.json()['teams_registered']}")


async def contest_judging(year: Year) -> None:
    st, rng, city = state(year), year.rng, _root(year)
    cid = st.contest_id
    await year.call(SERVICE, "POST", f"/contests/{cid}/status", token=city, json={"status": "judging"},
                    expect=(200, 409))
    entries = (await year.call(SERVICE, "GET", f"/contests/{cid}/entries", token=city)).json()
    # Judges from the districts' federations, two of them from entrant unions: they step aside
    # for their own union's people (回避).
    districts = sorted(_listed(year.city.districts), key=lambda u: _id(u.id))
    entrant_unions = sorted({e["union_id"] for e in entries})
    homes = [_id(districts[i % len(districts)].id) for i in range(JUDGES - 2)] + rng.sample(entrant_unions, 2)
    for j, home in enumerate(homes, start=1):
        await year.call(SERVICE, "POST", f"/contests/{cid}/judges", token=city, key=f"comps-{year.year}-judge-{j}",
                        json={"judge_id": f"judge-{j:02d}", "name": f"评委{'一二三四五六七八九'[j - 1]}",
                              "union_id": home})
    year.count("judges", JUDGES)
    ability = {e["id"]: rng.gauss(80, 7) for e in entries}
    sheets = []
    for j, home in enumerate(homes, start=1):
        bias = rng.gauss(0, 2.5)
        lines = []
        for e in entries:
            if e["union_id"] == home:
                continue
            for c, spread in (("理论", 6), ("实操", 4)):
                score = min(100.0, max(30.0, ability[e["id"]] + bias + rng.gauss(0, spread)))
                lines.append({"entry_id": e["id"], "criterion": c, "score": f"{score:.2f}"})
        for c in range(0, len(lines), 4000):
            sheets.append((j, c, lines[c:c + 4000]))

    async def sheet(j: int, c: int, lines: list) -> None:
        await year.call(SERVICE, "POST", f"/contests/{cid}/score-sheets", token=city,
                        json={"judge_id": f"judge-{j:02d}", "scores": lines},
                        key=f"comps-{year.year}-sheet-{j}-{c}")
        year.count("scores", len(lines))

    await _gather((lambda s=s: sheet(*s)) for s in sheets)
    standings = (await year.call(SERVICE, "GET", f"/contests/{cid}/standings", token=city)).json()
    if not standings["complete"]:
        _fail(f"评分未完成：尚缺 {standings.get('missing_total')} 项")


async def contest_results(year: Year) -> None:
    st, city = state(year), _root(year)
    cid = st.contest_id
    published = (await year.call(SERVICE, "POST", f"/contests/{cid}/results", token=city,
                                 key=f"comps-{year.year}-results", trace=("competitions", "notify"))).json()
    results = (await year.call(SERVICE, "GET", f"/contests/{cid}/results", token=city)).json()
    placings = [p for r in results["rankings"] for p in r["placings"]]
    if published["revision"] != 1 or len(placings) != st.registered:
        _fail(f"技能比武应排名 {st.registered} 支队伍，公布 {len(placings)} 支（第 {published['revision']} 版）")
    if sorted(p["rank"] for p in placings)[0] != 1 or not any(p["prize"] == "first" for p in placings):
        _fail("技能比武成绩无第一名或一等奖")
    public = (await year.call(SERVICE, "GET", f"/public/contests/{cid}/results", token=city)).json()
    if sum(len(r["placings"]) for r in public["rankings"]) != st.registered:
        _fail("公示的技能比武成绩与公布的名次数不一致")
    contest = (await year.call(SERVICE, "GET", f"/contests/{cid}", token=city)).json()
    if contest["status"] != "published":
        _fail(f"技能比武状态应为 published，实为 {contest['status']}")
    year.count("teams ranked", len(placings))


# ---- 安康杯 (November) -------------------------------------------------------------------------------

async def ankang_cup(year: Year) -> None:
    rng = year.rng
    for d in sorted(_listed(year.city.districts), key=lambda u: _id(u.id)):
        unions = _unions_of(year, d.id)
        if not unions:
            continue
        officer = _staff(year, d.id)
        r = await year.call(SERVICE, "POST", "/ankang-cup/checklists", token=officer, key=f"comps-{year.year}-ankang-{d.id}",
                            json={"org_id": _id(d.id), "year": year.year, "threshold": "92", "items": ANKANG_ITEMS})
        checklist = r.json()["id"]
        scored = rng.sample(unions, min(len(unions), max(2, round(len(unions) * ANKANG_SHARE_OF_UNIONS))))
        for u in scored:
            points = {i["code"]: round(float(i["max_points"]) * rng.uniform(0.85, 1.0), 1) for i in ANKANG_ITEMS}
            path = f"/ankang-cup/checklists/{checklist}/units/{u.id}"
            r = await year.call(SERVICE, "POST", f"{path}/scores", token=officer, expect=(200, 409),
                                json={"scores": [{"item": k, "points": f"{v:.1f}"} for k, v in points.items()]})
            # 409: a retry after a lost answer meets the items already scored; the sheet says what stands.
            sheet = r.json() if r.status_code == 200 else (await year.call(SERVICE, "GET", path, token=officer)).json()
            year.count("安康杯 units scored")
            reaches = sheet["reaches_threshold"]
            g = await year.call(SERVICE, "POST", f"/ankang-cup/checklists/{checklist}/units/{u.id}/award",
                                token=officer, key=f"comps-{year.year}-ankang-award-{u.id}",
                                expect=(201,) if reaches else (422,))
            year.count("安康杯 titles" if g.status_code == 201 else "安康杯 below threshold")


STEPS = [
    Step(3, 3, "五一劳动奖推荐", nominations),
    Step(4, 28, "五一劳动奖表彰", may_day_awards),
    *(Step(m, 8, "合理化建议", proposals_month) for m in range(1, 13)),
    Step(12, 28, "合理化建议", proposals_year_end),
    Step(5, 6, "培训班", training_enrolment),
    Step(5, 11, "培训班", training_start),
    Step(5, 15, "培训班", training_finish),
    Step(7, 1, "技能比武", contest_announced),
    Step(7, 10, "技能比武", contest_registration),
    Step(7, 21, "技能比武", contest_closed),
    Step(9, 15, "技能比武", contest_judging),
    Step(9, 25, "技能比武", contest_results),
    Step(11, 20, "安康杯", ankang_cup),
]
