"""Rules of contests, entries and judging, free of I/O."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
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


# ---- contests: lifecycle and registration window ------------------------------------------------

# 北京时间: China keeps no daylight saving, so a fixed offset is exact.
BEIJING = timezone(timedelta(hours=8), "北京时间")

CONTEST_STATUSES: dict[str, str] = {
    "draft": "草稿", "open": "报名中", "closed": "报名截止", "judging": "评审中", "published": "结果已公布",
}
# The only moves a contest makes; each is one step forward.
CONTEST_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"open"}),
    "open": frozenset({"closed"}),
    "closed": frozenset({"judging"}),
    "judging": frozenset({"published"}),
    "published": frozenset(),
}
EVENT_KINDS: dict[str, str] = {"skill": "技能项目", "fun": "趣味项目"}


def in_beijing(moment: datetime) -> datetime:
    """A moment as Beijing time; a naive moment is taken to be Beijing time already."""
    return moment.replace(tzinfo=BEIJING) if moment.tzinfo is None else moment.astimezone(BEIJING)


def check_transition(current: str, target: str) -> None:
    """draft → open → closed → judging → published, one step at a time."""
    if target not in CONTEST_STATUSES:
        raise RuleViolation(f"竞赛状态须为 {'、'.join(CONTEST_STATUSES)} 之一", field="status", kind="unknown-status")
    if target not in CONTEST_TRANSITIONS[current]:
        raise RuleViolation(f"竞赛处于“{CONTEST_STATUSES[current]}”，不能转为“{CONTEST_STATUSES[target]}”",
                            field="status", status=409, kind="illegal-transition")


def check_window(opens_at: datetime | None, closes_at: datetime | None) -> None:
    """A contest opens for registration only with a window (报名时间) that ends after it starts."""
    if opens_at is None or closes_at is None:
        raise RuleViolation("开放报名前须设定报名时间（开始与截止）", field="opens_at", kind="registration-window")
    if closes_at <= opens_at:
        raise RuleViolation("报名截止时间须晚于开始时间", field="closes_at", kind="registration-window")


def check_registration_open(status: str, opens_at: datetime | None, closes_at: datetime | None,
                            now: datetime) -> None:
    """Teams and contestants are registered only while the contest is open and inside its window."""
    if status != "open":
        raise RuleViolation(f"竞赛处于“{CONTEST_STATUSES[status]}”，不接受报名", status=409, kind="registration-closed")
    if opens_at is not None and now < opens_at:
        raise RuleViolation(f"报名尚未开始（{in_beijing(opens_at):%Y年%m月%d日 %H:%M} 开始）", status=409,
                            kind="registration-closed")
    if closes_at is not None and now >= closes_at:
        raise RuleViolation(f"报名已截止（{in_beijing(closes_at):%Y年%m月%d日 %H:%M} 截止）", status=409,
                            kind="registration-closed")


def check_events(events: Iterable[tuple[str, str]]) -> None:
    """Events (比赛项目) are skill or fun events, each named once."""
    names: set[str] = set()
    for i, (name, kind) in enumerate(events):
        if kind not in EVENT_KINDS:
            raise RuleViolation("比赛项目类型须为 技能项目(skill) 或 趣味项目(fun)", field=f"events.{i}.kind")
        if name in names:
            raise RuleViolation(f"比赛项目“{name}”重复", field=f"events.{i}.name", kind="duplicate-event")
        names.add(name)


# ---- team registration ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TeamRules:
    """A contest's team rules; the defaults are seed 001's announcement: each unit fields at least
    4 people, at least one of them a woman, one of them the team leader."""

    min_team_size: int = 4
    max_team_size: int | None = None
    min_women: int = 1
    team_cap: int | None = None            # teams beyond it wait, first come first served
    max_teams_per_unit: int | None = None


SEED_001_TEAM_RULES = TeamRules()


@dataclass(frozen=True)
class TeamMemberCandidate:
    """One person put forward for a team, with what the members projection knows of them
    (None when the projection does not know them)."""

    member_id: uuid.UUID
    is_leader: bool
    gender: str | None = None
    org_path: tuple[uuid.UUID, ...] | None = None
    status: str | None = None


def check_team_shape(rules: TeamRules, members: list[TeamMemberCandidate]) -> None:
    """Size and leader: rules that need nothing but the form itself."""
    ids = [m.member_id for m in members]
    if len(set(ids)) != len(ids):
        raise RuleViolation("同一人在队员名单中出现多次", field="members", kind="duplicate-member")
    if len(members) < rules.min_team_size:
        raise RuleViolation(f"每队至少{rules.min_team_size}人，本队仅{len(members)}人", field="members",
                            kind="team-too-small")
    if rules.max_team_size is not None and len(members) > rules.max_team_size:
        raise RuleViolation(f"每队至多{rules.max_team_size}人，本队{len(members)}人", field="members",
                            kind="team-too-large")
    leaders = sum(1 for m in members if m.is_leader)
    if leaders != 1:
        raise RuleViolation(f"每队须有且只有一名领队，本队{leaders}名", field="members", kind="leader-count")


def check_team_members(contest_org_id: uuid.UUID, unit_id: uuid.UUID, members: list[TeamMemberCandidate]) -> None:
    """Members only: known to the projection, active, and within both the contest's subtree and
    the registering unit's subtree."""
    for i, m in enumerate(members):
        field = f"members.{i}.member_id"
        if m.org_path is None:
            raise RuleViolation(f"{UNKNOWN_MEMBER}（{m.member_id}）", field=field, kind="not-a-member")
        if m.status != "active":
            raise RuleViolation(f"该会员会籍状态为“{m.status}”，不能参赛（{m.member_id}）", field=field,
                                kind="not-a-member")
        if contest_org_id not in m.org_path:
            raise RuleViolation(f"该会员不属于本竞赛主办单位及其下属工会（{m.member_id}）", field=field,
                                kind="out-of-subtree")
        if unit_id not in m.org_path:
            raise RuleViolation(f"该会员不属于报名单位及其下属工会（{m.member_id}）", field=field, kind="out-of-subtree")


def check_team_women(rules: TeamRules, members: list[TeamMemberCandidate]) -> None:
    """At least `min_women` women; gender comes from the members projection (derived upstream
    from the resident ID number), never from the form."""
    women = sum(1 for m in members if m.gender == "female")
    if women < rules.min_women:
        raise RuleViolation(f"每队至少须有{rules.min_women}名女职工，本队{women}名", field="members", kind="no-woman")


def check_unit_in_contest(contest_org_id: uuid.UUID, unit_path: Iterable[uuid.UUID]) -> None:
    """Entrants are units of the organising unit's subtree (如园区各单位)."""
    if contest_org_id not in set(unit_path):
        raise RuleViolation("报名单位不属于本竞赛主办单位及其下属组织", field="union_id", kind="out-of-subtree")


def check_teams_per_unit(rules: TeamRules, standing_teams_of_unit: int) -> None:
    if rules.max_teams_per_unit is not None and standing_teams_of_unit >= rules.max_teams_per_unit:
        raise RuleViolation(f"每个单位至多报{rules.max_teams_per_unit}支队伍", field="union_id", status=409,
                            kind="teams-per-unit")


def place_for_new_team(rules: TeamRules, registered_teams: int) -> str:
    """Below the cap a team is registered; at or beyond it, it joins the waiting list."""
    return "registered" if rules.team_cap is None or registered_teams < rules.team_cap else "waitlisted"


def promotions(rules: TeamRules, registered_teams: int, waiting_in_order: list[uuid.UUID]) -> list[uuid.UUID]:
    """Teams that move up from the waiting list, first come first served, to fill free places."""
    free = len(waiting_in_order) if rules.team_cap is None else max(rules.team_cap - registered_teams, 0)
    return waiting_in_order[:free]
