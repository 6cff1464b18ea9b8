"""The federation's calendar. Servers run in UTC; the union's days, years and deadlines are
Beijing days: a member admitted at 07:00 on 1 January (23:00 UTC on 31 December) joined in the
new year. Every "today" of business rules comes from here, never from `date.today()`."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

FEDERATION_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=8)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def local_now(tz: str = FEDERATION_TIMEZONE) -> datetime:
    """Now, as an aware datetime in the federation's time zone."""
    return datetime.now(_zone(tz))


def local_today(tz: str = FEDERATION_TIMEZONE) -> date:
    """Today where the federation is."""
    return local_now(tz).date()


def local_time(moment: datetime, tz: str = FEDERATION_TIMEZONE) -> datetime:
    """An aware instant shown on the federation's wall clock (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(_zone(tz))


def day_start(day: date, tz: str = FEDERATION_TIMEZONE) -> datetime:
    """The instant the federation's `day` begins (00:00 Beijing is 16:00 UTC the day before)."""
    return datetime.combine(day, time.min, tzinfo=_zone(tz))
