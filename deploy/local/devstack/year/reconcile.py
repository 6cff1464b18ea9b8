"""The city dashboard's figures (built from events only, `citydash`) against the services' own
APIs, at the end of the year. Any difference is an event missing or wrong: one line each.

    lines = await reconcile({"membership": url, "welfare": url, "competitions": url, "notify": url},
                            token, dashboard_url)      # token: a city-root federation_admin JWT

What is compared, and through which endpoint:
- members and grassroots unions per district: membership GET /organisations?parent_id=<root> (the
  districts), GET /coverage/{district} (`members.total`: active + retained; `unions.total`: active
  grassroots), and the city's GET /coverage/{root} against the dashboard's totals;
- aid per campaign: welfare GET /campaigns (paged: paid, paid_count, reversed, reversed_count), and
  the aid paid in all (campaigns and cases, net of reversals) against the sum of `balance.disbursed`
  of welfare GET /funds (paged);
- contest results: competitions GET /contests, GET /contests/{id}/results (revision and placings);
- delivered notifications: notify GET /deliveries?status=delivered (at most 1000 a call, no offset):
  in one call when the city has fewer, else one call per source event the dashboard knows (its
  /deliveries.json), by channel."""
from __future__ import annotations

import asyncio
from collections import Counter

import httpx

PAGE = 500
DELIVERIES_LIMIT = 1000
CONCURRENCY = 8


class _Api:
    def __init__(self, http: httpx.AsyncClient, urls: dict[str, str], token: str) -> None:
        self.http, self.urls = http, urls
        self.headers = {"Authorization": f"Bearer {token}"}

    async def get(self, service: str, path: str, params: dict | None = None, *, missing_ok: bool = False):
        r = await self.http.get(self.urls[service].rstrip("/") + path, params=params, headers=self.headers)
        if missing_ok and r.status_code == 404:
            return None
        if r.status_code != 200:
            raise ReconcileError(f"{service} GET {path} 答复 {r.status_code}: {r.text[:200]}")
        return r.json()

    async def pages(self, service: str, path: str, params: dict | None = None) -> list[dict]:
        items, offset = [], 0
        while True:
            page = await self.get(service, path, {**(params or {}), "limit": PAGE, "offset": offset})
            items += page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return items


class ReconcileError(RuntimeError):
    """A service did not answer as its API says: reported as a difference."""


async def reconcile(urls: dict[str, str], token: str, dashboard_url: str) -> list[str]:
    """One line per difference between the dashboard and the services (empty: reconciled)."""
    async with httpx.AsyncClient(timeout=60) as http:
        r = await http.get(dashboard_url.rstrip("/") + "/figures.json", params={"fresh": "true"})
        r.raise_for_status()
        figures = r.json()
        api = _Api(http, urls, token)
        lines: list[str] = []
        for part in (_members, _aid, _contests, _notifications):
            try:
                lines += await part(api, figures, http, dashboard_url)
            except ReconcileError as exc:
                lines.append(str(exc))
        return lines


async def _members(api: _Api, figures: dict, *_) -> list[str]:
    if "membership" not in api.urls:
        return []
    lines = []
    # The caller's own unit (the city) comes first: units are listed by depth.
    root = (await api.get("membership", "/organisations", {"limit": 1}))[0]
    districts = await api.get("membership", "/organisations", {"parent_id": root["id"], "limit": 1000})
    shown = {d["id"]: d for d in figures["districts"]}
    for district in districts:
        cov = await api.get("membership", f"/coverage/{district['id']}")
        mine = shown.pop(district["id"], {"members": 0, "unions": 0})
        if mine["members"] != cov["members"]["total"]:
            lines.append(f"会员数 {district['name']} ({district['id']}): 看板 {mine['members']}，"
                         f"membership {cov['members']['total']}")
        if mine["unions"] != cov["unions"]["total"]:
            lines.append(f"基层工会数 {district['name']} ({district['id']}): 看板 {mine['unions']}，"
                         f"membership {cov['unions']['total']}")
    # A district membership does not list. (Members of no known district, e.g. held by the city after a
    # district was dissolved, count in the city's total below.)
    for other in shown.values():
        if other["id"] != "unknown" and (other["members"] or other["unions"]):
            lines.append(f"看板有 membership 没有的区 {other['name']} ({other['id']}): "
                         f"会员 {other['members']}，基层工会 {other['unions']}")
    city = await api.get("membership", f"/coverage/{root['id']}")
    t = figures["totals"]
    if (t["members"], t["unions"]) != (city["members"]["total"], city["unions"]["total"]):
        lines.append(f"全市: 看板 会员 {t['members']} 基层工会 {t['unions']}，membership 会员 "
                     f"{city['members']['total']} 基层工会 {city['unions']['total']}")
    return lines


async def _aid(api: _Api, figures: dict, *_) -> list[str]:
    if "welfare" not in api.urls:
        return []
    lines = []
    shown = {c["campaign_id"]: c for c in figures["campaigns"] if c["campaign_id"] is not None}
    for c in await api.pages("welfare", "/campaigns"):
        mine = shown.pop(c["id"], None)
        theirs = (c["paid"]["fen"], c["paid_count"], c["reversed"]["fen"], c["reversed_count"])
        if mine is None:
            if theirs != (0, 0, 0, 0):
                lines.append(f"活动 {c['name']} ({c['id']}): 看板没有，welfare 已发放 {theirs[0]} 分 {theirs[1]} 笔")
            continue
        ours = (mine["paid_fen"], mine["paid_count"], mine["reversed_fen"], mine["reversed_count"])
        if ours != theirs:
            lines.append(f"活动 {c['name']} ({c['id']}): 看板 发放 {ours[0]} 分 {ours[1]} 笔 冲正 {ours[2]} 分 "
                         f"{ours[3]} 笔，welfare 发放 {theirs[0]} 分 {theirs[1]} 笔 冲正 {theirs[2]} 分 {theirs[3]} 笔")
    for mine in shown.values():
        lines.append(f"活动 {mine['name']} ({mine['campaign_id']}): welfare 没有，看板 发放 {mine['paid_fen']} 分")
    disbursed = sum(f["balance"]["disbursed"]["fen"] for f in await api.pages("welfare", "/funds"))
    if disbursed != figures["totals"]["aid_fen"]:
        lines.append(f"帮扶金额合计（扣除冲正）: 看板 {figures['totals']['aid_fen']} 分，welfare 各资金已支出 {disbursed} 分")
    return lines


def _placings(results: dict) -> list[tuple]:
    """(rank, prize, score, entry, team) of every placing; the public sheet has no ids or centipoints."""
    out = []
    for ranking in results.get("rankings", []):
        for p in ranking["placings"]:
            out.append((p["rank"], p.get("prize"), p.get("final_score_centipoints"),
                        p.get("entry_id") and str(p["entry_id"]), p.get("team_id") and str(p["team_id"])))
    return sorted(out, key=repr)


def _published(placings: list[dict], detailed: bool) -> list[tuple]:
    return sorted(((p["rank"], p.get("prize"), p["final_score_centipoints"] if detailed else None,
                    p.get("entry_id") if detailed else None, p.get("team_id") if detailed else None)
                   for p in placings), key=repr)


async def _contests(api: _Api, figures: dict, *_) -> list[str]:
    if "competitions" not in api.urls:
        return []
    lines = []
    shown = {c["contest_id"]: c for c in figures["contests"]}
    for contest in await api.get("competitions", "/contests", {"limit": 1000}):
        results = await api.get("competitions", f"/contests/{contest['id']}/results", missing_ok=True)
        mine = shown.pop(contest["id"], None)
        if results is None:
            if mine is not None:
                lines.append(f"竞赛 {contest['name']} ({contest['id']}): competitions 未公布成绩，看板有第 {mine['revision']} 版")
            continue
        if mine is None:
            lines.append(f"竞赛 {contest['name']} ({contest['id']}): 看板没有已公布的成绩（第 {results['revision']} 版）")
            continue
        if mine["revision"] != results["revision"]:
            lines.append(f"竞赛 {contest['name']} ({contest['id']}): 看板第 {mine['revision']} 版，"
                         f"competitions 第 {results['revision']} 版")
            continue
        theirs = _placings(results)
        detailed = any(p[2] is not None for p in theirs)
        if not detailed:  # the public sheet: ranks and prizes only
            theirs = sorted(((*p[:2], None, None, None) for p in theirs), key=repr)
        if _published(mine["placings"], detailed) != theirs:
            lines.append(f"竞赛 {contest['name']} ({contest['id']}): 第 {mine['revision']} 版名次与 competitions 不同")
    for mine in shown.values():
        lines.append(f"竞赛 {mine['contest_name']} ({mine['contest_id']}): competitions 没有，看板有成绩")
    return lines


async def _notifications(api: _Api, figures: dict, http: httpx.AsyncClient, dashboard_url: str) -> list[str]:
    if "notify" not in api.urls:
        return []
    r = await http.get(dashboard_url.rstrip("/") + "/deliveries.json")
    r.raise_for_status()
    mine: dict[str, dict[str, int]] = r.json()
    everything = await api.get("notify", "/deliveries", {"status": "delivered", "limit": DELIVERIES_LIMIT})
    if len(everything) < DELIVERIES_LIMIT:
        theirs: dict[str, Counter] = {}
        for d in everything:
            theirs.setdefault(str(d["source_event_id"]), Counter())[d["channel"]] += 1
        sources = set(mine) | set(theirs)
    else:  # more than one answer holds: ask per source event the dashboard knows
        sem = asyncio.Semaphore(CONCURRENCY)

        async def of(source: str) -> tuple[str, Counter]:
            async with sem:
                rows = await api.get("notify", "/deliveries", {"status": "delivered", "source_event_id": source,
                                                               "limit": DELIVERIES_LIMIT})
            return source, Counter(d["channel"] for d in rows)
        theirs = dict(await asyncio.gather(*(of(s) for s in mine)))
        sources = set(mine)
    lines = []
    for source in sorted(sources):
        ours, their = Counter(mine.get(source, {})), theirs.get(source, Counter())
        if ours != their:
            lines.append(f"通知送达 源事件 {source}: 看板 {dict(sorted(ours.items()))}，notify {dict(sorted(their.items()))}")
    return lines
