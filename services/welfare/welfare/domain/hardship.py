"""Rules of hardship files (困难职工建档), free of I/O: the household staff enter, the level of a
household, the yearly re-verification date, the 10-year retention, the waiting period of migrant
workers.

Level (DOMAIN.md, "Rules found in published union practice"):
    monthly per-capita income = (annual household income − unavoidable costs) ÷ 12 ÷ household size
    below the minimum living standard (低保)           → deep     深度困难
    below 2 × 低保                                     → relative 相对困难
    one event's costs > 80 % of annual household income → accident 意外致困
    otherwise the household is not in hardship.
The worse level wins (deep, then relative, then accident), so the level never gets worse as the
income rises. The multiples are settings (percent of 低保, percent of income).

Rounding: the level is decided on the exact quotient, in integers (net × 100 < 低保 × percent ×
12 × size), so a boundary is never moved by rounding. The per-capita figure shown to staff is
rounded down to the fen (floor division).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from unionops.problems import RuleViolation

LEVELS: dict[str, str] = {"deep": "深度困难", "relative": "相对困难", "accident": "意外致困"}

CAUSES: dict[str, str] = {
    "illness": "因病",
    "disability": "因残",
    "single_parent": "单亲",
    "disaster": "因灾",
    "unemployment": "失业",
    "accident": "意外",
    "other": "其他",
}

FILE_KINDS: dict[str, str] = {"worker": "困难职工档案", "model_worker": "困难劳模档案"}

CLOSE_REASONS: dict[str, str] = {
    "out_of_hardship": "已脱困",
    "member_left": "已退会",
    "deceased": "已故",
    "duplicate": "重复建档",
    "other": "其他",
}

NOT_IN_HARDSHIP = "家庭人均月收入不低于低保标准的{relative}%，且无单项支出超过家庭年收入{accident}%的意外事件，不符合困难职工建档条件"


@dataclass(frozen=True)
class HouseholdPerson:
    relation: str           # self, spouse, child, parent, sibling, grandparent, grandchild, other
    name: str
    id_number: str          # validated, normalised resident ID number
    monthly_income_fen: int
    health_note: str | None = None
    disability_note: str | None = None
    employment_note: str | None = None


@dataclass(frozen=True)
class Household:
    """What staff enter when opening or re-verifying a file."""

    people: tuple[HouseholdPerson, ...]
    causes: tuple[str, ...]
    annual_income_fen: int
    unavoidable_costs_fen: int
    largest_event_cost_fen: int = 0

    @property
    def size(self) -> int:
        return len(self.people)


def check_household(household: Household) -> None:
    if not household.people:
        raise RuleViolation("家庭成员不能为空", field="household")
    if sum(1 for p in household.people if p.relation == "self") != 1:
        raise RuleViolation("家庭成员中须有且仅有一位本人（relation = self）", field="household")
    seen: set[str] = set()
    for i, person in enumerate(household.people):
        if person.id_number in seen:
            raise RuleViolation("同一人在家庭成员中出现两次", field=f"household.{i}.id_number")
        seen.add(person.id_number)
    if not household.causes:
        raise RuleViolation("须至少选择一项致困原因", field="causes")


@dataclass(frozen=True)
class Thresholds:
    """Percentages that a city may set differently (settings)."""

    deep_percent_of_minimum: int = 100       # below 1 × 低保: deep
    relative_percent_of_minimum: int = 200   # below 2 × 低保: relative
    accident_percent_of_income: int = 80     # one event's costs above 80 % of annual income: accident


def thresholds(settings) -> Thresholds:
    return Thresholds(settings.hardship_deep_percent_of_minimum, settings.hardship_relative_percent_of_minimum,
                      settings.hardship_accident_percent_of_income)


def not_in_hardship(settings) -> RuleViolation:
    return RuleViolation(NOT_IN_HARDSHIP.format(relative=settings.hardship_relative_percent_of_minimum,
                                                accident=settings.hardship_accident_percent_of_income),
                         field="annual_income_fen", kind="not-in-hardship")


@dataclass(frozen=True)
class Assessment:
    level: str | None                 # None: not in hardship
    per_capita_monthly_fen: int       # rounded down to the fen
    minimum_living_standard_fen: int


def per_capita_monthly_income(annual_income_fen: int, unavoidable_costs_fen: int, household_size: int) -> int:
    """(income − unavoidable costs) ÷ 12 ÷ size, rounded down to the fen (may be negative)."""
    if household_size < 1:
        raise ValueError("household_size must be at least 1")
    return (annual_income_fen - unavoidable_costs_fen) // (12 * household_size)


def hardship_level(*, annual_income_fen: int, unavoidable_costs_fen: int, household_size: int,
                   largest_event_cost_fen: int, minimum_living_standard_fen: int,
                   thresholds: Thresholds = Thresholds()) -> Assessment:
    """The household's level, or None when it is not in hardship. Amounts in integer fen."""
    for name, value in (("annual_income_fen", annual_income_fen), ("unavoidable_costs_fen", unavoidable_costs_fen),
                        ("largest_event_cost_fen", largest_event_cost_fen)):
        if value < 0:
            raise ValueError(f"{name} must not be negative")
    if minimum_living_standard_fen <= 0:
        raise ValueError("minimum_living_standard_fen must be positive")
    net_x100 = (annual_income_fen - unavoidable_costs_fen) * 100
    months = 12 * household_size

    def below(percent: int) -> bool:
        # net / months < 低保 × percent / 100, exactly, in integers
        return net_x100 < minimum_living_standard_fen * percent * months

    if below(thresholds.deep_percent_of_minimum):
        level = "deep"
    elif below(thresholds.relative_percent_of_minimum):
        level = "relative"
    elif largest_event_cost_fen * 100 > annual_income_fen * thresholds.accident_percent_of_income:
        level = "accident"
    else:
        level = None
    return Assessment(level, per_capita_monthly_income(annual_income_fen, unavoidable_costs_fen, household_size),
                      minimum_living_standard_fen)


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the 31st becomes the month's last day (29 Feb → 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def check_can_open_file(member, file_kind: str, *, today: date, min_months: int) -> None:
    """A file is opened for a member welfare knows (a `KnownMember`, None when unknown or out of
    the caller's scope), still a member, of a known kind; a migrant worker after `min_months`."""
    if member is None:
        raise RuleViolation("会员不存在：尚未入会或尚未同步", field="member_id", kind="unknown-member")
    if member.status == "left":
        raise RuleViolation("该会员已退会，不能建档", field="member_id", kind="member-left")
    if file_kind not in FILE_KINDS:
        raise RuleViolation("档案类型须为 worker 或 model_worker", field="file_kind")
    if member.is_migrant_worker and not migrant_worker_qualifies(member.joined_on, today, min_months):
        raise RuleViolation(f"农民工会员入会满{min_months}个月后方可建档", field="member_id",
                            kind="migrant-worker-waiting-period")


def review_due_on(verified_on: date, interval_months: int = 12) -> date:
    """Files are re-verified every year: due one interval after opening or the last review."""
    return add_months(verified_on, interval_months)


def retain_until(closed_on: date, years: int = 10) -> date:
    """Closed files are kept ten years after closing."""
    return add_months(closed_on, 12 * years)


def migrant_worker_qualifies(joined_on: date, today: date, min_months: int) -> bool:
    """A migrant worker qualifies after `min_months` of membership (one city's rule: 12)."""
    return add_months(joined_on, min_months) <= today
