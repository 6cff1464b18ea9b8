"""Dates that staff enter for something that happened (a payment, a visit, an admission, a status
change): never in the future, back-dated at most a configured number of days, and a back-dated
action says who back-dated it and by how much in the record's own audit trail."""
from __future__ import annotations

from datetime import date, timedelta

from unionops.problems import RuleViolation


def check_dated(day: date, today: date, *, field: str, what: str, max_backdate_days: int | None = None,
                earliest: date | None = None, earliest_why: str = "") -> int:
    """Refuse `day` (the Beijing `today` is the caller's) if it lies after today, more than
    `max_backdate_days` before it, or before `earliest`. Returns how many days it is back-dated."""
    if day > today:
        raise RuleViolation(f"{what}不能晚于今天（{today.isoformat()}）", field=field, kind="dated-in-the-future")
    if max_backdate_days is not None and (today - day).days > max_backdate_days:
        raise RuleViolation(f"{what}最多可补录至{max_backdate_days}天前（{(today - timedelta(days=max_backdate_days))}）",
                            field=field, kind="backdated-too-far")
    if earliest is not None and day < earliest:
        raise RuleViolation(f"{what}不能早于{earliest.isoformat()}{earliest_why}", field=field, kind="dated-too-early")
    return (today - day).days


def dated_or_today(day: date | None, today: date, *, field: str, what: str,
                   max_backdate_days: int | None = None) -> date:
    """The day something happened as staff gave it, today when left out, refused as check_dated does."""
    day = day or today
    check_dated(day, today, field=field, what=what, max_backdate_days=max_backdate_days)
    return day


def backdating(day: date, today: date, actor: str) -> dict:
    """What an audit trail keeps of a back-dated action: nothing when dated today."""
    days = (today - day).days
    return {"backdated_days": days, "backdated_by": actor, "recorded_on": today.isoformat()} if days > 0 else {}
