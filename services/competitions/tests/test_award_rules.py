"""Rules of 安康杯, nomination quotas and rationalisation proposals, without I/O."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from competitions.domain.awards import (
    DEFAULT_QUOTAS, ChecklistItem, NomineeAttributes, QuotasNotMet, ankang_total, check_checklist, check_no_repeat,
    check_quotas, check_threshold, quota_report, quotas_for,
)
from competitions.domain.proposals import (
    DEFAULT_REWARDS_FEN, add_months, answer_due_on, answer_is_late, check_answer, check_step, check_submitted_on,
    is_overdue, reward_fen,
)
from unionops.problems import RuleViolation

ITEMS = [ChecklistItem("A1", "安全生产责任制", 4000), ChecklistItem("A2", "隐患排查治理", 3500),
         ChecklistItem("A3", "职工安全培训", 2500)]


# ---- 安康杯 ---------------------------------------------------------------------------------------

def test_ankang_cup_needs_the_threshold():
    assert ankang_total(ITEMS, {"A1": 4000, "A2": 3500, "A3": 1500}, threshold_cp=9000) == 9000
    with pytest.raises(RuleViolation) as refused:
        ankang_total(ITEMS, {"A1": 4000, "A2": 3500, "A3": 1499}, threshold_cp=9000)
    assert refused.value.kind == "ankang-below-threshold" and "89.99" in refused.value.message


def test_ankang_cup_needs_every_item_scored():
    with pytest.raises(RuleViolation) as refused:
        ankang_total(ITEMS, {"A1": 4000, "A2": 3500}, threshold_cp=5000)
    assert refused.value.kind == "ankang-incomplete" and "职工安全培训" in refused.value.message


@pytest.mark.parametrize("points", [90, 92.5, 95])
def test_the_ankang_threshold_lies_between_90_and_95(points):
    check_threshold(int(points * 100), min_points=90, max_points=95)


@pytest.mark.parametrize("points", [89.99, 95.01, 60])
def test_an_ankang_threshold_outside_90_to_95_is_refused(points):
    with pytest.raises(RuleViolation) as refused:
        check_threshold(round(points * 100), min_points=90, max_points=95)
    assert refused.value.field == "threshold"


def test_the_checklist_adds_up_to_full_marks_with_distinct_items():
    check_checklist(ITEMS, full_marks_points=100)
    with pytest.raises(RuleViolation, match="100"):
        check_checklist(ITEMS[:2], full_marks_points=100)
    with pytest.raises(RuleViolation) as dup:
        check_checklist([*ITEMS, ChecklistItem("A1", "重复", 0)], full_marks_points=100)
    assert dup.value.kind == "duplicate-item"


def test_no_repeat_ankang_title_within_five_years():
    with pytest.raises(RuleViolation) as refused:
        check_no_repeat(2025, [2016, 2021], no_repeat_years=5)
    assert refused.value.status == 409 and refused.value.kind == "ankang-repeat"
    assert "2021" in refused.value.message                  # names the year it was last won
    check_no_repeat(2026, [2016, 2021], no_repeat_years=5)  # five years later it may win again
    with pytest.raises(RuleViolation):
        check_no_repeat(2021, [2021], no_repeat_years=5)    # nor twice in a year
    with pytest.raises(RuleViolation, match="2024"):        # a year granted late still counts
        check_no_repeat(2022, [2024], no_repeat_years=5)


# ---- nomination quotas ----------------------------------------------------------------------------

def person(front_line=False, migrant=False, head=False, woman=False) -> NomineeAttributes:
    return NomineeAttributes(front_line, migrant, head, woman)


def balanced(n: int = 20) -> list[NomineeAttributes]:
    """7 of 20 front-line (35 %), 2 migrant (10 %), 3 unit heads (15 %), 4 women (20 %): every
    default quota exactly at its bound."""
    return [person(front_line=i < 7, migrant=i < 2, head=17 <= i, woman=7 <= i < 11) for i in range(n)]


def test_nomination_batch_respects_the_quotas():
    report = check_quotas(balanced(), DEFAULT_QUOTAS["may_day_medal"])
    assert all(c.holds for c in report) and len(report) == 4


def test_a_batch_breaking_quotas_is_refused_with_the_numbers():
    nominees = balanced()
    nominees[0] = person(migrant=True)                          # 6 front-line of 20
    nominees[5] = person(front_line=True, head=True)            # 4 unit heads of 20
    with pytest.raises(QuotasNotMet) as refused:
        check_quotas(nominees, DEFAULT_QUOTAS["may_day_medal"])
    failing = {c.attribute: c for c in refused.value.failing}
    assert set(failing) == {"front_line", "unit_head"}
    assert (failing["front_line"].count, failing["front_line"].total, failing["front_line"].share) == (6, 20, "30.0%")
    assert (failing["unit_head"].count, failing["unit_head"].percent) == (4, 15)
    assert "一线职工（产业工人） 6/20 = 30.0%，须 ≥ 35%" in refused.value.message
    problem = refused.value.to_problem().to_dict()
    assert problem["type"] == "/problems/nomination-quota" and len(problem["quotas"]) == 2


def test_an_empty_batch_cannot_be_submitted():
    with pytest.raises(RuleViolation) as refused:
        check_quotas([], DEFAULT_QUOTAS["model_worker"])
    assert refused.value.kind == "nomination-empty"


def test_quotas_are_configurable_per_award():
    assert quotas_for("worker_pioneer", {}) == {"front_line": {"min": 35}}
    assert quotas_for("may_day_medal", {"may_day_medal": {"woman": {"min": 30}}}) == {"woman": {"min": 30}}
    with pytest.raises(ValueError):
        quotas_for("may_day_medal", {"may_day_medal": {"tall": {"min": 30}}})


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()), min_size=1, max_size=60),
       st.integers(0, 100))
def test_a_quota_holds_exactly_when_the_share_meets_its_bound(flags, percent):
    nominees = [NomineeAttributes(*f) for f in flags]
    [at_least] = quota_report(nominees, {"woman": {"min": percent}})
    [at_most] = quota_report(nominees, {"woman": {"max": percent}})
    women = sum(f[3] for f in flags)
    assert at_least.holds == (women / len(flags) * 100 >= percent - 1e-9)
    assert at_most.holds == (women / len(flags) * 100 <= percent + 1e-9)
    assert at_least.holds or at_most.holds


# ---- 合理化建议 ------------------------------------------------------------------------------------

def test_proposal_is_answered_within_its_deadline():
    due = answer_due_on(date(2025, 3, 10), major=False, months=1, major_months=3)
    assert due == date(2025, 4, 10)
    assert answer_due_on(date(2025, 3, 10), major=False, months=2, major_months=3) == date(2025, 5, 10)
    assert not answer_is_late(None, None, due, date(2025, 4, 10))   # on the due date: in time
    assert answer_is_late(None, None, due, date(2025, 4, 11))


def test_major_proposals_have_three_months():
    assert answer_due_on(date(2025, 11, 30), major=True, months=1, major_months=3) == date(2026, 2, 28)


def test_a_month_later_is_the_months_last_day_when_the_day_is_missing():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2025, 12, 15), 1) == date(2026, 1, 15)


def test_overdue_proposals_are_listed():
    due = date(2025, 4, 10)
    assert is_overdue(None, due, date(2025, 4, 11))
    assert not is_overdue(None, due, date(2025, 4, 10))
    assert not is_overdue(date(2025, 4, 20), due, date(2025, 5, 1))   # answered, even late: not overdue


def test_a_final_answer_after_under_study_keeps_the_first_answers_lateness():
    check_answer("under_study", "adopted")
    assert answer_is_late(date(2025, 4, 1), False, date(2025, 4, 10), date(2025, 6, 1)) is False
    assert answer_is_late(date(2025, 4, 12), True, date(2025, 4, 10), date(2025, 6, 1)) is True


@pytest.mark.parametrize("status,outcome", [("adopted", "adopted"), ("not_adopted", "adopted"),
                                            ("under_study", "under_study"), ("rewarded", "not_adopted")])
def test_a_proposal_is_answered_once(status, outcome):
    with pytest.raises(RuleViolation) as refused:
        check_answer(status, outcome)
    assert refused.value.status == 409


def test_adopted_then_implemented_then_rewarded():
    check_step("adopted", "adopted", "")
    with pytest.raises(RuleViolation):
        check_step("not_adopted", "adopted", "只有已采纳的建议才能登记落实")


def test_rewards_are_graded_in_fen_and_configurable():
    assert [reward_fen(g, {}) for g in ("first", "second", "third", "encouragement")] == [
        200_000, 100_000, 50_000, 20_000]
    assert reward_fen("first", {"first": 500_000}) == 500_000 and set(DEFAULT_REWARDS_FEN) == {
        "first", "second", "third", "encouragement"}


def test_a_member_submits_today_and_staff_may_date_a_paper_proposal_back():
    today = date(2025, 6, 1)
    check_submitted_on(today, today, by_member=True, backdate_days=183)
    check_submitted_on(date(2025, 3, 1), today, by_member=False, backdate_days=183)
    for when, by_member in ((date(2025, 5, 1), True), (date(2025, 6, 2), False), (date(2024, 6, 1), False)):
        with pytest.raises(RuleViolation) as refused:
            check_submitted_on(when, today, by_member=by_member, backdate_days=183)
        assert refused.value.field == "submitted_on"
