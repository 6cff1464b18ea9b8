"""The rights-protection rates (维权建制率) of a subtree and their targets: what each measure is
called in the work plans, and how a rate compares with its target. The areas count their own
measures (queries.collective_contracts, queries.congresses); this module only shapes them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# measure → the plans' words. Base and count of each are defined where the area counts them.
MEASURES: dict[str, str] = {
    "collective_contract": "集体合同建制率",
    "wage_bargaining": "工资集体协商建制率",
    "women_special_contract": "女职工权益保护专项集体合同签订率",
    "members_covered": "集体合同覆盖会员比例",
    "congress": "职代会建制率",
    "openness": "厂务公开民主管理制度建制率",
    "mediation_committee": "劳动争议调解组织组建率",
}


@dataclass(frozen=True)
class Rate:
    """`covered` of `base` (e.g. non-public employers above the size with a contract in force, of
    all such employers of the subtree) on the day the figures are for."""

    measure: str
    covered: int
    base: int

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise ValueError(f"unknown measure {self.measure!r}")


def figures_day(year: int, today: date) -> date:
    """The day a year's rates are counted on: 31 December of a past year, else today (a coming
    year's targets are compared with where the subtree stands now)."""
    return min(date(year, 12, 31), today)


def percent(part: int, whole: int) -> float | None:
    """A share in percent with two decimals; None for an empty base (no employer: no rate)."""
    return round(100 * part / whole, 2) if whole else None


def rate_view(rate: Rate, target_percent: int | None) -> dict:
    share = percent(rate.covered, rate.base)
    return {
        "measure": rate.measure, "label": MEASURES[rate.measure], "covered": rate.covered, "base": rate.base,
        "percent": share, "target_percent": target_percent,
        "target_met": None if target_percent is None or share is None else share >= target_percent,
    }
