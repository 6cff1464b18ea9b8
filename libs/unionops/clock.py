"""The federation's calendar. Servers run in UTC; the union's days, years and deadlines are
Beijing days: a member admitted at 07:00 on 1 January (23:00 UTC on 31 December) joined in the
new year. Every "today" of business rules comes from here, never from `date.today()`."""
from __future__ import annotations

from datetime import date, datetime
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
