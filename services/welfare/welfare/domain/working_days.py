"""Working days (工作日), free of I/O: Saturdays and Sundays are rest days, public holidays
(法定节假日) are rest days, and a weekend day the State Council moves into the working week
(调休上班) is a working day. The State Council's arrangement comes from `chinese_calendar`
(updated every November when the next year's notice is published); a city adds its own rest or
working days in the settings. For a year whose arrangement is not known yet nothing is counted:
guessing would count Spring Festival as working days."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable
from zoneinfo import ZoneInfo

import chinese_calendar

from unionops.problems import RuleViolation


class CalendarUnknown(RuleViolation):
    """The State Council's holiday arrangement for `year` is not known (not yet published, or
    the calendar library predates it)."""

    def __init__(self, year: int) -> None:
        super().__init__(f"{year}年的法定节假日安排尚未公布，无法计算工作日期限", kind="holiday-calendar-unknown")
        self.year = year


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[date] = frozenset()          # the city's own rest days
    working_weekends: frozenset[date] = frozenset()  # the city's own working days (weekend or not)
    state_council: bool = False                      # apply the State Council's arrangement
    years_in_settings: frozenset[int] = frozenset()  # years whose whole arrangement the lists above carry

    @classmethod
    def of(cls, holidays: Iterable[date] = (), working_weekends: Iterable[date] = ()) -> "WorkingCalendar":
        """Weekends and the given days only (no State Council arrangement)."""
        return cls(frozenset(holidays), frozenset(working_weekends))

    @classmethod
    def official(cls, local_holidays: Iterable[date] = (), local_working_days: Iterable[date] = (),
                 years_in_settings: Iterable[int] = ()) -> "WorkingCalendar":
        """The State Council's arrangement plus the city's own days."""
        return cls(frozenset(local_holidays), frozenset(local_working_days), True, frozenset(years_in_settings))

    def is_working_day(self, day: date) -> bool:
        if day in self.working_weekends:
            return True
        if day in self.holidays:
            return False
        if self.state_council and day.year not in self.years_in_settings:
            try:
                return chinese_calendar.is_workday(day)
            except NotImplementedError:  # the library's "no available data for year"
                raise CalendarUnknown(day.year) from None
        return day.weekday() < 5

    def add(self, start: date, n: int) -> date:
        """The n-th working day after `start` (`start` itself never counts; n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day = start
        while n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def next_working_day(self, day: date) -> date:
        """`day` if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


def end_of_day(day: date, tz: str) -> datetime:
    """The last moment of `day` in the federation's time zone, as an aware datetime."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(tz))
