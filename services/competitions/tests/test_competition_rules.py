"""Rules of contests, entries and judging, without I/O."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from competitions.domain.contests import CONTEST_KINDS, check_contest_kind, may_see_contest
from competitions.domain.scoring import format_points, judge_score, to_centipoints
from competitions.domain.teams import check_eligible
from unionops.auth import Principal
from unionops.problems import RuleViolation

CITY, DISTRICT, STREET, UNION = (uuid.uuid4() for _ in range(4))
OTHER_DISTRICT = uuid.uuid4()


def staff(org_id: uuid.UUID) -> Principal:
    return Principal(subject="s", name="s", role="staff", org_id=org_id)


def test_a_member_of_the_organisers_subtree_may_enter():
    check_eligible(DISTRICT, [CITY, DISTRICT, STREET, UNION])
    check_eligible(UNION, [CITY, DISTRICT, STREET, UNION])


def test_a_member_outside_the_organisers_subtree_may_not_enter():
    with pytest.raises(RuleViolation) as refused:
        check_eligible(OTHER_DISTRICT, [CITY, DISTRICT, STREET, UNION])
    assert refused.value.field == "member_id" and refused.value.status == 422


def test_scores_are_kept_as_exact_hundredths_of_a_point():
    assert judge_score(Decimal("87.5"), Decimal("100")) == (8750, 10000)
    assert judge_score(Decimal("0"), Decimal("9.99")) == (0, 999)
    assert judge_score(Decimal("9.99"), Decimal("9.99")) == (999, 999)
    assert to_centipoints(Decimal("1E+1"), field="score") == 1000


@pytest.mark.parametrize("score", ["-0.01", "100.01", "150"])
def test_a_score_outside_zero_to_full_marks_is_refused(score):
    with pytest.raises(RuleViolation) as refused:
        judge_score(Decimal(score), Decimal("100"))
    assert refused.value.field == "score" and refused.value.status == 422


def test_a_score_with_more_than_two_decimal_places_is_refused():
    with pytest.raises(RuleViolation) as refused:
        judge_score(Decimal("87.555"), Decimal("100"))
    assert refused.value.field == "score"


@pytest.mark.parametrize("max_score", ["0", "-10", "NaN", "Infinity"])
def test_full_marks_must_be_a_positive_number(max_score):
    with pytest.raises(RuleViolation) as refused:
        judge_score(Decimal("1"), Decimal(max_score))
    assert refused.value.field == "max_score"


def test_points_are_shown_with_two_decimal_places():
    assert format_points(8750) == "87.50"
    assert format_points(5) == "0.05"
    assert format_points(0) == "0.00"


def test_contest_kinds_are_the_federations():
    check_contest_kind("safety")
    with pytest.raises(RuleViolation) as refused:
        check_contest_kind("beauty")
    assert refused.value.field == "kind"
    assert CONTEST_KINDS["safety"] == "安康杯竞赛"


def test_organisers_and_units_below_see_a_contest_others_do_not():
    contest_path = [CITY, DISTRICT]
    assert may_see_contest(staff(CITY), DISTRICT, contest_path, [CITY])  # above the organiser
    assert may_see_contest(staff(DISTRICT), DISTRICT, contest_path, [CITY, DISTRICT])  # the organiser
    assert may_see_contest(staff(UNION), DISTRICT, contest_path, [CITY, DISTRICT, STREET, UNION])  # below
    assert not may_see_contest(staff(OTHER_DISTRICT), DISTRICT, contest_path, [CITY, OTHER_DISTRICT])
    assert not may_see_contest(staff(UNION), DISTRICT, contest_path, None)  # caller's unit not yet known
