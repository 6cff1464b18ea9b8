"""Working days (工作日), free of I/O: Saturdays and Sundays are rest days, public holidays
(法定节假日) are rest days, and a weekend day the State Council moves into the working week
(调休上班) is a working day. The lists are settings because they change every year."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[date] = frozenset()
    working_weekends: frozenset[date] = frozenset()

    @classmethod
    def of(cls, holidays: Iterable[date] = (), working_weekends: Iterable[date] = ()) -> "WorkingCalendar":
        return cls(frozenset(holidays), frozenset(working_weekends))

    def is_working_day(self, day: date) -> bool:
        if day in self.working_weekends:
            return True
        return day.weekday() < 5 and day not in self.holidays

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
