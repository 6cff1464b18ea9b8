"""Contests: kinds, the lifecycle draft → open → closed → judging → published, the registration
window in Beijing time, events (比赛项目), and who organises or may see a contest.

Each step is taken by the organisers: open and close registration, start judging (评审: scores
are recorded only then), publish the results (which ends judging)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
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

UNKNOWN_MEMBER = "会员不存在：尚未入会或尚未同步"

UNKNOWN_UNIT = "组织不存在：尚未建会或尚未同步"


def check_contest_kind(kind: str) -> None:
    if kind not in CONTEST_KINDS:
        raise RuleViolation(f"竞赛类型须为 {'、'.join(CONTEST_KINDS.values())} 之一", field="kind")


def organises(actor: Principal, contest_org_path: Iterable[uuid.UUID]) -> bool:
    """The organising unit's subtree-holders above it manage the contest: judging, all entries."""
    return actor.covers(contest_org_path)


def may_see_contest(actor: Principal, contest_org_id: uuid.UUID, contest_org_path: Iterable[uuid.UUID],
                    actor_unit_path: Iterable[uuid.UUID] | None) -> bool:
    """Organisers see a contest, and so do units below the organiser: their members may enter."""
    return organises(actor, contest_org_path) or contest_org_id in set(actor_unit_path or ())


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


def check_window_not_past(closes_at: datetime, today: date) -> None:
    """A window whose last day (Beijing) is before today lies wholly in the past: opening it
    would announce a registration no one can make. The end is exclusive, so a window ending at
    00:00 today ended yesterday."""
    last_day = in_beijing(closes_at - timedelta(microseconds=1)).date()
    if last_day < today:
        raise RuleViolation(f"报名时间已过（{in_beijing(closes_at):%Y年%m月%d日 %H:%M} 截止），不能开放报名",
                            field="closes_at", kind="registration-window-past")


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


def check_dates_and_sizes(starts_on: date | None, ends_on: date | None, min_team_size: int,
                          max_team_size: int | None) -> None:
    """A contest ends no earlier than it starts; a team's size limit is no lower than its minimum."""
    if starts_on and ends_on and ends_on < starts_on:
        raise RuleViolation("比赛结束日期不能早于开始日期", field="ends_on")
    if max_team_size is not None and max_team_size < min_team_size:
        raise RuleViolation("每队人数上限不能小于下限", field="max_team_size")
