"""Welfare counts working days on the State Council's holiday arrangement, which chinese-calendar
publishes once it is announced (each December). For a stack whose deadlines reach a year not yet
published — a test in late December, the simulated year — the city types it in as weekends
only, as an office would (WELFARE_CALENDAR_YEARS_IN_SETTINGS); the product itself refuses."""
from __future__ import annotations

from datetime import date

from welfare.domain.working_days import CalendarUnknown, WorkingCalendar


def typed_in(year: int) -> dict[str, str]:
    """welfare's env for a stack living in `year`: empty when chinese-calendar knows it."""
    try:
        WorkingCalendar.official().is_working_day(date(year, 1, 1))
        return {}
    except CalendarUnknown:
        return {"WELFARE_CALENDAR_YEARS_IN_SETTINGS": f"[{year}]"}
