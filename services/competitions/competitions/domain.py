"""Rules of contests, entries and judging, free of I/O."""
from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Iterable

from unionops.auth import Principal
from unionops.problems import RuleViolation

# Kinds of contest a federation runs, with the words its staff use.
CONTEST_KINDS: dict[str, str] = {
    "labour": "劳动竞赛",
    "skill": "职工技能比赛",
    "safety": "安康杯竞赛",
    "energy": "节能降耗竞赛",
    "fun": "趣味竞赛",
    "knowledge": "知识竞赛",
}

CENTIPOINTS_PER_POINT = 100

UNKNOWN_MEMBER = "会员不存在：尚未入会或尚未同步"
UNKNOWN_UNIT = "组织不存在：尚未建会或尚未同步"


def check_contest_kind(kind: str) -> None:
    if kind not in CONTEST_KINDS:
        raise RuleViolation(f"竞赛类型须为 {'、'.join(CONTEST_KINDS.values())} 之一", field="kind")


def check_eligible(contest_org_id: uuid.UUID, member_org_path: Iterable[uuid.UUID]) -> None:
    """A contest is open to the members of its organising unit's subtree."""
    if contest_org_id not in set(member_org_path):
        raise RuleViolation("该会员不属于本竞赛主办单位及其下属工会，不能报名", field="member_id",
                            kind="not-eligible")


def to_centipoints(points: Decimal, *, field: str) -> int:
    """Points with at most two decimal places, as an exact integer of hundredths."""
    try:
        if not points.is_finite():
            raise InvalidOperation
        cents = points * CENTIPOINTS_PER_POINT
        if cents != cents.to_integral_value():
            raise RuleViolation("分数最多保留两位小数", field=field)
        return int(cents)
    except InvalidOperation:
        raise RuleViolation("分数须为有限的数", field=field) from None


def judge_score(score: Decimal, max_score: Decimal) -> tuple[int, int]:
    """A judge's score lies between 0 and the criterion's full marks; returns both in centipoints."""
    max_cp = to_centipoints(max_score, field="max_score")
    if max_cp <= 0:
        raise RuleViolation("满分须大于0", field="max_score")
    score_cp = to_centipoints(score, field="score")
    if not 0 <= score_cp <= max_cp:
        raise RuleViolation(f"评分须在0到满分{format_points(max_cp)}之间", field="score", kind="score-out-of-range")
    return score_cp, max_cp


def format_points(centipoints: int) -> str:
    """8750 -> "87.50": shown as text so no float ever rounds a score."""
    return f"{Decimal(centipoints) / CENTIPOINTS_PER_POINT:.2f}"


def organises(actor: Principal, contest_org_path: Iterable[uuid.UUID]) -> bool:
    """The organising unit's subtree-holders above it manage the contest: judging, all entries."""
    return actor.covers(contest_org_path)


def may_see_contest(actor: Principal, contest_org_id: uuid.UUID, contest_org_path: Iterable[uuid.UUID],
                    actor_unit_path: Iterable[uuid.UUID] | None) -> bool:
    """Organisers see a contest, and so do units below the organiser: their members may enter."""
    return organises(actor, contest_org_path) or contest_org_id in set(actor_unit_path or ())
