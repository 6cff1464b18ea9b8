"""Judging arithmetic, without I/O: each test is named after the rule it checks; the property tests
hold for any scores hypothesis can think of."""
from __future__ import annotations

import random
import uuid
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from competitions.domain.scoring import (
    Competitor, Criterion, check_criteria, check_prize_rule, conflicted, final_score, missing_scores, prize_counts,
    rank, round_centipoints, team_score, trimmed, judge_total,
)
from unionops.problems import RuleViolation

THEORY = Criterion("t", "理论", "theory", 3000, 10000)
PRACTICE = Criterion("p", "实操", "practical", 7000, 10000)
CRITERIA = [THEORY, PRACTICE]


def sheet(points: int) -> dict[str, int]:
    """A judge giving the same score (centipoints of 100) on every criterion: total = points."""
    return {"t": points, "p": points}


def sheets(*totals: int) -> dict[str, dict[str, int]]:
    return {f"j{i:02d}": sheet(t) for i, t in enumerate(totals)}


# ---- rules, by example ----------------------------------------------------------------------

def test_highest_and_lowest_scores_are_dropped():
    result = final_score(CRITERIA, sheets(9000, 8000, 8500, 8200, 9900), trim_min_judges=5)
    assert result.exact == Fraction(9000 + 8500 + 8200, 3)
    assert result.final_centipoints == 8567
    assert set(result.judges_dropped) == {"j01", "j04"} and len(result.judges_counted) == 3


def test_with_fewer_judges_than_the_threshold_the_plain_mean_counts():
    result = final_score(CRITERIA, sheets(9000, 8000, 8500, 9900), trim_min_judges=5)
    assert result.exact == Fraction(9000 + 8000 + 8500 + 9900, 4) and result.judges_dropped == ()


def test_the_threshold_of_judges_is_configurable():
    assert final_score(CRITERIA, sheets(9000, 8000, 8500, 9900), trim_min_judges=4).exact == Fraction(8500 + 9000, 2)


def test_equal_extremes_are_dropped_only_once():
    result = final_score(CRITERIA, sheets(9000, 9000, 9000, 7000, 7000), trim_min_judges=5)
    assert result.exact == Fraction(9000 + 9000 + 7000, 3)


def test_criteria_are_weighted_on_a_hundred_point_scale():
    # 理论 18/20 weighs 30 %, 实操 45/50 weighs 70 %: 27 + 63 = 90 points.
    crit = [Criterion("t", "理论", "theory", 3000, 2000), Criterion("p", "实操", "practical", 7000, 5000)]
    total = judge_total("j", crit, {"t": 1800, "p": 4500})
    assert total.total == 9000 and total.practical == 6300


def test_the_final_score_is_rounded_half_up_to_hundredths_once():
    assert round_centipoints(Fraction(1, 2)) == 1 and round_centipoints(Fraction(49, 100)) == 0
    assert round_centipoints(Fraction(25001, 3)) == 8334  # 8333.67
    result = final_score(CRITERIA, {"a": sheet(8000), "b": sheet(8001)})
    assert result.exact == Fraction(16001, 2) and result.final_centipoints == 8001


def test_a_flag_is_raised_when_judges_disagree_widely():
    assert final_score(CRITERIA, sheets(9000, 7400), spread_flag_centipoints=1500).judges_disagree
    calm = final_score(CRITERIA, sheets(9000, 7500), spread_flag_centipoints=1500)
    assert not calm.judges_disagree and calm.spread_centipoints == 1500


def test_theory_at_most_30_percent():
    check_criteria(CRITERIA, skill=True, theory_cap_bp=3000)
    too_much = [Criterion("t", "理论", "theory", 3100, 100), Criterion("p", "实操", "practical", 6900, 100)]
    with pytest.raises(RuleViolation) as refused:
        check_criteria(too_much, skill=True, theory_cap_bp=3000)
    assert refused.value.kind == "theory-share" and "30%" in refused.value.message
    check_criteria(too_much, skill=False, theory_cap_bp=3000)  # a fun event is not bound by it
    check_criteria(too_much, skill=True, theory_cap_bp=4000)   # a city may set another cap


def test_weights_add_up_to_one_hundred_percent():
    with pytest.raises(RuleViolation) as refused:
        check_criteria([THEORY, Criterion("p", "实操", "practical", 6000, 100)], skill=True, theory_cap_bp=3000)
    assert refused.value.kind == "criteria-weights" and "90%" in refused.value.message
    with pytest.raises(RuleViolation):
        check_criteria([THEORY, THEORY], skill=False, theory_cap_bp=3000)
    with pytest.raises(RuleViolation):
        check_criteria([], skill=False, theory_cap_bp=3000)


def test_judge_from_the_same_unit_must_step_aside():
    unit, other = uuid.uuid4(), uuid.uuid4()
    panel = {"j1": {"union_id": unit}, "j2": {"union_id": other}, "j3": {"union_id": other}}
    stepped_aside = {j for j, judge in panel.items() if conflicted(judge, unit)}
    assert stepped_aside == {"j1"}
    entry = uuid.uuid4()
    # The conflicted judge owes nothing; the others owe every criterion.
    gaps = missing_scores(CRITERIA, list(panel), {("j2", "t"), ("j2", "p")}, entry_id=entry, conflicted=stepped_aside)
    assert {(g.judge_id, g.criterion) for g in gaps} == {("j3", "理论"), ("j3", "实操")}
    # The final score comes from the remaining judges only.
    assert final_score(CRITERIA, {"j2": sheet(8000), "j3": sheet(9000)}).exact == 8500
    only_conflicted = missing_scores(CRITERIA, ["j1"], set(), entry_id=entry, conflicted={"j1"})
    assert [(g.judge_id, g.criterion) for g in only_conflicted] == [(None, None)]


def test_no_missing_scores_when_every_eligible_judge_scored_everything():
    recorded = {(j, c.id) for j in ("a", "b") for c in CRITERIA}
    assert missing_scores(CRITERIA, ["a", "b"], recorded, entry_id=uuid.uuid4(), conflicted=set()) == []


def test_ties_go_to_the_higher_practical_score_then_the_shorter_time():
    a, b, c, d = (uuid.UUID(int=i) for i in (4, 3, 2, 1))
    ranked = rank([
        Competitor(a, 9000, 6000, 300_000),
        Competitor(b, 9000, 6300, 400_000),   # same total, better practical: ahead of a
        Competitor(c, 9000, 6000, 250_000),   # same total and practical, faster than a
        Competitor(d, 9000, 6000, None),      # no time recorded: after those with one
    ])
    assert [p.competitor.id for p in ranked] == [b, c, a, d]
    assert [p.rank for p in ranked] == [1, 2, 3, 4]


def test_a_complete_tie_is_settled_by_the_competitor_id_never_by_input_order():
    ids = [uuid.uuid4() for _ in range(5)]
    tied = [Competitor(i, 8000, 5000, 100) for i in ids]
    assert [p.competitor.id for p in rank(tied)] == sorted(ids, key=str)


def test_prize_tiers_by_count_and_by_share():
    assert prize_counts(25, basis="share", first=1000, second=2000, third=3000, excellence=0) == \
        {"first": 2, "second": 5, "third": 7, "excellence": 0}
    tiers = prize_counts(7, basis="count", first=1, second=2, third=3, excellence=5)
    ranked = rank([Competitor(uuid.uuid4(), 9000 - i, 0) for i in range(7)], tiers)
    assert [p.prize for p in ranked] == ["first", "second", "second", "third", "third", "third", "excellence"]
    with pytest.raises(RuleViolation):
        check_prize_rule(basis="share", first=5000, second=5000, third=1000, excellence=0)


def test_a_team_scores_the_sum_or_the_mean_of_its_members():
    assert team_score([8000, 9000, 8501], "sum") == 25501
    assert team_score([8000, 9000, 8501], "mean") == 8500  # 8500.33


# ---- properties -----------------------------------------------------------------------------

score = st.integers(min_value=0, max_value=10_000)
panels = st.lists(st.tuples(score, score), min_size=1, max_size=12)


def as_sheets(panel: list[tuple[int, int]]) -> dict[str, dict[str, int]]:
    return {f"judge-{i:02d}": {"t": t, "p": p} for i, (t, p) in enumerate(panel)}


@settings(max_examples=200, deadline=None)
@given(panels, st.randoms(use_true_random=False), st.integers(min_value=3, max_value=8))
def test_order_of_judges_never_changes_a_result(panel, rnd, n):
    items = list(as_sheets(panel).items())
    shuffled = items[:]
    rnd.shuffle(shuffled)
    assert final_score(CRITERIA, dict(items), trim_min_judges=n) == final_score(CRITERIA, dict(shuffled),
                                                                                trim_min_judges=n)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=9_000), min_size=1, max_size=12), st.integers(0, 1_000),
       st.integers(min_value=3, max_value=8))
def test_adding_a_constant_to_every_judge_shifts_the_result_by_that_constant(totals, k, n):
    """Dropping is applied exactly once: were it applied twice, or not at all on one side, a
    uniform shift would still shift the mean, but the kept set sizes below would differ."""
    before = final_score(CRITERIA, {f"j{i}": sheet(t) for i, t in enumerate(totals)}, trim_min_judges=n)
    after = final_score(CRITERIA, {f"j{i}": sheet(t + k) for i, t in enumerate(totals)}, trim_min_judges=n)
    assert after.exact == before.exact + k
    expected_kept = len(totals) - 2 if len(totals) >= n else len(totals)
    assert len(before.judges_counted) == expected_kept and len(before.judges_dropped) == len(totals) - expected_kept


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=5, max_size=12), st.integers(0, 10_000))
def test_with_enough_judges_an_outlier_cannot_move_the_result_beyond_the_trimmed_set(totals, outlier):
    """Change one judge to any value: the trimmed mean stays within the range of the others once
    their own extremes are gone — so one judge cannot carry a result."""
    base = {f"j{i}": sheet(t) for i, t in enumerate(totals)}
    moved = base | {"j0": sheet(outlier)}
    others = sorted(totals[1:])
    result = final_score(CRITERIA, moved, trim_min_judges=5).exact
    assert others[0] <= result <= others[-1]
    # And the trimmed mean is exactly the mean of the middle values.
    middle = sorted(t for t in [outlier] + totals[1:])[1:-1]
    assert result == Fraction(sum(middle), len(middle))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(8_000, 8_010), st.integers(5_000, 5_003),
                          st.one_of(st.none(), st.integers(1, 4))), min_size=1, max_size=15),
       st.randoms(use_true_random=False))
def test_ties_are_resolved_deterministically_whatever_the_input_order(rows, rnd):
    comps = [Competitor(uuid.UUID(int=i + 1), s, p, t) for i, (s, p, t) in enumerate(rows)]
    shuffled = comps[:]
    rnd.shuffle(shuffled)
    first, second = rank(comps, {"first": 1, "second": 2}), rank(shuffled, {"first": 1, "second": 2})
    assert [(p.rank, p.competitor.id, p.prize) for p in first] == [(p.rank, p.competitor.id, p.prize) for p in second]
    assert [p.rank for p in first] == list(range(1, len(comps) + 1))


@settings(max_examples=100, deadline=None)
@given(panels)
def test_trimming_keeps_at_least_one_judge_and_drops_none_or_exactly_two(panel):
    totals = [judge_total(j, CRITERIA, s) for j, s in as_sheets(panel).items()]
    for n in (3, 5):
        kept, dropped = trimmed(totals, n)
        assert kept and len(dropped) in (0, 2) and len(kept) + len(dropped) == len(totals)


def test_trimming_never_happens_below_three_judges_even_if_configured():
    totals = [judge_total(j, CRITERIA, s) for j, s in sheets(1000, 9000).items()]
    assert len(trimmed(totals, 1)[0]) == 2


def test_shuffled_judges_by_example():
    panel = sheets(7000, 9100, 8300, 8800, 6000, 9500)
    items = list(panel.items())
    random.Random(3).shuffle(items)
    assert final_score(CRITERIA, dict(items)) == final_score(CRITERIA, panel)
