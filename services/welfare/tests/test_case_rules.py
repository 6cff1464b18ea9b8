"""Rules of the case workflow, 金秋助学 and the 12351 hotline, without I/O."""
from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime, timezone

import pytest

from unionops.problems import RuleViolation
from welfare.domain import cases as domain, golden_autumn, hotline
from welfare.domain.cases import AssistanceCase, KnownMember
from welfare.domain.working_days import WorkingCalendar

CITY, DISTRICT, STREET, UNION = (uuid.uuid4() for _ in range(4))
PATH = [CITY, DISTRICT, STREET, UNION]
# 2026: 1–7 October National Day, Saturday 10 October a working day (调休).
NATIONAL_DAY = WorkingCalendar.of([date(2026, 10, d) for d in range(1, 8)], [date(2026, 10, 10)])


def case(**changes) -> AssistanceCase:
    base = AssistanceCase(id=uuid.uuid4(), member_id=uuid.uuid4(), union_id=UNION, org_path=PATH, kind="living",
                          source="application", status="assessed", opened_on=date(2026, 3, 2), opened_by="opener",
                          assessed_by="assessor", proposed_amount_fen=200_000)
    return dataclasses.replace(base, **changes)


def member(**changes) -> KnownMember:
    base = KnownMember(member_id=uuid.uuid4(), union_id=UNION, union_name="机械厂工会", org_path=PATH, name="王秀英",
                       gender="female", is_migrant_worker=True, joined_on=date(2025, 11, 30))
    return dataclasses.replace(base, **changes)


def refusal(fn, *args, **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        fn(*args, **kwargs)
    return refused.value


# ---- the workflow --------------------------------------------------------------------------------

@pytest.mark.parametrize("approver", ["opener", "assessor"])
def test_approver_is_never_the_opener_or_assessor(approver):
    r = refusal(domain.check_decider, case(), role="staff", subject=approver, org_id=STREET)
    assert (r.status, r.kind) == (403, "four-eyes")
    domain.check_decider(case(), role="staff", subject="someone-else", org_id=STREET)


def test_the_district_rechecker_does_not_approve_either():
    r = refusal(domain.check_decider, case(kind="education", district_reviewed_by="district-officer"), role="staff",
                subject="district-officer", org_id=DISTRICT)
    assert r.kind == "four-eyes"


@pytest.mark.parametrize("org", [UNION, uuid.uuid4()])
def test_approval_comes_from_a_unit_above_the_cases_union(org):
    r = refusal(domain.check_decider, case(), role="staff", subject="chair", org_id=org)
    assert (r.status, r.kind) == (403, "approval-level")
    for above in (CITY, DISTRICT, STREET):
        domain.check_decider(case(), role="federation_admin", subject="chair", org_id=above)


def test_the_golden_autumn_recheck_is_the_districts_or_the_citys():
    for org in (STREET, UNION):
        r = refusal(domain.check_decider, case(kind="education"), role="staff", subject="x", org_id=org, district=True)
        assert (r.status, r.kind) == (403, "district-review-level")
    domain.check_decider(case(kind="education"), role="staff", subject="x", org_id=DISTRICT, district=True)


@pytest.mark.parametrize("role", ["service", "auditor", "member"])
def test_machine_accounts_and_readers_never_decide(role):
    assert refusal(domain.check_decider, case(), role=role, subject="x", org_id=CITY).kind == "forbidden-role"


def test_a_case_moves_only_along_the_workflow():
    assert domain.assess_status(case(status="opened")) == "assessed"
    assert refusal(domain.assess_status, case(status="approved")).status == 409
    domain.decision_ready(case(status="assessed"), "审批")
    for status in ("opened", "approved", "paid", "closed", "rejected"):
        assert refusal(domain.decision_ready, case(status=status), "审批").kind == "case-status"
    assert domain.pay_ready(case(status="approved", approved_amount_fen=500)) == 500
    assert refusal(domain.pay_ready, case(status="assessed")).kind == "case-status"
    assert domain.close_outcome(case(status="paid")) == "paid"
    assert domain.close_outcome(case(status="rejected")) == "rejected"
    assert refusal(domain.close_outcome, case(status="approved", approved_amount_fen=500)).status == 409
    for status in ("opened", "assessed", "district_reviewed", "approved"):
        domain.withdraw_ready(case(status=status))
    for status in ("paid", "rejected", "closed"):
        assert refusal(domain.withdraw_ready, case(status=status)).kind == "case-status"


def test_education_is_rechecked_by_the_district_before_it_is_decided():
    r = refusal(domain.decision_ready, case(kind="education", status="assessed"), "审批")
    assert "区总工会复核" in r.message
    assert domain.district_review_status(case(kind="education", status="assessed")) == "district_reviewed"
    domain.decision_ready(case(kind="education", status="district_reviewed"), "审批")
    assert refusal(domain.district_review_status, case(kind="living")).kind == "case-status"


def test_legal_and_employment_aid_may_carry_no_money_and_are_closed_as_referred():
    for kind in ("legal", "employment"):
        assert domain.check_proposed_amount(kind, 0) == 0
        assert not domain.needs_hardship_file(kind, 0)
        assert domain.needs_hardship_file(kind, 10_000)
    approved = case(kind="legal", status="approved", approved_amount_fen=0)
    assert domain.close_outcome(approved) == "referred"
    assert refusal(domain.pay_ready, approved).status == 409


@pytest.mark.parametrize("kind", sorted(domain.MONEY_KINDS))
def test_no_payment_without_a_hardship_file(kind):
    """先建档、后帮扶: every money kind needs the file, whatever the amount."""
    assert domain.needs_hardship_file(kind, 1)
    assert refusal(domain.check_proposed_amount, kind, 0).field == "proposed_amount_fen"
    r = refusal(domain.check_hardship_file, False)
    assert r.kind == "no-hardship-file" and "先建档、后帮扶" in r.message
    domain.check_hardship_file(True)


def test_migrant_worker_is_eligible_after_the_configured_period():
    m = member(joined_on=date(2025, 11, 30))
    r = refusal(domain.check_migrant_waiting_period, m, today=date(2026, 11, 29), min_months=12)
    assert r.kind == "migrant-worker-waiting-period" and "2026-11-30" in r.message
    domain.check_migrant_waiting_period(m, today=date(2026, 11, 30), min_months=12)
    # Configurable: a city with a six-month rule.
    domain.check_migrant_waiting_period(m, today=date(2026, 5, 30), min_months=6)
    # Others are not waiting at all.
    domain.check_migrant_waiting_period(member(is_migrant_worker=False, joined_on=date(2026, 11, 1)),
                                        today=date(2026, 11, 2), min_months=12)


def test_the_events_carry_no_findings_and_rejections_only_a_category():
    c = case()
    assert "findings" not in domain.assessed_event(c, 200_000, date(2026, 3, 3)).model_dump()
    assert domain.rejected_event(c, "insufficient_evidence", date(2026, 3, 4)).reason == "insufficient_evidence"
    assert set(domain.REJECT_REASONS) == {"not_eligible", "no_hardship_file", "duplicate", "insufficient_evidence",
                                          "over_cap", "other"}


# ---- working days ----------------------------------------------------------------------------------

def test_working_days_skip_weekends_and_holidays():
    plain = WorkingCalendar()
    assert plain.add(date(2026, 11, 20), 1) == date(2026, 11, 23)  # Friday → Monday
    assert plain.add(date(2026, 11, 23), 5) == date(2026, 11, 30)
    assert NATIONAL_DAY.add(date(2026, 9, 30), 1) == date(2026, 10, 8)


def test_a_weekend_day_moved_into_the_working_week_counts():
    assert NATIONAL_DAY.is_working_day(date(2026, 10, 10))
    assert NATIONAL_DAY.add(date(2026, 10, 9), 1) == date(2026, 10, 10)


# ---- 金秋助学 ------------------------------------------------------------------------------------

def test_payment_waits_for_five_working_days_of_public_notice():
    ends_on, payable_from = golden_autumn.notice_period(date(2026, 11, 20), WorkingCalendar(), 5)  # a Friday
    assert (ends_on, payable_from) == (date(2026, 11, 27), date(2026, 11, 28))
    r = refusal(golden_autumn.check_notice_over, (ends_on, payable_from), date(2026, 11, 27))
    assert r.kind == "public-notice" and "2026-11-28" in r.message
    golden_autumn.check_notice_over((ends_on, payable_from), date(2026, 11, 28))
    assert refusal(golden_autumn.check_notice_over, None, date(2027, 1, 1)).kind == "public-notice"


def test_public_notice_skips_the_holidays():
    ends_on, _ = golden_autumn.notice_period(date(2026, 9, 30), NATIONAL_DAY, 5)
    assert ends_on == date(2026, 10, 13)  # 8, 9, 10 (调休), 12, 13


def test_a_student_aided_by_the_government_is_not_aided_twice():
    student = golden_autumn.Student(name="李小明", id_number="11010519491231002X", school_level="undergraduate",
                                    aided_by_government=True)
    assert refusal(golden_autumn.check_not_aided_by_government, student).kind == "aided-by-government"


def test_golden_autumn_grant_is_the_tier_of_the_school_level():
    table = golden_autumn.tiers()
    assert set(table) == set(golden_autumn.SCHOOL_LEVELS) and all(type(v) is int for v in table.values())
    tier = golden_autumn.tier_amount("senior_high", table)
    assert golden_autumn.check_assessed_amount(None, tier) == tier
    assert refusal(golden_autumn.check_assessed_amount, tier + 1, tier).kind == "golden-autumn-tier"
    assert golden_autumn.tiers({"primary": 80_000})["primary"] == 80_000
    with pytest.raises(ValueError):
        golden_autumn.tiers({"kindergarten": 1})


# ---- 12351 hotline -------------------------------------------------------------------------------

def test_hotline_deadlines_count_working_days_per_category():
    deadlines = {"general": 3, "difficult": 7, "complex": 15}
    # Friday 20 November 2026, 18:00 Beijing time (10:00 UTC).
    called = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    due = {c: hotline.due_at(called, c, deadlines=deadlines, calendar=WorkingCalendar(), tz="Asia/Shanghai")
           for c in deadlines}
    assert due["general"].date() == date(2026, 11, 25)
    assert due["difficult"].date() == date(2026, 12, 1)
    assert due["complex"].date() == date(2026, 12, 11)
    assert due["general"].hour == 23 and due["general"].utcoffset().total_seconds() == 8 * 3600


def test_a_ticket_is_rated_once_and_only_after_resolution():
    assert refusal(hotline.check_rating, "assigned", None).kind == "ticket-not-resolved"
    assert refusal(hotline.check_rating, "resolved", 4).kind == "already-rated"
    hotline.check_rating("resolved", None)
