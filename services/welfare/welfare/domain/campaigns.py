"""Seasonal campaigns (送温暖, 金秋助学, 中秋国庆慰问, 送清凉), free of I/O: the levels a campaign
pays and in which order, why a file is not paid, and what a launch must say. The run itself is
set-based SQL (welfare.commands.campaigns)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from unionops.problems import RuleViolation
from welfare.domain.money import check_amount, yuan

LEVELS = {"deep": "深度困难", "accident": "意外致困", "relative": "相对困难"}
LEVEL_ORDER = ("deep", "accident", "relative")  # who is paid first when the budget runs short

NOT_PAID_REASONS = {
    "member_unknown": "会员未同步到帮扶系统",
    "member_not_active": "会员非在会状态",
    "review_overdue": "困难档案逾期未复核",
    "no_amount_for_level": "本活动未设该困难等级的标准",
    "person_year_cap_reached": "已达本年度个人限额",
    "budget_exhausted": "活动预算已用完",
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
    return per_payment, per_person
