"""The pure rules of training: the completion rule, who may be enrolled, the lifecycle, dates."""
from __future__ import annotations

from datetime import date

import pytest

from competitions.domain.training import (
    CompletionRule, certificate_prefix, check_dates_not_past, check_transition, enrolment_refusal,
)
from unionops.problems import RuleViolation


@pytest.mark.parametrize("attended, passed, done", [(2, None, True), (3, None, True), (1, None, False), (0, None, False)])
def test_a_member_completes_after_attending_at_least_the_required_sessions(attended, passed, done):
    assert CompletionRule(sessions=3, min_sessions=2).completed(attended, passed) is done


@pytest.mark.parametrize("passed, done", [(True, True), (False, False), (None, False)])
def test_where_an_assessment_is_required_only_a_pass_completes(passed, done):
    assert CompletionRule(sessions=3, min_sessions=2, assessment_required=True).completed(3, passed) is done


@pytest.mark.parametrize("sessions, minimum", [(3, 4), (3, 0)])
def test_the_required_sessions_lie_between_one_and_all_sessions(sessions, minimum):
    with pytest.raises(RuleViolation) as refused:
        CompletionRule(sessions=sessions, min_sessions=minimum).check()
    assert refused.value.field == "min_sessions"


def _refusal(**overrides):
    facts = dict(known=True, in_programme_subtree=True, status="active", status_reason=None, kind="union_officer",
                 unemployed_only=False, already_enrolled=False)
    return enrolment_refusal(**facts | overrides)


def test_an_active_member_of_the_organisers_subtree_may_be_enrolled_once():
    assert _refusal() is None
    assert _refusal(already_enrolled=True) == "already_enrolled"
    assert _refusal(in_programme_subtree=False) == "out_of_scope"
    assert _refusal(known=False) == "not_found"


def test_a_retained_member_takes_only_job_skills_and_only_when_retained_as_unemployed():
    assert _refusal(status="retained", status_reason="retired") == "not_active"
    assert _refusal(status="retained", status_reason="unemployed") == "not_active"
    assert _refusal(status="retained", status_reason="unemployed", kind="job_skills") is None
    assert _refusal(status="retained", status_reason="retired", kind="job_skills") == "not_active"


def test_a_programme_for_the_unemployed_refuses_members_in_work():
    assert _refusal(kind="job_skills", unemployed_only=True) == "not_unemployed"
    assert _refusal(kind="job_skills", unemployed_only=True, status="retained", status_reason="unemployed") is None


def test_a_programme_moves_one_step_at_a_time():
    check_transition("draft", "open")
    check_transition("running", "finished")
    with pytest.raises(RuleViolation) as refused:
        check_transition("open", "finished")
    assert refused.value.status == 409 and refused.value.kind == "illegal-transition"


def test_a_programme_wholly_in_the_past_cannot_open_but_one_ending_today_can():
    check_dates_not_past(date(2026, 5, 15), date(2026, 5, 15))
    with pytest.raises(RuleViolation) as refused:
        check_dates_not_past(date(2026, 5, 14), date(2026, 5, 15))
    assert refused.value.field == "ends_on" and refused.value.kind == "training-dates-past"


def test_certificate_numbers_name_the_year_and_the_kind():
    assert certificate_prefix("bargaining_instructor", 2026) == "PX-2026-XS-"
