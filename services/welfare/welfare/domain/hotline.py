"""Rules of 12351 职工热线 tickets (工单), free of I/O: categories, the handling deadline counted
in working days, and the one rating (满意度 1–5) after resolution."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from unionops.problems import RuleViolation
from welfare.domain.working_days import WorkingCalendar, end_of_day

CATEGORIES: dict[str, str] = {"general": "一般", "difficult": "难点", "complex": "特别复杂"}
NOT_FOUND = "工单不存在或不在您的管辖范围内"


@dataclass(frozen=True)
class OpenTicket:
    org_id: uuid.UUID | None
    member_id: uuid.UUID | None
    category: str
    summary: str


def due_at(opened_at: datetime, category: str, *, deadlines: dict[str, int], calendar: WorkingCalendar,
           tz: str) -> datetime:
    """The end of the N-th working day after the day the call came in (Beijing time); N per
    category (defaults: 一般 3, 难点 7, 特别复杂 15 working days)."""
    opened_day = opened_at.astimezone(ZoneInfo(tz)).date()
    return end_of_day(calendar.add(opened_day, deadlines[category]), tz)


def check_rating(status: str, satisfaction: int | None) -> None:
    if status != "resolved":
        raise RuleViolation("工单办结后方可评价满意度", status=409, kind="ticket-not-resolved")
    if satisfaction is not None:
        raise RuleViolation("该工单已评价，满意度只能评价一次", status=409, kind="already-rated")
