"""Commendations: 安康杯 checklists, nomination batches with quotas, and the awards granted.

安康杯 (safety contest): an organiser sets a checklist for a year (items with full marks summing to
ANKANG_FULL_MARKS, and the year's threshold, 90–95 by default); its staff score each unit of the
subtree item by item, once per item; a unit is granted the title when every item is scored, the
total reaches the threshold, and it has not won the title within the last five years (the refusal
names the year it last won). A per-unit transaction lock makes two grants racing for one unit
see each other.

Nominations (五一劳动奖章 / 五一劳动奖状 / 工人先锋号 / 劳模): a unit gathers a batch per award and
year; individual awards nominate members (gender and the migrant flag from the members
projection, front-line worker and unit head entered by staff), collective awards nominate a unit
or a team in it. A batch is submitted only when every quota of its award holds (shares with
`min`/`max` percentages, configurable per award); the refusal lists each failing quota with its
numbers. Granting a submitted batch stages one AwardGranted per nominee.

Rows name units by id; scope is read from org_units, whose paths follow UnionMoved.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable, Mapping

import asyncpg
from opentelemetry import trace

from competitions.domain import UNKNOWN_MEMBER, UNKNOWN_UNIT, format_points, to_centipoints
from contracts.events import AwardGranted
from unionops import outbox
from unionops.auth import Principal
from unionops.problems import Problem, RuleViolation

ANKANG_AWARD = "ankang_cup"
ANKANG_TITLE = "安康杯竞赛优胜单位"

# award -> (title, whether nominees are members; else units or teams)
AWARDS: dict[str, tuple[str, bool]] = {
    "may_day_medal": ("五一劳动奖章", True),
    "may_day_certificate": ("五一劳动奖状", False),
    "worker_pioneer": ("工人先锋号", False),
    "model_worker": ("劳动模范", True),
}

QUOTA_ATTRIBUTES: dict[str, str] = {
    "front_line": "一线职工（产业工人）",
    "migrant_worker": "农民工",
    "unit_head": "单位负责人",
    "woman": "女性",
}

# Shares published practice asks of a nomination list; a city sets its own per award
# (COMPETITIONS_NOMINATION_QUOTAS). Collectives: the share of front-line (基层一线) collectives.
_INDIVIDUAL_QUOTAS = {"front_line": {"min": 35}, "migrant_worker": {"min": 10}, "unit_head": {"max": 15},
                      "woman": {"min": 20}}
DEFAULT_QUOTAS: dict[str, dict[str, dict[str, int]]] = {
    "may_day_medal": _INDIVIDUAL_QUOTAS,
    "model_worker": _INDIVIDUAL_QUOTAS,
    "may_day_certificate": {"front_line": {"min": 35}},
    "worker_pioneer": {"front_line": {"min": 35}},
}

NOT_FOUND_CHECKLIST = "安康杯评分表不存在或不在您的管辖范围内"
NOT_FOUND_BATCH = "推荐名单不存在或不在您的管辖范围内"


# ---- rules (no I/O) ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChecklistItem:
    code: str
    title: str
    max_centipoints: int


def check_threshold(threshold_cp: int, *, min_points: int, max_points: int) -> None:
    """The year's pass mark lies within the federation's range (90–95 points by default)."""
    if not min_points * 100 <= threshold_cp <= max_points * 100:
        raise RuleViolation(f"安康杯达标分数线须在 {min_points}–{max_points} 分之间", field="threshold",
                            kind="ankang-threshold")


def check_checklist(items: list[ChecklistItem], *, full_marks_points: int) -> None:
    """Items have distinct codes and their full marks add up to the checklist's full marks, so the
    threshold means the same every year."""
    if not items:
        raise RuleViolation("评分表至少须有一个检查项目", field="items")
    codes = [i.code for i in items]
    if len(set(codes)) != len(codes):
        raise RuleViolation("检查项目编号不能重复", field="items", kind="duplicate-item")
    total = sum(i.max_centipoints for i in items)
    if total != full_marks_points * 100:
        raise RuleViolation(f"检查项目满分合计须为 {full_marks_points} 分（现为 {format_points(total)} 分）",
                            field="items", kind="checklist-total")


def ankang_total(items: Iterable[ChecklistItem], scores: Mapping[str, int], threshold_cp: int) -> int:
    """The unit's total once every item is scored and the total reaches the threshold."""
    missing = [i.title for i in items if i.code not in scores]
    if missing:
        raise RuleViolation(f"尚有检查项目未评分：{'、'.join(missing)}", kind="ankang-incomplete")
    total = sum(scores.values())
    if total < threshold_cp:
        raise RuleViolation(f"总分 {format_points(total)} 分未达到安康杯达标分数线 {format_points(threshold_cp)} 分",
                            kind="ankang-below-threshold")
    return total


def check_no_repeat(year: int, years_won: Iterable[int], *, no_repeat_years: int) -> None:
    """A unit cannot win the title again within `no_repeat_years` years of its last win: won in
    2021, it may win again from 2026 (five years later), not in 2022–2025; nor twice a year."""
    blocking = [y for y in years_won if abs(year - y) < no_repeat_years]
    if blocking:
        last = max(blocking)
        raise RuleViolation(f"该单位已于 {last} 年获得安康杯称号，{no_repeat_years} 年内不得重复获得",
                            field="unit_id", status=409, kind="ankang-repeat")


@dataclass(frozen=True)
class NomineeAttributes:
    front_line: bool
    migrant_worker: bool
    unit_head: bool
    woman: bool


@dataclass(frozen=True)
class QuotaCheck:
    attribute: str
    bound: str          # "min" or "max"
    percent: int
    count: int
    total: int

    @property
    def holds(self) -> bool:
        # Exact integer comparison: 7 of 20 is 35 %, and 35 % holds a "≥ 35 %" quota.
        if self.bound == "min":
            return self.count * 100 >= self.percent * self.total
        return self.count * 100 <= self.percent * self.total

    @property
    def share(self) -> str:
        return f"{Decimal(self.count * 100) / self.total:.1f}%" if self.total else "0.0%"

    def describe(self) -> str:
        sign = "≥" if self.bound == "min" else "≤"
        return (f"{QUOTA_ATTRIBUTES[self.attribute]} {self.count}/{self.total} = {self.share}，"
                f"须 {sign} {self.percent}%")

    def as_dict(self) -> dict:
        return {"attribute": self.attribute, "label": QUOTA_ATTRIBUTES[self.attribute], "bound": self.bound,
                "percent": self.percent, "count": self.count, "total": self.total, "share": self.share,
                "holds": self.holds}


def check_quota_config(quotas: Mapping[str, Mapping[str, int]]) -> None:
    for attribute, rule in quotas.items():
        if attribute not in QUOTA_ATTRIBUTES or len(rule) != 1 or next(iter(rule)) not in ("min", "max") \
                or not 0 <= next(iter(rule.values())) <= 100:
            raise ValueError(f"bad nomination quota {attribute}: {dict(rule)}")


def quota_report(nominees: list[NomineeAttributes], quotas: Mapping[str, Mapping[str, int]]) -> list[QuotaCheck]:
    """Each quota of the award against the list as it stands."""
    checks = []
    for attribute, rule in quotas.items():
        [(bound, percent)] = rule.items()
        count = sum(1 for n in nominees if getattr(n, attribute))
        checks.append(QuotaCheck(attribute, bound, percent, count, len(nominees)))
    return checks


class QuotasNotMet(RuleViolation):
    """The list breaks one or more quotas: the problem names each with its numbers."""

    def __init__(self, failing: list[QuotaCheck]) -> None:
        super().__init__("推荐名单未满足比例要求：" + "；".join(c.describe() for c in failing), status=422,
                         kind="nomination-quota")
        self.failing = failing

    def to_problem(self) -> Problem:
        return Problem(self.status, self.message, type_=f"/problems/{self.kind}",
                       quotas=[c.as_dict() for c in self.failing])


def check_quotas(nominees: list[NomineeAttributes], quotas: Mapping[str, Mapping[str, int]]) -> list[QuotaCheck]:
    """A batch may be submitted only when it is not empty and every quota holds."""
    if not nominees:
        raise RuleViolation("推荐名单为空，不能上报", kind="nomination-empty")
    report = quota_report(nominees, quotas)
    failing = [c for c in report if not c.holds]
    if failing:
        raise QuotasNotMet(failing)
    return report


def quotas_for(award: str, configured: Mapping[str, Mapping[str, Mapping[str, int]]]) -> dict:
    quotas = dict(configured.get(award, DEFAULT_QUOTAS[award]))
    check_quota_config(quotas)
    return quotas


# ---- commands and reads (inside the caller's transaction) ------------------------------------------

async def unit_row(conn: asyncpg.Connection, org_id: uuid.UUID, *, field: str,
                   actor: Principal | None = None) -> asyncpg.Record:
    """The unit; with `actor`, one outside the caller's subtree is refused exactly as unknown."""
    row = await conn.fetchrow("SELECT org_id, org_path, name FROM org_units WHERE org_id = $1", org_id)
    if row is None or (actor is not None and not actor.covers(row["org_path"])):
        raise RuleViolation(UNKNOWN_UNIT, field=field, kind="unknown-unit")
    return row


def _span(**attributes) -> None:
    span = trace.get_current_span()
    for k, v in attributes.items():
        span.set_attribute(k, str(v))


async def _stage_award(conn: asyncpg.Connection, *, award: str, title: str, year: int, org_id: uuid.UUID,
                       union_id: uuid.UUID, member_id: uuid.UUID | None, org_path: list[uuid.UUID], granted_on: date,
                       actor: Principal, checklist_id: uuid.UUID | None = None, batch_id: uuid.UUID | None = None,
                       total_cp: int | None = None) -> uuid.UUID:
    award_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO awards (id, award, title, year, union_id, member_id, org_id, checklist_id, batch_id,"
        " total_centipoints, granted_on, granted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        award_id, award, title, year, union_id, member_id, org_id, checklist_id, batch_id, total_cp, granted_on,
        actor.subject)
    await outbox.record(conn, AwardGranted(award_id=award_id, title=title, year=year, union_id=union_id,
                                           member_id=member_id, org_path=org_path, granted_on=granted_on))
    return award_id


# 安康杯 ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CreateChecklist:
    org_id: uuid.UUID
    year: int
    threshold: Decimal
    items: list[tuple[str, str, Decimal]]   # code, title, full marks


async def create_checklist(conn: asyncpg.Connection, cmd: CreateChecklist, actor: Principal, settings) -> dict:
    actor.require("write")
    threshold_cp = to_centipoints(cmd.threshold, field="threshold")
    check_threshold(threshold_cp, min_points=settings.ankang_threshold_min_points,
                    max_points=settings.ankang_threshold_max_points)
    items = [ChecklistItem(code, title, to_centipoints(points, field="items")) for code, title, points in cmd.items]
    if any(i.max_centipoints <= 0 for i in items):
        raise RuleViolation("检查项目满分须大于0", field="items")
    check_checklist(items, full_marks_points=settings.ankang_full_marks_points)
    unit = await unit_row(conn, cmd.org_id, field="org_id", actor=actor)
    checklist_id = uuid.uuid4()
    inserted = await conn.fetchval(
        "INSERT INTO ankang_checklists (id, org_id, year, threshold_centipoints, created_by)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, year) DO NOTHING RETURNING 1",
        checklist_id, unit["org_id"], cmd.year, threshold_cp, actor.subject)
    if inserted is None:
        raise RuleViolation(f"该单位 {cmd.year} 年的安康杯评分表已存在", field="year", status=409,
                            kind="checklist-exists")
    await conn.executemany(
        "INSERT INTO ankang_checklist_items (checklist_id, code, title, max_centipoints, position)"
        " VALUES ($1, $2, $3, $4, $5)",
        [(checklist_id, i.code, i.title, i.max_centipoints, n) for n, i in enumerate(items)])
    _span(**{"ankang.checklist_id": checklist_id})
    return await checklist_view(conn, checklist_id, actor)


async def _checklist(conn: asyncpg.Connection, checklist_id: uuid.UUID, actor: Principal) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT c.*, o.org_path, o.name AS org_name FROM ankang_checklists c JOIN org_units o ON o.org_id = c.org_id"
        " WHERE c.id = $1", checklist_id)
    if row is None or not actor.covers(row["org_path"]):
        raise Problem(404, NOT_FOUND_CHECKLIST)
    return row


async def _items(conn: asyncpg.Connection, checklist_id: uuid.UUID) -> list[ChecklistItem]:
    rows = await conn.fetch("SELECT code, title, max_centipoints FROM ankang_checklist_items WHERE checklist_id = $1"
                            " ORDER BY position", checklist_id)
    return [ChecklistItem(r["code"], r["title"], r["max_centipoints"]) for r in rows]


async def checklist_view(conn: asyncpg.Connection, checklist_id: uuid.UUID, actor: Principal) -> dict:
    c = await _checklist(conn, checklist_id, actor)
    return {"id": c["id"], "org_id": c["org_id"], "org_name": c["org_name"], "year": c["year"],
            "threshold": format_points(c["threshold_centipoints"]),
            "items": [{"code": i.code, "title": i.title, "max_points": format_points(i.max_centipoints)}
                      for i in await _items(conn, checklist_id)],
            "created_by": c["created_by"], "created_at": c["created_at"]}


async def _scored_unit(conn: asyncpg.Connection, checklist: asyncpg.Record, unit_id: uuid.UUID) -> asyncpg.Record:
    """A unit below the organiser: the organiser scores its units, not itself."""
    unit = await unit_row(conn, unit_id, field="unit_id")
    if checklist["org_id"] not in unit["org_path"] or unit["org_id"] == checklist["org_id"]:
        raise RuleViolation("该单位不在本安康杯主办单位的下属范围内", field="unit_id", kind="not-eligible")
    return unit


async def score_unit(conn: asyncpg.Connection, checklist_id: uuid.UUID, unit_id: uuid.UUID,
                     scores: list[tuple[str, Decimal]], actor: Principal) -> dict:
    """The organiser's staff score items of a unit; each item once (a correction is a new year's
    question for the organiser, not an overwrite)."""
    actor.require("write")
    c = await _checklist(conn, checklist_id, actor)
    await _scored_unit(conn, c, unit_id)
    items = {i.code: i for i in await _items(conn, checklist_id)}
    codes = [code for code, _ in scores]
    if len(set(codes)) != len(codes):
        raise RuleViolation("同一检查项目不能重复评分", field="scores", kind="duplicate-item")
    rows = []
    for n, (code, points) in enumerate(scores):
        item = items.get(code)
        if item is None:
            raise RuleViolation(f"评分表无检查项目 {code}", field=f"scores.{n}.item", kind="unknown-item")
        cp = to_centipoints(points, field=f"scores.{n}.points")
        if not 0 <= cp <= item.max_centipoints:
            raise RuleViolation(f"“{item.title}”得分须在0到{format_points(item.max_centipoints)}分之间",
                                field=f"scores.{n}.points", kind="score-out-of-range")
        rows.append((checklist_id, unit_id, code, cp, actor.subject))
    inserted = await conn.fetch(
        "INSERT INTO ankang_scores (checklist_id, unit_id, item_code, score_centipoints, scored_by)"
        " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[])"
        " ON CONFLICT DO NOTHING RETURNING item_code",
        *map(list, zip(*rows)))
    if len(inserted) != len(rows):
        done = sorted(set(codes) - {r["item_code"] for r in inserted})
        raise RuleViolation(f"检查项目已评分：{'、'.join(items[c].title for c in done)}", field="scores",
                            status=409, kind="already-scored")
    return await unit_sheet(conn, checklist_id, unit_id, actor)


async def unit_sheet(conn: asyncpg.Connection, checklist_id: uuid.UUID, unit_id: uuid.UUID, actor: Principal) -> dict:
    """A unit's scoring sheet: item scores with who scored, the total, what is missing, and
    whether it reaches the threshold."""
    c = await _checklist(conn, checklist_id, actor)
    unit = await _scored_unit(conn, c, unit_id)
    items = await _items(conn, checklist_id)
    rows = {r["item_code"]: r for r in await conn.fetch(
        "SELECT item_code, score_centipoints, scored_by, scored_at FROM ankang_scores"
        " WHERE checklist_id = $1 AND unit_id = $2", checklist_id, unit_id)}
    total = sum(r["score_centipoints"] for r in rows.values())
    award = await conn.fetchrow("SELECT id, granted_on FROM awards WHERE checklist_id = $1 AND union_id = $2",
                                checklist_id, unit_id)
    return {
        "checklist_id": checklist_id, "unit_id": unit_id, "unit_name": unit["name"], "year": c["year"],
        "items": [{"code": i.code, "title": i.title, "max_points": format_points(i.max_centipoints),
                   "points": format_points(rows[i.code]["score_centipoints"]) if i.code in rows else None,
                   "scored_by": rows[i.code]["scored_by"] if i.code in rows else None,
                   "scored_at": rows[i.code]["scored_at"] if i.code in rows else None} for i in items],
        "total": format_points(total), "threshold": format_points(c["threshold_centipoints"]),
        "missing": [i.code for i in items if i.code not in rows],
        "reaches_threshold": len(rows) == len(items) and total >= c["threshold_centipoints"],
        "award_id": award["id"] if award else None,
    }


async def grant_ankang(conn: asyncpg.Connection, checklist_id: uuid.UUID, unit_id: uuid.UUID, actor: Principal, *,
                       today: date, no_repeat_years: int) -> dict:
    actor.require("write")
    c = await _checklist(conn, checklist_id, actor)
    unit = await _scored_unit(conn, c, unit_id)
    # Two grants for one unit (two organisers, or a retry) must see each other's award.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('ankang:' || $1::text))", str(unit_id))
    scores = {r["item_code"]: r["score_centipoints"] for r in await conn.fetch(
        "SELECT item_code, score_centipoints FROM ankang_scores WHERE checklist_id = $1 AND unit_id = $2",
        checklist_id, unit_id)}
    total = ankang_total(await _items(conn, checklist_id), scores, c["threshold_centipoints"])
    years_won = [r["year"] for r in await conn.fetch(
        "SELECT year FROM awards WHERE award = $1 AND union_id = $2", ANKANG_AWARD, unit_id)]
    check_no_repeat(c["year"], years_won, no_repeat_years=no_repeat_years)
    award_id = await _stage_award(conn, award=ANKANG_AWARD, title=ANKANG_TITLE, year=c["year"], org_id=c["org_id"],
                                  union_id=unit_id, member_id=None, org_path=list(unit["org_path"]),
                                  granted_on=today, actor=actor, checklist_id=checklist_id, total_cp=total)
    _span(**{"award.id": award_id, "org.id": unit_id})
    return await award_view(conn, award_id)


# nominations --------------------------------------------------------------------------------------

async def award_view(conn: asyncpg.Connection, award_id: uuid.UUID) -> dict:
    r = await conn.fetchrow(
        "SELECT a.*, u.name AS union_name, m.name AS member_name FROM awards a"
        " LEFT JOIN org_units u ON u.org_id = a.union_id LEFT JOIN members m ON m.member_id = a.member_id"
        " WHERE a.id = $1", award_id)
    return _award_dict(r)


def _award_dict(r: asyncpg.Record) -> dict:
    return {"id": r["id"], "award": r["award"], "title": r["title"], "year": r["year"], "union_id": r["union_id"],
            "union_name": r["union_name"], "member_id": r["member_id"], "member_name": r["member_name"],
            "org_id": r["org_id"], "checklist_id": r["checklist_id"], "batch_id": r["batch_id"],
            "total": format_points(r["total_centipoints"]) if r["total_centipoints"] is not None else None,
            "granted_on": r["granted_on"], "granted_by": r["granted_by"], "granted_at": r["granted_at"]}


async def list_awards(conn: asyncpg.Connection | asyncpg.Pool, actor: Principal, *, year: int | None,
                      award: str | None, limit: int) -> list[dict]:
    """Awards to units or members of the caller's subtree."""
    rows = await conn.fetch(
        "SELECT a.*, u.name AS union_name, m.name AS member_name FROM awards a"
        " JOIN org_units u ON u.org_id = a.union_id LEFT JOIN members m ON m.member_id = a.member_id"
        " WHERE $1 = ANY(u.org_path) AND ($2::int IS NULL OR a.year = $2) AND ($3::text IS NULL OR a.award = $3)"
        " ORDER BY a.year DESC, a.granted_at DESC, a.id LIMIT $4", actor.org_id, year, award, limit)
    return [_award_dict(r) for r in rows]


async def create_batch(conn: asyncpg.Connection, org_id: uuid.UUID, award: str, year: int, actor: Principal) -> dict:
    actor.require("write")
    if award not in AWARDS:
        raise RuleViolation(f"奖项须为 {'、'.join(t for t, _ in AWARDS.values())} 之一", field="award")
    unit = await unit_row(conn, org_id, field="org_id", actor=actor)
    batch_id = uuid.uuid4()
    inserted = await conn.fetchval(
        "INSERT INTO nomination_batches (id, org_id, award, year, created_by) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (org_id, award, year) DO NOTHING RETURNING 1", batch_id, org_id, award, year, actor.subject)
    if inserted is None:
        raise RuleViolation(f"该单位 {year} 年的{AWARDS[award][0]}推荐名单已存在", field="year", status=409,
                            kind="batch-exists")
    _span(**{"nomination.batch_id": batch_id})
    return batch_id


async def _batch(conn: asyncpg.Connection, batch_id: uuid.UUID, actor: Principal, *, lock: bool = False):
    row = await conn.fetchrow(
        "SELECT b.*, o.org_path, o.name AS org_name FROM nomination_batches b JOIN org_units o ON o.org_id = b.org_id"
        f" WHERE b.id = $1{' FOR UPDATE OF b' if lock else ''}", batch_id)
    if row is None or not actor.covers(row["org_path"]):
        raise Problem(404, NOT_FOUND_BATCH)
    return row


def _draft(batch: asyncpg.Record) -> None:
    if batch["status"] != "draft":
        raise RuleViolation("推荐名单已上报，不能再修改", status=409, kind="batch-submitted")


@dataclass(frozen=True)
class Nominate:
    member_id: uuid.UUID | None
    union_id: uuid.UUID | None
    team_name: str | None
    front_line: bool
    unit_head: bool


async def add_nominee(conn: asyncpg.Connection, batch_id: uuid.UUID, cmd: Nominate, actor: Principal) -> dict:
    """Individual awards nominate a member of the organiser's subtree; collective ones a unit of
    it (or a team in that unit, by name)."""
    actor.require("write")
    b = await _batch(conn, batch_id, actor, lock=True)
    _draft(b)
    individual = AWARDS[b["award"]][1]
    if individual:
        if cmd.member_id is None:
            raise RuleViolation(f"{AWARDS[b['award']][0]}推荐对象须为会员", field="member_id")
        m = await conn.fetchrow("SELECT member_id, union_id, org_path, name, gender, is_migrant_worker FROM members"
                                " WHERE member_id = $1", cmd.member_id)
        if m is None:
            raise RuleViolation(UNKNOWN_MEMBER, field="member_id", kind="unknown-member")
        path, union_id, name = m["org_path"], m["union_id"], m["name"]
        gender, migrant, unit_head = m["gender"], m["is_migrant_worker"], cmd.unit_head
    else:
        if cmd.union_id is None or cmd.member_id is not None:
            raise RuleViolation(f"{AWARDS[b['award']][0]}推荐对象须为单位或班组（union_id）", field="union_id")
        unit = await unit_row(conn, cmd.union_id, field="union_id")
        path, union_id, name = unit["org_path"], unit["org_id"], cmd.team_name or unit["name"]
        gender, migrant, unit_head = None, False, False
    if b["org_id"] not in path:  # outside the nominating unit's subtree: exactly as unknown
        if individual:
            raise RuleViolation(UNKNOWN_MEMBER, field="member_id", kind="unknown-member")
        raise RuleViolation(UNKNOWN_UNIT, field="union_id", kind="unknown-unit")
    nominee_id = uuid.uuid4()
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO nominees (id, batch_id, award, year, member_id, union_id, name, gender, migrant_worker,"
                " front_line, unit_head, nominated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                nominee_id, batch_id, b["award"], b["year"], cmd.member_id if individual else None, union_id, name,
                gender, migrant, cmd.front_line, unit_head, actor.subject)
    except asyncpg.UniqueViolationError:
        raise RuleViolation(f"该推荐对象已被推荐 {b['year']} 年{AWARDS[b['award']][0]}", status=409,
                            field="member_id" if individual else "union_id", kind="already-nominated") from None
    return await nominee_view(conn, nominee_id)


async def nominee_view(conn: asyncpg.Connection, nominee_id: uuid.UUID) -> dict:
    return _nominee_dict(await conn.fetchrow("SELECT * FROM nominees WHERE id = $1", nominee_id))


def _nominee_dict(r: asyncpg.Record) -> dict:
    return {k: r[k] for k in ("id", "batch_id", "member_id", "union_id", "name", "gender", "migrant_worker",
                              "front_line", "unit_head", "nominated_by", "nominated_at")}


async def remove_nominee(conn: asyncpg.Connection, batch_id: uuid.UUID, nominee_id: uuid.UUID,
                         actor: Principal) -> None:
    actor.require("write")
    _draft(await _batch(conn, batch_id, actor, lock=True))
    if await conn.fetchval("DELETE FROM nominees WHERE id = $1 AND batch_id = $2 RETURNING 1", nominee_id,
                           batch_id) is None:
        raise Problem(404, "推荐名单中无此推荐对象")


def _attributes(rows) -> list[NomineeAttributes]:
    return [NomineeAttributes(r["front_line"], r["migrant_worker"], r["unit_head"], r["gender"] == "female")
            for r in rows]


async def batch_view(conn: asyncpg.Connection, batch_id: uuid.UUID, actor: Principal, configured_quotas) -> dict:
    """The batch, its nominees, and each quota against the list (the quotas it was submitted
    under, once submitted)."""
    b = await _batch(conn, batch_id, actor)
    rows = await conn.fetch("SELECT * FROM nominees WHERE batch_id = $1 ORDER BY nominated_at, id", batch_id)
    nominees = [_nominee_dict(r) for r in rows]
    quotas = b["quotas"] if b["quotas"] is not None else quotas_for(b["award"], configured_quotas)
    report = quota_report(_attributes(nominees), quotas)
    return {"id": b["id"], "org_id": b["org_id"], "org_name": b["org_name"], "award": b["award"],
            "title": AWARDS[b["award"]][0], "year": b["year"], "status": b["status"],
            "created_by": b["created_by"], "created_at": b["created_at"], "submitted_by": b["submitted_by"],
            "submitted_at": b["submitted_at"], "granted_by": b["granted_by"], "granted_at": b["granted_at"],
            "nominees": nominees, "quotas": [c.as_dict() for c in report],
            "quotas_hold": bool(nominees) and all(c.holds for c in report)}


async def submit_batch(conn: asyncpg.Connection, batch_id: uuid.UUID, actor: Principal, configured_quotas) -> dict:
    """上报: only a list that meets every quota; the quotas in force are kept with it."""
    actor.require("write")
    b = await _batch(conn, batch_id, actor, lock=True)
    _draft(b)
    quotas = quotas_for(b["award"], configured_quotas)
    check_quotas(_attributes(await conn.fetch("SELECT * FROM nominees WHERE batch_id = $1", batch_id)), quotas)
    await conn.execute("UPDATE nomination_batches SET status = 'submitted', quotas = $2, submitted_by = $3,"
                       " submitted_at = now() WHERE id = $1", batch_id, quotas, actor.subject)
    return await batch_view(conn, batch_id, actor, configured_quotas)


async def grant_batch(conn: asyncpg.Connection, batch_id: uuid.UUID, actor: Principal, *, today: date,
                      configured_quotas) -> dict:
    """授予: every nominee of a submitted list gets the title; one AwardGranted each."""
    actor.require("write")
    b = await _batch(conn, batch_id, actor, lock=True)
    if b["status"] != "submitted":
        raise RuleViolation("推荐名单须先上报（满足比例要求）方可授予" if b["status"] == "draft" else "该推荐名单已授予",
                            status=409, kind="batch-not-submitted" if b["status"] == "draft" else "batch-granted")
    title = AWARDS[b["award"]][0]
    # The award goes to the union named at nomination (for a member, their union then), with
    # that union's current path.
    rows = await conn.fetch(
        "SELECT n.*, u.org_path AS path, u.name AS unit_name FROM nominees n"
        " LEFT JOIN org_units u ON u.org_id = n.union_id WHERE n.batch_id = $1 ORDER BY n.nominated_at, n.id",
        batch_id)
    for r in rows:
        if r["path"] is None:
            raise RuleViolation(f"推荐对象 {r['name']} 所在单位尚未同步", status=409, kind="unknown-unit")
        team = r["member_id"] is None and r["name"] != r["unit_name"]
        await _stage_award(conn, award=b["award"], title=f"{title}（{r['name']}）" if team else title,
                           year=b["year"], org_id=b["org_id"], union_id=r["union_id"], member_id=r["member_id"],
                           org_path=list(r["path"]), granted_on=today, actor=actor, batch_id=batch_id)
    await conn.execute("UPDATE nomination_batches SET status = 'granted', granted_by = $2, granted_at = now()"
                       " WHERE id = $1", batch_id, actor.subject)
    return await batch_view(conn, batch_id, actor, configured_quotas)
