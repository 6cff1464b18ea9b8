"""金秋助学 (education aid for the children of workers in hardship), free of I/O: the student of
an education case, tiered grants by school level, and the public notice (公示) that must run its
working days before anything is paid.

The flow is the case workflow's (welfare.commands.cases): applied at the grassroots union (the
case is opened with its student), assessed there, re-checked by the district
(`district_review`), decided collectively (approval), posted publicly (welfare.commands.golden_autumn),
then paid."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from unionops.problems import RuleViolation
from welfare.domain.money import money
from welfare.domain.working_days import WorkingCalendar

SCHOOL_LEVELS: dict[str, str] = {
    "primary": "小学",
    "junior_high": "初中",
    "senior_high": "普通高中",
    "vocational": "中等职业学校",
    "junior_college": "高职（大专）",
    "undergraduate": "本科",
    "postgraduate": "研究生",
}

# The grant per school level in fen, unless WELFARE_GOLDEN_AUTUMN_TIERS_FEN says otherwise. The
# highest stays within the 金秋助学 campaign's default per-payment cap (¥5,000).
DEFAULT_TIERS_FEN: dict[str, int] = {
    "primary": 100_000,
    "junior_high": 150_000,
    "senior_high": 200_000,
    "vocational": 200_000,
    "junior_college": 300_000,
    "undergraduate": 400_000,
    "postgraduate": 500_000,
}


@dataclass(frozen=True)
class Student:
    name: str
    id_number: str          # validated by the API (GB 11643-1999)
    school_level: str
    aided_by_government: bool = False


def tiers(overrides: dict[str, int] | None = None) -> dict[str, int]:
    merged = DEFAULT_TIERS_FEN | dict(overrides or {})
    unknown = set(merged) - set(SCHOOL_LEVELS)
    if unknown or any(type(v) is not int or v <= 0 for v in merged.values()):
        raise ValueError(f"金秋助学档次配置无效: {sorted(unknown) or merged}")
    return merged


def tier_amount(school_level: str, tier_table: dict[str, int]) -> int:
    if school_level not in tier_table:
        raise RuleViolation(f"学段须为 {'、'.join(SCHOOL_LEVELS.values())} 之一", field="student.school_level")
    return tier_table[school_level]


def check_not_aided_by_government(student: Student) -> None:
    """A student the government already aids (国家助学金等) is not aided twice."""
    if student.aided_by_government:
        raise RuleViolation("该学生已获政府资助，金秋助学不重复资助", field="student.aided_by_government",
                            kind="aided-by-government")


def check_assessed_amount(amount_fen: int | None, tier_fen: int) -> int:
    """The grant is the tier of the student's school level; an assessor cannot pick another."""
    if amount_fen is not None and amount_fen != tier_fen:
        raise RuleViolation(f"金秋助学按学段定额资助：本案应为 {money(tier_fen)['yuan']}", field="proposed_amount_fen",
                            kind="golden-autumn-tier")
    return tier_fen


def notice_period(posted_on: date, calendar: WorkingCalendar, working_days: int) -> tuple[date, date]:
    """(ends_on, payable_from): the notice runs for `working_days` full working days after the
    day it is posted (the posting day does not count: people must be able to read it for the
    whole period); payment is possible from the day after the last one."""
    ends_on = calendar.add(posted_on, working_days)
    return ends_on, ends_on + timedelta(days=1)


def check_notice_over(notice: tuple[date, date] | None, today: date) -> None:
    """(ends_on, payable_from) of the case's notice, or None when it was never posted."""
    if notice is None:
        raise RuleViolation("金秋助学须经公示期满后方可发放：该案件尚未公示", status=409, kind="public-notice")
    ends_on, payable_from = notice
    if today < payable_from:
        raise RuleViolation(f"金秋助学公示期至 {ends_on.isoformat()} 结束，{payable_from.isoformat()} 起方可发放",
                            status=409, kind="public-notice")
