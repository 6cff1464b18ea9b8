"""The pure rules of collective contracts: the 20-day answer, the 1–3-year term, the 15-day review
and the six-month renewal window (membership.domain.collective_contracts)."""
from __future__ import annotations

from datetime import date

import pytest

from membership.domain.collective_contracts import (
    answer_due_on, check_answer, check_employers_covered, check_objection, check_term, check_union_side, in_force_from,
    renewal_window_opens,
)
from unionops.problems import RuleViolation


def test_an_offer_must_be_answered_within_20_days_of_its_receipt():
    assert answer_due_on(date(2026, 3, 2)) == date(2026, 3, 22)
    assert answer_due_on(date(2026, 12, 20)) == date(2027, 1, 9)


def test_a_decline_needs_written_reasons_and_an_answer_comes_after_receipt():
    with pytest.raises(RuleViolation) as refused:
        check_answer("declined", "  ", date(2026, 3, 5), date(2026, 3, 2))
    assert refused.value.field == "reasons"
    with pytest.raises(RuleViolation) as refused:
        check_answer("accepted", None, date(2026, 3, 1), date(2026, 3, 2))
    assert refused.value.field == "answered_on"
    check_answer("declined", "企业经营困难，申请延期至下季度", date(2026, 3, 5), date(2026, 3, 2))


@pytest.mark.parametrize("starts_on, ends_on", [
    (date(2026, 1, 1), date(2026, 12, 31)),   # one year, both days included
    (date(2026, 1, 1), date(2028, 12, 31)),   # three years
    (date(2024, 2, 29), date(2025, 2, 27)),   # from a leap day: a year ends the day before 28 February
])
def test_a_term_of_one_to_three_years_is_accepted(starts_on, ends_on):
    check_term(starts_on, ends_on)


@pytest.mark.parametrize("starts_on, ends_on", [
    (date(2026, 1, 1), date(2026, 12, 30)),   # a day short of a year
    (date(2026, 1, 1), date(2029, 1, 1)),     # a day over three years
    (date(2026, 1, 1), date(2025, 12, 31)),   # ends before it starts
])
def test_a_term_shorter_than_one_year_or_longer_than_three_is_refused_naming_the_end(starts_on, ends_on):
    with pytest.raises(RuleViolation) as refused:
        check_term(starts_on, ends_on)
    assert refused.value.field == "ends_on" and "1至3年" in refused.value.message


def test_a_contract_is_in_force_on_day_15_after_receipt_and_an_objection_counts_only_before():
    received = date(2026, 5, 1)
    assert in_force_from(received) == date(2026, 5, 16)
    check_objection(date(2026, 5, 15), received)
    with pytest.raises(RuleViolation) as refused:
        check_objection(date(2026, 5, 16), received)
    assert refused.value.status == 409 and refused.value.kind == "review-period-over"
    with pytest.raises(RuleViolation):
        check_objection(date(2026, 4, 30), received)


@pytest.mark.parametrize("ends_on, opens_on", [
    (date(2028, 12, 31), date(2028, 6, 30)),
    (date(2028, 8, 31), date(2028, 2, 29)),   # as PostgreSQL's `- interval '6 months'`: the month's last day
    (date(2027, 3, 15), date(2026, 9, 15)),
    (date(2027, 5, 31), date(2026, 11, 30)),
])
def test_the_renewal_window_opens_six_months_before_the_end(ends_on, opens_on):
    assert renewal_window_opens(ends_on) == opens_on


def test_a_term_starting_outside_the_years_the_system_keeps_is_refused_naming_the_start():
    with pytest.raises(RuleViolation) as refused:
        check_term(date(9999, 1, 1), date(9999, 12, 31))
    assert refused.value.field == "starts_on"


@pytest.mark.parametrize("coverage, level, kind, allowed", [
    ("enterprise", "grassroots", "enterprise_union", True),
    ("enterprise", "street", "street_union", False),
    ("regional", "street", "street_union", True),
    ("regional", "grassroots", "joint_grassroots_union", True),
    ("regional", "grassroots", "enterprise_union", False),
    ("industry", "district", "industry_union", True),
    ("industry", "grassroots", "industry_union", True),
])
def test_an_enterprises_union_negotiates_its_contract_and_a_street_or_industry_union_a_regional_one(
        coverage, level, kind, allowed):
    if allowed:
        check_union_side(coverage, level, kind)
    else:
        with pytest.raises(RuleViolation) as refused:
            check_union_side(coverage, level, kind)
        assert refused.value.field == "org_id"


def test_an_enterprise_contract_covers_one_employer_and_a_regional_one_several():
    check_employers_covered("enterprise", 1)
    check_employers_covered("regional", 2)
    for coverage, n in (("enterprise", 2), ("industry", 1)):
        with pytest.raises(RuleViolation) as refused:
            check_employers_covered(coverage, n)
        assert refused.value.field == "employer_ids"
