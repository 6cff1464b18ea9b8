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


def test_a_beijing_day_starts_at_16_utc_the_day_before_whatever_the_server_zone(monkeypatch):
    import time
    for zone in ("UTC", "America/New_York"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        assert clock.day_start(date(2026, 1, 1)) == datetime(2025, 12, 31, 16, 0, tzinfo=timezone.utc)
        assert clock.local_time(datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc)).isoformat() == \
            "2026-01-01T07:30:00+08:00"
    monkeypatch.undo()
    time.tzset()


def test_operator_tools_show_beijing_time(monkeypatch):
    import time

    from devstack import traces
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert traces._when("2025-12-31T23:30:00+00:00") == "2026-01-01 07:30:00.000"
    finally:
        monkeypatch.undo()
        time.tzset()
