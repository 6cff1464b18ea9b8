"""Rules of workers' congresses (pure): which union holds which congress, delegates' terms, a
session's votes on the day's electorate, 民主评议 ballots, proposals' deadlines."""
from datetime import date

import pytest

from membership.domain import congresses as rules
from unionops.problems import RuleViolation


def refused_field(call, *args) -> str:
    with pytest.raises(RuleViolation) as refused:
        call(*args)
    return refused.value.field


def test_an_employer_congress_covers_exactly_one_employer():
    rules.check_congress_union("employer", "grassroots", "enterprise_union", 1)
    assert refused_field(rules.check_congress_union, "employer", "grassroots", "enterprise_union", 2) == "employer_ids"


def test_a_regional_congress_belongs_to_a_street_or_joint_union_and_an_industry_one_to_an_industry_union():
    rules.check_congress_union("regional", "street", "street_union", 2)
    rules.check_congress_union("regional", "grassroots", "joint_grassroots_union", 3)
    rules.check_congress_union("industry", "district", "industry_union", 2)
    assert refused_field(rules.check_congress_union, "regional", "grassroots", "enterprise_union", 2) == "union_id"
    assert refused_field(rules.check_congress_union, "industry", "street", "street_union", 2) == "union_id"
    assert refused_field(rules.check_congress_union, "regional", "street", "street_union", 1) == "employer_ids"


def test_a_delegates_term_ends_after_it_starts_and_lasts_at_most_five_years():
    elected = date(2026, 11, 20)
    rules.check_term(date(2026, 12, 1), date(2031, 12, 1), elected)
    rules.check_term(date(2027, 2, 28), date(2032, 2, 28), elected)
    assert refused_field(rules.check_term, date(2026, 12, 1), date(2031, 12, 2), elected) == "term_end"
    assert refused_field(rules.check_term, date(2026, 12, 1), date(2026, 12, 1), elected) == "term_end"
    assert refused_field(rules.check_term, date(9999, 1, 1), date(9999, 12, 31), elected) == "term_start"
    leap = date(2028, 2, 29)
    rules.check_term(leap, date(2033, 2, 28), leap)
    assert refused_field(rules.check_term, leap, date(2033, 3, 1), leap) == "term_end"


def test_a_session_counts_its_quorum_and_votes_on_the_delegates_in_term():
    attendance, [rejected, adopted] = rules.session_votes(10, 7, [5, 6])
    assert attendance.quorate and (rejected.outcome, adopted.outcome) == ("rejected", "adopted")
    attendance, [vote] = rules.session_votes(9, 5, [5])
    assert not attendance.quorate and vote.outcome == "inquorate"
    assert refused_field(rules.session_votes, 0, 0, []) == "held_on"
    assert refused_field(rules.session_votes, 3, 4, []) == "present"
    assert refused_field(rules.session_votes, 3, 3, [1, 4]) == "resolutions.1.in_favour"


def test_democratic_evaluation_has_one_ballot_per_delegate_present_at_most():
    rules.check_evaluation(5, 3, 1, 1)
    assert refused_field(rules.check_evaluation, 5, 3, 2, 1) == "evaluation"


def test_a_proposal_is_due_its_congress_days_after_submission_and_late_only_after_that_day():
    due = rules.answer_due_on(date(2026, 11, 20), 30)
    assert due == date(2026, 12, 20)
    assert not rules.proposal_is_late(due, date(2026, 12, 20)) and rules.proposal_is_late(due, date(2026, 12, 21))
