"""The hardship level and the dates of a file, without I/O."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from welfare.domain.hardship import (
    Thresholds, add_months, hardship_level, migrant_worker_qualifies, per_capita_monthly_income, retain_until,
    review_due_on,
)

MINIMUM = 100_000  # 低保 ¥1,000 a person a month, in fen
RANK = {None: 0, "accident": 1, "relative": 2, "deep": 3}

fen = st.integers(min_value=0, max_value=100_000_000_00)
sizes = st.integers(min_value=1, max_value=12)
minimums = st.integers(min_value=1, max_value=500_000)


def level(income: int, costs: int = 0, size: int = 1, event: int = 0, minimum: int = MINIMUM,
          thresholds: Thresholds = Thresholds()) -> str | None:
    return hardship_level(annual_income_fen=income, unavoidable_costs_fen=costs, household_size=size,
                          largest_event_cost_fen=event, minimum_living_standard_fen=minimum,
                          thresholds=thresholds).level


def test_per_capita_income_is_net_income_over_twelve_months_and_the_household_rounded_down():
    assert per_capita_monthly_income(3_600_000, 600_000, 3) == 83_333  # 83,333.33… fen
    assert per_capita_monthly_income(0, 1_200, 1) == -100  # costs above income: negative, not hidden


def test_level_is_deep_below_the_minimum_living_standard():
    # 3 people, ¥1,000 低保: the household is deep below ¥36,000 net a year
    assert level(3_600_000 - 1, size=3) == "deep"
    assert level(4_000_000, costs=500_000, size=3) == "deep"


def test_level_is_relative_from_the_minimum_to_below_twice_the_minimum():
    assert level(3_600_000, size=3) == "relative"  # exactly 低保: no longer deep
    assert level(7_200_000 - 1, size=3) == "relative"


def test_household_at_twice_the_minimum_is_not_in_hardship():
    assert level(7_200_000, size=3) is None


def test_level_is_accident_when_one_events_costs_exceed_eighty_percent_of_income():
    assert level(10_000_000, event=8_000_001) == "accident"
    assert level(10_000_000, event=8_000_000) is None  # exactly 80 %: not more than
    assert level(0, costs=0, event=1, size=1) == "deep"  # the worse level wins


def test_thresholds_are_configurable():
    strict = Thresholds(deep_percent_of_minimum=100, relative_percent_of_minimum=150, accident_percent_of_income=50)
    assert level(1_799_999, thresholds=strict) == "relative"  # below 1.5 × 低保 a month
    assert level(1_800_000, thresholds=strict) is None
    assert level(1_800_000) == "relative"  # the default 2 × 低保
    assert level(1_800_000, event=900_001, thresholds=strict) == "accident"  # above 50 % of income
    assert level(1_800_000, event=900_000, thresholds=strict) is None


@given(income=fen, costs=fen, size=sizes, minimum=minimums, percent=st.integers(min_value=1, max_value=400))
def test_boundaries_are_exact(income, costs, size, minimum, percent):
    """Deep exactly when net ÷ 12 ÷ size < 低保 × percent, on the unrounded quotient."""
    t = Thresholds(deep_percent_of_minimum=percent, relative_percent_of_minimum=percent + 100)
    deep = (income - costs) * 100 < minimum * percent * 12 * size
    assert (level(income, costs, size, 0, minimum, t) == "deep") is deep


@given(size=sizes, minimum=minimums)
def test_the_boundary_itself_is_relative_and_one_fen_less_is_deep(size, minimum):
    boundary = minimum * 12 * size
    assert level(boundary, size=size, minimum=minimum) == "relative"
    assert level(boundary - 1, size=size, minimum=minimum) == "deep"
    assert level(2 * boundary, size=size, minimum=minimum) is None
    assert level(2 * boundary - 1, size=size, minimum=minimum) == "relative"


@given(income=fen, more=fen, costs=fen, size=sizes, event=fen, minimum=minimums)
def test_level_never_gets_worse_as_income_rises(income, more, costs, size, event, minimum):
    assert RANK[level(income + more, costs, size, event, minimum)] <= RANK[level(income, costs, size, event, minimum)]


@given(income=fen, costs=fen, more=fen, size=sizes, minimum=minimums)
def test_level_never_gets_better_as_unavoidable_costs_rise(income, costs, more, size, minimum):
    assert RANK[level(income, costs + more, size, 0, minimum)] >= RANK[level(income, costs, size, 0, minimum)]


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError):
        level(-1)
    with pytest.raises(ValueError):
        hardship_level(annual_income_fen=1, unavoidable_costs_fen=0, household_size=0, largest_event_cost_fen=0,
                       minimum_living_standard_fen=MINIMUM)


def test_review_is_due_one_year_after_opening_or_the_last_review():
    assert review_due_on(date(2024, 3, 15)) == date(2025, 3, 15)
    assert review_due_on(date(2024, 2, 29)) == date(2025, 2, 28)


def test_closed_file_is_kept_ten_years():
    assert retain_until(date(2024, 6, 30)) == date(2034, 6, 30)


def test_months_are_added_to_the_last_day_of_short_months():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 12, 31), 2) == date(2025, 2, 28)


def test_migrant_worker_qualifies_after_twelve_months_of_membership():
    assert not migrant_worker_qualifies(date(2023, 6, 2), date(2024, 6, 1), 12)
    assert migrant_worker_qualifies(date(2023, 6, 1), date(2024, 6, 1), 12)
    assert migrant_worker_qualifies(date(2024, 6, 1), date(2024, 6, 1), 0)
