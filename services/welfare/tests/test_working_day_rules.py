"""Working-day deadlines follow the State Council's calendar (holidays and 调休 working days),
plus a city's own days; a year whose arrangement is not known is refused, never guessed."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from unionops.problems import RuleViolation
from welfare.domain import golden_autumn, hotline
from welfare.settings import Settings
from welfare.domain.working_days import WorkingCalendar

STATE_COUNCIL = WorkingCalendar.official()
DEADLINES = {"general": 3, "difficult": 7, "complex": 15}


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_spring_festival_2026_is_nine_rest_days_between_two_working_saturdays():
    assert not any(STATE_COUNCIL.is_working_day(d) for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert STATE_COUNCIL.is_working_day(date(2026, 2, 14)) and STATE_COUNCIL.is_working_day(date(2026, 2, 28))
    assert STATE_COUNCIL.add(date(2026, 2, 13), 1) == date(2026, 2, 14)   # Friday → the 调休 Saturday
    assert STATE_COUNCIL.add(date(2026, 2, 14), 1) == date(2026, 2, 24)   # over the whole festival


def test_a_hotline_call_before_spring_festival_is_due_after_it():
    called = datetime(2026, 2, 12, 2, 0, tzinfo=timezone.utc)  # Thursday 12 February, 10:00 Beijing
    due = hotline.due_at(called, "general", deadlines=DEADLINES, calendar=STATE_COUNCIL, tz="Asia/Shanghai")
    assert due.date() == date(2026, 2, 24)  # 13, 14 (调休), 24


def test_national_day_2026_counts_the_adjusted_sunday_and_saturday_as_working_days():
    assert not any(STATE_COUNCIL.is_working_day(d) for d in days(date(2026, 10, 1), date(2026, 10, 7)))
    assert STATE_COUNCIL.is_working_day(date(2026, 9, 20)) and STATE_COUNCIL.is_working_day(date(2026, 10, 10))
    assert STATE_COUNCIL.add(date(2026, 9, 30), 1) == date(2026, 10, 8)
    ends_on, payable_from = golden_autumn.notice_period(date(2026, 9, 30), STATE_COUNCIL, 5)
    assert (ends_on, payable_from) == (date(2026, 10, 13), date(2026, 10, 14))  # 8, 9, 10 (调休), 12, 13


def test_a_year_whose_holiday_arrangement_is_not_published_is_refused_not_guessed():
    with pytest.raises(RuleViolation) as refused:
        hotline.due_at(datetime(2028, 1, 20, 2, 0, tzinfo=timezone.utc), "general", deadlines=DEADLINES,
                       calendar=STATE_COUNCIL, tz="Asia/Shanghai")
    assert refused.value.status == 422 and refused.value.message == "2028年的法定节假日安排尚未公布，无法计算工作日期限"
    problem = refused.value.to_problem()
    assert problem.status == 422 and problem.type == "/problems/holiday-calendar-unknown"
    with pytest.raises(RuleViolation, match="2028年"):
        golden_autumn.notice_period(date(2028, 1, 24), STATE_COUNCIL, 5)


def test_a_deadline_reaching_into_an_unpublished_year_is_refused():
    known_until = max(y for y in range(2026, 2100) if _known(y))
    with pytest.raises(RuleViolation, match=f"{known_until + 1}年"):
        STATE_COUNCIL.add(date(known_until, 12, 30), 15)


def _known(year: int) -> bool:
    try:
        STATE_COUNCIL.is_working_day(date(year, 6, 1))
        return True
    except RuleViolation:
        return False


def test_a_city_adds_its_own_rest_days_and_working_days():
    city = WorkingCalendar.official(local_holidays=[date(2026, 11, 23)], local_working_days=[date(2026, 11, 21)])
    assert not city.is_working_day(date(2026, 11, 23)) and city.is_working_day(date(2026, 11, 21))
    assert city.add(date(2026, 11, 20), 2) == date(2026, 11, 24)  # 21 (local working Saturday), 24


def test_a_year_typed_into_the_settings_is_counted_from_the_settings(monkeypatch):
    monkeypatch.setenv("WELFARE_CALENDAR_YEARS_IN_SETTINGS", "[2028]")
    monkeypatch.setenv("WELFARE_LOCAL_HOLIDAYS", '["2028-01-03"]')
    monkeypatch.setenv("WELFARE_LOCAL_WORKING_DAYS", '["2028-01-08"]')
    calendar = Settings().working_calendar()
    assert calendar.add(date(2028, 1, 1), 1) == date(2028, 1, 4)   # Monday 3rd is the typed-in holiday
    assert calendar.is_working_day(date(2028, 1, 8))                   # a typed-in 调休 Saturday
    assert STATE_COUNCIL.is_working_day(date(2026, 2, 14))             # other years still from the State Council
