"""Rules of rationalisation proposals (合理化建议), no I/O: "有征集、有答复、有落实、有效果".

征集: a member submits (member token) or staff enter one for a member of their subtree — staff
may date a proposal collected on paper back to the day it was handed in. It is due for an answer
one or two months later (COMPETITIONS_PROPOSAL_ANSWER_MONTHS), three for a major one.
答复: the union's staff assign it to an officer or department and answer it: adopted, not adopted,
or under study. The first answer meets the duty to answer and is late when given after the due
date; a proposal "under study" later gets its final answer, which carries the first answer's
late flag (the member was answered when they were). Unanswered proposals past their due date are
overdue and listed (GET /proposals?overdue=true).
落实: an adopted proposal is implemented → ProposalAdopted (no grade yet).
效果: once its effect is known it is rewarded with a grade (一、二、三等奖, 鼓励奖) whose amount in
fen is the federation's setting → ProposalAdopted again, with grade and amount.
Every step is a proposal_history row with who and when.

A proposal stays with the union its member belonged to when submitting (it answers, even if the
member transfers); its path is read from org_units, which follows UnionMoved.
"""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Mapping

from contracts.events import ProposalAdopted
from unionops.problems import RuleViolation

OUTCOMES: dict[str, str] = {"adopted": "采纳", "not_adopted": "不予采纳", "under_study": "正在研究"}

GRADES: dict[str, str] = {"first": "一等奖", "second": "二等奖", "third": "三等奖", "encouragement": "鼓励奖"}

# Defaults in fen (¥2,000 / ¥1,000 / ¥500 / ¥200); COMPETITIONS_PROPOSAL_REWARDS_FEN overrides.
DEFAULT_REWARDS_FEN: dict[str, int] = {"first": 200_000, "second": 100_000, "third": 50_000,
                                       "encouragement": 20_000}

NOT_FOUND = "合理化建议不存在或不在您的管辖范围内"


def add_months(day: date, months: int) -> date:
    """The same day `months` later; a day the month lacks becomes its last (31 Jan → 28/29 Feb)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    first_of_next = date(year + (month0 == 11), (month0 + 1) % 12 + 1, 1)
    return date(year, month0 + 1, min(day.day, (first_of_next - timedelta(days=1)).day))


def answer_due_on(submitted_on: date, *, major: bool, months: int, major_months: int) -> date:
    """答复期限: one or two months after submission, three for a major proposal."""
    return add_months(submitted_on, major_months if major else months)


def check_submitted_on(submitted_on: date, today: date, *, by_member: bool, backdate_days: int) -> None:
    """A member submits today; staff may enter a paper proposal with the day it was handed in."""
    if submitted_on > today:
        raise RuleViolation("提交日期不能晚于今天", field="submitted_on")
    if by_member and submitted_on != today:
        raise RuleViolation("会员本人提交的建议以当天为提交日期", field="submitted_on")
    if (today - submitted_on).days > backdate_days:
        raise RuleViolation(f"补录建议的提交日期最早为 {backdate_days} 天前", field="submitted_on")


def is_overdue(first_answered_on: date | None, due_on: date, today: date) -> bool:
    """Unanswered after the due date (the due date itself is still in time)."""
    return first_answered_on is None and today > due_on


def check_answer(status: str, outcome: str) -> None:
    """Answer once; a proposal "under study" gets exactly one final answer afterwards."""
    if status in ("submitted", "assigned"):
        return
    if status == "under_study" and outcome != "under_study":
        return
    if status == "under_study":
        raise RuleViolation("该建议已答复“正在研究”，请给出采纳或不予采纳的最终答复", field="outcome", status=409,
                            kind="proposal-answered")
    raise RuleViolation("该建议已答复", status=409, kind="proposal-answered")


def answer_is_late(first_answered_on: date | None, first_late: bool | None, due_on: date, answered_on: date) -> bool:
    if first_answered_on is None:
        return answered_on > due_on
    return bool(first_late)


def check_step(status: str, required: str, message: str) -> None:
    if status != required:
        raise RuleViolation(message, status=409, kind="proposal-step")


def reward_fen(grade: str, configured: Mapping[str, int]) -> int:
    amount = configured.get(grade, DEFAULT_REWARDS_FEN[grade])
    if amount < 0:
        raise ValueError(f"negative reward for {grade}")
    return amount


def proposal_adopted(proposal: Mapping, *, award_grade: str | None = None,
                     reward_fen: int | None = None) -> ProposalAdopted:
    """有落实 (no grade yet) and 有效果 (with the grade and its amount in fen) both announce an
    adopted proposal."""
    return ProposalAdopted(proposal_id=proposal["id"], member_id=proposal["member_id"],
                           org_path=list(proposal["org_path"]), adopted_on=proposal["answered_on"],
                           award_grade=award_grade, reward_fen=reward_fen)


def as_uuid(value: str) -> uuid.UUID | None:
    """A member token's subject as the member id (None when it is not one)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
