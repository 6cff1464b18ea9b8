"""Rules of commendations (no I/O): 安康杯 checklists, nomination batches with quotas, awards.

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

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

from competitions.domain.scoring import format_points, to_centipoints
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


def check_item_scores(items: Mapping[str, ChecklistItem], scores: list[tuple[str, Decimal]]) -> list[tuple[str, int]]:
    """Item scores of one unit's sheet: each item of the checklist at most once, between 0 and
    its full marks; returned as (item code, centipoints)."""
    codes = [code for code, _ in scores]
    if len(set(codes)) != len(codes):
        raise RuleViolation("同一检查项目不能重复评分", field="scores", kind="duplicate-item")
    checked = []
    for n, (code, points) in enumerate(scores):
        item = items.get(code)
        if item is None:
            raise RuleViolation(f"评分表无检查项目 {code}", field=f"scores.{n}.item", kind="unknown-item")
        cp = to_centipoints(points, field=f"scores.{n}.points")
        if not 0 <= cp <= item.max_centipoints:
            raise RuleViolation(f"“{item.title}”得分须在0到{format_points(item.max_centipoints)}分之间",
                                field=f"scores.{n}.points", kind="score-out-of-range")
        checked.append((code, cp))
    return checked


def check_award(award: str) -> None:
    if award not in AWARDS:
        raise RuleViolation(f"奖项须为 {'、'.join(t for t, _ in AWARDS.values())} 之一", field="award")


def nominee_attributes(rows: Iterable[Mapping]) -> list[NomineeAttributes]:
    """What the quotas count, of each nominee of a list."""
    return [NomineeAttributes(r["front_line"], r["migrant_worker"], r["unit_head"], r["gender"] == "female")
            for r in rows]


def check_draft(batch_status: str) -> None:
    """A nomination list changes only until it is submitted."""
    if batch_status != "draft":
        raise RuleViolation("推荐名单已上报，不能再修改", status=409, kind="batch-submitted")
