"""Seasonal campaigns (送温暖, 金秋助学, 中秋国庆慰问, 送清凉), free of I/O: the levels a campaign
pays and in which order, why a file is not paid, what a launch must say, and how a budget
short of the need is shared (the office's choice). The run itself is set-based SQL
(welfare.commands.campaigns)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from unionops.problems import Problem, RuleViolation
from welfare.domain.money import check_amount, money, yuan

LEVELS = {"deep": "深度困难", "accident": "意外致困", "relative": "相对困难"}
LEVEL_ORDER = ("deep", "accident", "relative")  # who is paid first when the budget runs short

NOT_PAID_REASONS = {
    "member_unknown": "会员未同步到帮扶系统",
    "member_not_active": "会员非在会状态",
    "review_overdue": "困难档案逾期未复核",
    "no_amount_for_level": "本活动未设该困难等级的标准",
    "person_year_cap_reached": "已达本年度个人限额",
    "budget_exhausted": "活动预算已用完",
    # Paid, but less than the household's amount (the budget's allocation rule):
    "pro_rata_share": "预算不足，按比例少发",
    "household_cap": "按每户上限发放，未足额",
}

# How a budget short of the need is shared; the office chooses one at launch (or at a run).
ALLOCATIONS = {
    "by_level": "按困难等级先后（深度困难、意外致困、相对困难）发放，预算用完为止",
    "pro_rata": "每户按同一比例发放",
    "cap": "每户不超过同一上限",
}

NOT_FOUND = "帮扶活动不存在或不在您的管辖范围内"


@dataclass(frozen=True)
class LaunchCampaign:
    name: str
    kind: str
    org_id: uuid.UUID
    fund_id: uuid.UUID
    budget_fen: int
    level_amounts: dict[str, int]
    starts_on: date
    ends_on: date
    per_payment_cap_fen: int | None = None
    per_person_year_cap_fen: int | None = None
    allocation: str | None = None          # one of ALLOCATIONS; None: the budget must cover everyone
    household_cap_fen: int | None = None   # with allocation "cap"


def check_launch(cmd: LaunchCampaign, *, default_per_payment_fen: int,
                 default_per_person_year_fen: int) -> tuple[int, int]:
    """The period, the budget, the caps (the kind's defaults where none is given) and the amount
    of each level; returns (per-payment cap, per-person-per-year cap)."""
    if cmd.ends_on < cmd.starts_on:
        raise RuleViolation("结束日期不能早于开始日期", field="ends_on", kind="period")
    per_payment = cmd.per_payment_cap_fen or default_per_payment_fen
    per_person = cmd.per_person_year_cap_fen or default_per_person_year_fen
    check_amount(cmd.budget_fen)
    if per_payment > per_person:
        raise RuleViolation("单笔限额不能高于个人年度限额", field="per_payment_cap_fen", kind="caps")
    if not cmd.level_amounts:
        raise RuleViolation("须给出至少一个困难等级的发放标准", field="level_amounts", kind="level-amounts")
    for level, amount in cmd.level_amounts.items():
        if level not in LEVELS:
            raise RuleViolation(f"困难等级须为 {'、'.join(LEVELS)} 之一", field=f"level_amounts.{level}",
                                kind="level-amounts")
        check_amount(amount)
        if amount > per_payment:
            raise RuleViolation(f"{LEVELS[level]}标准 {yuan(amount)} 超过单笔限额 {yuan(per_payment)}",
                                field=f"level_amounts.{level}", kind="over-cap")
    check_allocation(cmd.allocation, cmd.household_cap_fen)
    return per_payment, per_person


def check_allocation(allocation: str | None, household_cap_fen: int | None) -> None:
    if allocation is not None and allocation not in ALLOCATIONS:
        raise RuleViolation(f"分配方式须为 {'、'.join(ALLOCATIONS)} 之一", field="allocation", kind="allocation")
    if (allocation == "cap") != (household_cap_fen is not None):
        raise RuleViolation("每户上限（household_cap_fen）须与分配方式 cap 同时给出", field="household_cap_fen",
                            kind="allocation")
    if household_cap_fen is not None:
        check_amount(household_cap_fen)


@dataclass(frozen=True)
class Need:
    """What the eligible households need against what the budget holds, on a day."""
    as_of: date
    households: int
    need_fen: int
    budget_fen: int

    @property
    def shortfall_fen(self) -> int:
        return max(0, self.need_fen - self.budget_fen)

    def view(self) -> dict:
        return {"as_of": self.as_of, "households": self.households, "need": money(self.need_fen),
                "budget": money(self.budget_fen), "shortfall": money(self.shortfall_fen),
                "fits": self.shortfall_fen == 0}


class BudgetShortfall(RuleViolation):
    """The budget cannot cover every eligible household and no allocation rule was chosen (409);
    the problem carries the figures (`need`)."""

    def __init__(self, need: Need) -> None:
        super().__init__(
            f"预算不足：符合条件的{need.households}户共需{yuan(need.need_fen)}，预算{yuan(need.budget_fen)}，"
            f"缺口{yuan(need.shortfall_fen)}。请选择分配方式（allocation）：by_level 按困难等级先后、"
            "pro_rata 按比例、cap 每户上限", field="allocation", status=409, kind="budget-shortfall")
        self.need = need

    def to_problem(self) -> Problem:
        problem = super().to_problem()
        problem.extra["need"] = jsonable(self.need.view())
        return problem


def jsonable(view: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in view.items()}
