"""The federation's day is the Beijing day, whatever the server's clock zone."""
from __future__ import annotations

from datetime import date, datetime, timezone

from unionops import clock


def test_early_morning_in_beijing_is_already_the_next_day(monkeypatch):
    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # 23:30 UTC on New Year's Eve = 07:30 on 1 January in Beijing
            return datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc).astimezone(tz)

    monkeypatch.setattr(clock, "datetime", Frozen)
    assert clock.local_today() == date(2026, 1, 1)
    assert clock.local_now().utcoffset().total_seconds() == 8 * 3600
    assert clock.local_today("UTC") == date(2025, 12, 31)
