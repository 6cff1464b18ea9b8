"""Rules of labour-dispute mediation (劳动争议调解) and legal aid, without I/O: the 15 days of
劳动争议调解仲裁法 Art. 14, collective disputes, who may apply, referral and legal aid outcomes."""
from __future__ import annotations

import dataclasses
import uuid
from datetime import date, timedelta

import pytest

from unionops.problems import RuleViolation
from welfare.domain import cases, disputes as domain

APPLIED = date(2026, 3, 2)
TODAY = date(2026, 3, 20)


def application(**changes) -> domain.Application:
    base = domain.Application(unit_id=uuid.uuid4(), application_form="written", applied_on=APPLIED,
                              member_id=uuid.uuid4(), worker_name=None, employer_name="示例建筑劳务有限公司",
                              employer_credit_code=None, kind="pay", workers_concerned=1, claim="拖欠工资三个月")
    return dataclasses.replace(base, **changes)


def test_the_fifteen_days_count_from_the_day_after_the_application_and_arbitration_opens_the_day_after():
    assert domain.mediation_ends_on(APPLIED) == date(2026, 3, 17)
    assert domain.arbitration_open_from(APPLIED, "mediating", None) == date(2026, 3, 18)
    assert not domain.arbitration_open(APPLIED, "mediating", None, date(2026, 3, 17))
    assert domain.arbitration_open(APPLIED, "mediating", None, date(2026, 3, 18))


def test_an_agreement_stops_arbitration_from_opening():
    assert domain.arbitration_open_from(APPLIED, "agreed", None) is None
    assert not domain.arbitration_open(APPLIED, "agreed", None, APPLIED + timedelta(days=400))


def test_a_failure_before_day_fifteen_opens_arbitration_at_once_and_a_later_one_keeps_the_fifteen_days():
    assert domain.arbitration_open_from(APPLIED, "failed", date(2026, 3, 5)) == date(2026, 3, 5)
    assert domain.arbitration_open(APPLIED, "failed", date(2026, 3, 5), date(2026, 3, 5))
    assert domain.arbitration_open_from(APPLIED, "failed", date(2026, 3, 25)) == date(2026, 3, 18)


def test_ten_or_more_workers_make_a_collective_dispute():
    assert not domain.is_collective(9)
    assert domain.is_collective(10)


def test_the_worker_is_a_member_or_a_named_non_member_never_both_nor_neither():
    domain.check_application(application(), unit_level="grassroots", today=TODAY)
    domain.check_application(application(member_id=None, worker_name="王建国"), unit_level="street", today=TODAY)
    for changes in ({"member_id": None}, {"worker_name": "王建国"}):
        with pytest.raises(RuleViolation) as refused:
            domain.check_application(application(**changes), unit_level="grassroots", today=TODAY)
        assert refused.value.field == "member_id"


def test_disputes_are_mediated_at_a_grassroots_or_street_union_only():
    for level in ("city", "district"):
        with pytest.raises(RuleViolation) as refused:
            domain.check_application(application(), unit_level=level, today=TODAY)
        assert refused.value.field == "unit_id"


def test_an_application_is_not_dated_in_the_future_nor_back_beyond_thirty_days():
    for applied_on in (TODAY + timedelta(days=1), TODAY - timedelta(days=domain.APPLICATION_BACKDATE_MAX_DAYS + 1)):
        with pytest.raises(RuleViolation) as refused:
            domain.check_application(application(applied_on=applied_on), unit_level="grassroots", today=TODAY)
        assert refused.value.field == "applied_on"


def test_a_credit_code_is_checked_by_its_check_character():
    assert domain.credit_code(" 91110000600037341l ") == "91110000600037341L"
    assert domain.credit_code(None) is None
    with pytest.raises(RuleViolation) as refused:
        domain.credit_code("91110000600037341A")
    assert refused.value.field == "employer_credit_code"


def test_steps_are_taken_only_in_mediation_and_dated_between_the_application_and_today():
    domain.check_mediating("mediating", "记录调解")
    for status in ("agreed", "failed"):
        with pytest.raises(RuleViolation) as refused:
            domain.check_mediating(status, "记录调解")
        assert refused.value.status == 409
    with pytest.raises(RuleViolation) as refused:
        domain.check_step_date(APPLIED - timedelta(days=1), APPLIED, TODAY, field="held_on", what="调解日期")
    assert refused.value.field == "held_on"


def test_legal_aid_is_for_a_member_once_and_not_after_an_agreement():
    domain.check_referral("failed", uuid.uuid4(), False)
    domain.check_referral("mediating", uuid.uuid4(), False)
    with pytest.raises(RuleViolation) as refused:
        domain.check_referral("failed", None, False)
    assert refused.value.field == "member_id"
    for status, referred in (("agreed", False), ("failed", True)):
        with pytest.raises(RuleViolation) as refused:
            domain.check_referral(status, uuid.uuid4(), referred)
        assert refused.value.status == 409


def test_representation_has_a_result_advice_and_withdrawal_have_none():
    domain.check_legal_aid_outcome("arbitration", "won")
    domain.check_legal_aid_outcome("advice", None)
    for form, result in (("litigation", None), ("advice", "won"), ("withdrawn", "lost")):
        with pytest.raises(RuleViolation) as refused:
            domain.check_legal_aid_outcome(form, result)
        assert refused.value.field == "result"
    assert domain.legal_aid_case_outcome("withdrawn") == "withdrawn"
    assert domain.legal_aid_case_outcome("arbitration") == "referred"


def test_legal_aid_needs_no_hardship_file_when_it_carries_no_money():
    assert "legal" not in cases.MONEY_KINDS
    assert not cases.needs_hardship_file("legal", 0)
