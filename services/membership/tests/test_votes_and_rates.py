"""The congress's voting rule and the shape of the rights-protection rates (pure rules)."""
import pytest

from membership.api.bodies import RightsTargetsIn
from membership.domain.rights import MEASURES, Rate, rate_view
from membership.domain.votes import Vote
from unionops.problems import RuleViolation


def test_two_thirds_of_all_delegates_must_be_present():
    assert Vote(electorate=90, present=60, in_favour=60).quorate
    assert not Vote(electorate=90, present=59, in_favour=59).quorate
    assert Vote(electorate=90, present=59, in_favour=59).outcome == "inquorate"
    assert Vote(electorate=10, present=7, in_favour=6).quorate  # 21 >= 20


def test_more_than_half_of_all_delegates_not_of_those_present_must_be_in_favour():
    assert Vote(electorate=90, present=60, in_favour=46).outcome == "adopted"
    assert Vote(electorate=90, present=60, in_favour=45).outcome == "rejected"  # half is not more than half
    assert Vote(electorate=90, present=90, in_favour=45).outcome == "rejected"


@pytest.mark.parametrize("electorate,present,in_favour,field", [
    (0, 0, 0, "electorate"), (10, 11, 5, "present"), (10, 8, 9, "in_favour")])
def test_an_impossible_count_is_refused_naming_its_field(electorate, present, in_favour, field):
    with pytest.raises(RuleViolation) as refused:
        Vote(electorate=electorate, present=present, in_favour=in_favour)
    assert refused.value.field == field


def test_every_measure_can_be_given_a_target_and_no_other():
    assert set(RightsTargetsIn.model_fields) == set(MEASURES)
    with pytest.raises(ValueError):
        Rate("coverage_of_something_else", 1, 2)


def test_a_rate_meets_its_target_only_at_or_above_it_and_an_empty_base_has_no_rate():
    assert rate_view(Rate("congress", 1, 2), 50)["target_met"] is True
    assert rate_view(Rate("congress", 49, 100), 50)["target_met"] is False
    empty = rate_view(Rate("congress", 0, 0), 50)
    assert empty["percent"] is None and empty["target_met"] is None
    assert rate_view(Rate("congress", 1, 3), None) | {"percent": 33.33} == rate_view(Rate("congress", 1, 3), None)
