"""Rights protection's year on membership's side (维权): the rights targets from the city,
workers' congresses in the first quarter, 厂务公开, mediation committees, and the spring
collective bargaining — offers, answers, sessions, the workers' vote, signing, the labour
administration's review, publication.

Volumes (docs/benchmarks.md "The year of the city"):
- a rights officer (维权) in every district, registered in notify;
- congresses: every covered employer above designated size and a third of the others, at most one
  per 20 members; delegates: one per ten members of the union, 3 to 30, elected in February; the
  session in March with 80 % present; two delegates' proposals each, answered in April except
  one in five (left to go overdue);
- 厂务公开 at each congress's employer, published after the session; a mediation committee at half;
- collective contracts: a wage-bargaining (工资专项) offer by the union at half of the covered
  employers in April, answered within the 20 days except one in ten (overdue); signed for two
  years in May after a vote of all workers, received by the labour administration, published
  once the 15 days have passed."""
from __future__ import annotations

import math
from datetime import date, timedelta

from devstack.year.context import Year, YearFailed
from devstack.year.plan import Step


def _officer_email(district) -> str:
    return f"rights-{district.id[:8]}@city.unionops.cn"


async def targets_and_officers(year: Year) -> None:
    for district in year.city.districts:
        await year.call("membership", "PUT", f"/organisations/{district.id}/rights-targets/{year.year}",
                        token=year.admin_token(), json={"collective_contract": 80, "wage_bargaining": 75,
                                                        "congress": 85, "openness": 85, "mediation_committee": 60})
        await year.call("notify", "POST", "/officers", token=year.admin_token(), key=f"year-rights-officer-{district.id}",
                        json={"name": "区维权部", "org_id": district.id, "roles": ["rights_officer"],
                              "email": _officer_email(district)})
        year.count("rights targets set")
    year.rights = {"congresses": [], "contracts": [], "proposals": []}


def _covered(year: Year):
    return [e for e in year.city.employers if e.union_id and year.city.active(e.union_id)]


async def congresses(year: Year) -> None:
    """February: each chosen employer's congress founded and its delegates elected."""
    city, rng, today = year.city, year.rng, year.clock.today()
    chosen = [e for e in _covered(year) if e.above_designated_size or rng.random() < 0.33]
    chosen = chosen[:max(1, year.scale.members // 20)]
    for e in chosen:
        union = city.unit(e.union_id)
        staff = year.token("staff", e.org_id)
        r = await year.call("membership", "POST", "/congresses", token=staff, key=f"year-congress-{e.id}", json={
            "kind": "employer", "name": "第一届职工代表大会", "employer_ids": [e.id],
            "established_on": date(year.year, 1, 1).isoformat()})
        congress = r.json()
        people = city.active(union.id)
        delegates = rng.sample(people, min(len(people), max(3, min(30, len(people) // 10))))
        await year.call("membership", "POST", f"/congresses/{congress['id']}/delegates", token=staff,
                        key=f"year-delegates-{congress['id']}", json={
                            "member_ids": [p.member_id for p in delegates], "term_start": today.isoformat(),
                            "term_end": (date(year.year + 3, today.month, today.day) - timedelta(days=1)).isoformat()},
                        trace=("membership", "notify") if not year.rights["congresses"] else None)
        year.rights["congresses"].append({"id": congress["id"], "employer": e, "union": union,
                                          "delegates": [p.member_id for p in delegates]})
        year.count("congresses founded")
        year.count("delegates elected", len(delegates))


async def sessions(year: Year) -> None:
    """March: the sessions (two thirds present), resolutions, 民主评议, proposals; 厂务公开."""
    today = year.clock.today()
    for i, c in enumerate(year.rights["congresses"]):
        staff = year.token("staff", c["employer"].org_id)
        n = len(c["delegates"])
        present = math.ceil(n * 0.8)
        r = await year.call("membership", "POST", f"/congresses/{c['id']}/sessions", token=staff,
                            key=f"year-session-{c['id']}", json={
                                "held_on": today.isoformat(), "present": present,
                                "resolutions": [{"title": "年度工资调整方案", "in_favour": n // 2 + 1}],
                                "evaluation": {"managers_evaluated": 3, "satisfied": present - 2,
                                               "basically_satisfied": 1, "dissatisfied": 1}})
        if not r.json()["held"]:
            raise YearFailed(f"congress {c['id']}: a session with {present} of {n} was not held")
        for k, member_id in enumerate(c["delegates"][:2]):
            p = await year.call("membership", "POST", f"/congresses/{c['id']}/proposals", token=staff,
                                key=f"year-congress-proposal-{c['id']}-{k}", json={
                                    "member_id": member_id, "title": ["改善夜班职工就餐条件", "增设职工书屋"][k],
                                    "content": "建议单位研究解决。"})
            year.rights["proposals"].append((p.json()["id"], c["employer"].org_id))
            year.count("delegate proposals")
        e = c["employer"]
        await year.call("membership", "PUT", f"/employers/{e.id}/openness", token=staff, json={
            "established_on": today.isoformat(), "items": ["wages", "safety"]})
        await year.call("membership", "POST", f"/employers/{e.id}/openness/publications", token=staff, json={},
                        key=f"year-openness-{e.id}")
        if i % 2 == 0:
            await year.call("membership", "POST", "/mediation-committees", token=staff, key=f"year-mediation-{e.id}",
                            json={"employer_id": e.id, "established_on": today.isoformat(), "members_count": 5,
                                  "chair_name": "李调解"})
            year.count("mediation committees")
        year.count("sessions held")


async def answers(year: Year) -> None:
    """April: the delegates' proposals answered, but one in five (overdue in May)."""
    for i, (proposal_id, union_id) in enumerate(year.rights["proposals"]):
        if i % 5 == 4:
            continue
        await year.call("membership", "POST", f"/congress-proposals/{proposal_id}/answer",
                        token=year.token("staff", union_id), json={"outcome": "adopted", "answer": "已纳入年度工作计划。"})
        year.count("proposals answered")


async def offers(year: Year) -> None:
    """April: the union's written offer of wage bargaining; the employer side's contact told."""
    today = year.clock.today()
    covered = _covered(year)
    for i, e in enumerate(covered[::2]):
        staff = year.token("staff", e.org_id)
        await year.call("membership", "PUT", f"/employers/{e.id}/contact", token=staff,
                        json={"contact_name": "王人事", "email": f"hr-{e.id[:8]}@employer.unionops.cn"})
        c = (await year.call("membership", "POST", "/collective-contracts", token=staff, key=f"year-contract-{e.id}",
                             json={"org_id": e.union_id, "title": f"{year.year}年工资专项集体合同", "kind": "wage",
                                   "coverage": "enterprise", "employer_ids": [e.id]})).json()
        offer = (await year.call("membership", "POST", f"/collective-contracts/{c['id']}/offers", token=staff,
                                 key=f"year-offer-{c['id']}", trace=("membership", "notify") if i == 0 else None,
                                 json={"offered_by": "union", "sent_on": today.isoformat(),
                                       "received_on": today.isoformat()})).json()
        year.rights["contracts"].append({"id": c["id"], "offer": offer["id"], "employer": e, "answered": i % 10 != 9})
        year.count("offers")


async def negotiations(year: Year) -> None:
    """Within the 20 days: answers, a session, the workers' vote, signing, the review's start."""
    today = year.clock.today()
    for c in year.rights["contracts"]:
        if not c["answered"]:
            continue
        e = c["employer"]
        staff = year.token("staff", e.org_id)
        base = f"/collective-contracts/{c['id']}"
        await year.call("membership", "POST", f"{base}/offers/{c['offer']}/answer", token=staff,
                        json={"answer": "accepted", "answered_on": today.isoformat()})
        await year.call("membership", "POST", f"{base}/sessions", token=staff, key=f"year-bargaining-{c['id']}",
                        json={"held_on": today.isoformat(), "summary": "双方就工资调整幅度达成一致"})
        electorate = max(3, e.headcount)
        await year.call("membership", "POST", f"{base}/vote", token=staff, json={
            "body": "all_workers", "voted_on": today.isoformat(), "electorate": electorate,
            "present": math.ceil(electorate * 0.85), "in_favour": math.ceil(electorate * 0.7)})
        await year.call("membership", "POST", f"{base}/signing", token=staff, json={
            "signed_on": today.isoformat(), "union_representative": "李协商", "employer_representative": "王厂长",
            "starts_on": today.isoformat(),
            "ends_on": (date(year.year + 2, today.month, today.day) - timedelta(days=1)).isoformat()})
        await year.call("membership", "POST", f"{base}/submission", token=staff,
                        json={"received_on": today.isoformat()})
        year.count("contracts signed")


async def publications(year: Year) -> None:
    """After the 15 days of review: in force, and published to the workers."""
    today = year.clock.today()
    for c in year.rights["contracts"]:
        if c["answered"]:
            await year.call("membership", "POST", f"/collective-contracts/{c['id']}/publication",
                            token=year.token("staff", c["employer"].org_id), json={"published_on": today.isoformat()})
            year.count("contracts published")
    figures = await year.get("membership", f"/rights/coverage/{year.city.root_id}", params={"year": year.year})
    year.count("rates read", len(figures.get("rates", figures)) if isinstance(figures, dict) else 1)


STEPS = [Step(1, 12, "维权目标与维权干部", targets_and_officers), Step(2, 20, "职代会换届选举代表", congresses),
         Step(3, 10, "职代会召开、厂务公开", sessions), Step(4, 6, "工资集体协商要约", offers),
         Step(4, 20, "提案答复", answers), Step(4, 22, "协商、表决、签订与报送", negotiations),
         Step(5, 12, "集体合同生效公布", publications)]
