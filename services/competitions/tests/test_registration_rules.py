"""Rules of contests and team registration (seed 001, plan 3), without I/O. The waiting list under
real transactions and two units racing for the last place are in
tests/integration/test_contest_registration.py."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from competitions.domain.contests import (
    BEIJING, check_events, check_registration_open, check_transition, check_window, check_window_not_past, in_beijing,
)
from competitions.domain.teams import (
    SEED_001_TEAM_RULES, TeamMemberCandidate, TeamRules, check_team_members, check_team_shape, check_team_women,
    check_teams_per_unit, check_unit_in_contest, place_for_new_team, promotions,
)
from unionops.problems import RuleViolation

CITY, PARK, UNIT, OTHER_UNIT = (uuid.uuid4() for _ in range(4))
UNIT_PATH = (CITY, PARK, UNIT)


def person(*, leader: bool = False, female: bool = False, path=UNIT_PATH, status: str = "active"):
    return TeamMemberCandidate(member_id=uuid.uuid4(), is_leader=leader, gender="female" if female else "male",
                               org_path=path, status=status)


def seed_team(size: int = 4) -> list[TeamMemberCandidate]:
    return [person(leader=True), person(female=True)] + [person() for _ in range(size - 2)]


def refused(check, *args) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        check(*args)
    return caught.value


def test_seed_001_defaults_are_four_people_one_woman_no_cap():
    assert (SEED_001_TEAM_RULES.min_team_size, SEED_001_TEAM_RULES.min_women) == (4, 1)
    assert SEED_001_TEAM_RULES.team_cap is None


def test_team_needs_at_least_four_members():
    check_team_shape(SEED_001_TEAM_RULES, seed_team(4))
    assert refused(check_team_shape, SEED_001_TEAM_RULES, seed_team(3)).kind == "team-too-small"
    check_team_shape(TeamRules(min_team_size=3), seed_team(3))


def test_team_may_be_capped_in_size():
    assert refused(check_team_shape, TeamRules(max_team_size=5), seed_team(6)).kind == "team-too-large"


def test_team_needs_a_woman():
    check_team_women(SEED_001_TEAM_RULES, seed_team())
    men = [person(leader=True)] + [person() for _ in range(4)]
    violation = refused(check_team_women, SEED_001_TEAM_RULES, men)
    assert violation.kind == "no-woman" and violation.field == "members" and "女职工" in violation.message
    check_team_women(TeamRules(min_women=0), men)
    assert refused(check_team_women, TeamRules(min_women=2), seed_team()).kind == "no-woman"


def test_a_womans_gender_comes_from_the_projection_not_the_form():
    unknown_gender = [TeamMemberCandidate(member_id=uuid.uuid4(), is_leader=i == 0) for i in range(4)]
    assert refused(check_team_women, SEED_001_TEAM_RULES, unknown_gender).kind == "no-woman"


def test_team_has_exactly_one_leader():
    no_leader = [person(female=True)] + [person() for _ in range(3)]
    assert refused(check_team_shape, SEED_001_TEAM_RULES, no_leader).kind == "leader-count"
    two_leaders = [person(leader=True), person(leader=True, female=True), person(), person()]
    assert refused(check_team_shape, SEED_001_TEAM_RULES, two_leaders).kind == "leader-count"


def test_a_person_is_listed_once_in_a_team():
    team = seed_team()
    assert refused(check_team_shape, SEED_001_TEAM_RULES, team + [team[2]]).kind == "duplicate-member"


def test_only_known_active_members_are_fielded():
    unknown = TeamMemberCandidate(member_id=uuid.uuid4(), is_leader=False)
    assert refused(check_team_members, PARK, UNIT, seed_team(3) + [unknown]).kind == "not-a-member"
    retained = person(status="retained")
    assert refused(check_team_members, PARK, UNIT, seed_team(3) + [retained]).kind == "not-a-member"


def test_members_come_from_the_contests_and_the_registering_units_subtree():
    check_team_members(PARK, UNIT, seed_team())
    neighbour = person(path=(CITY, PARK, OTHER_UNIT))
    assert refused(check_team_members, PARK, UNIT, seed_team(3) + [neighbour]).kind == "out-of-subtree"
    outsider = person(path=(CITY, uuid.uuid4(), UNIT))
    assert refused(check_team_members, PARK, UNIT, seed_team(3) + [outsider]).kind == "out-of-subtree"


def test_the_registering_unit_lies_in_the_contests_subtree():
    check_unit_in_contest(PARK, UNIT_PATH)
    assert refused(check_unit_in_contest, PARK, (CITY, uuid.uuid4())).kind == "out-of-subtree"


def test_a_unit_may_field_a_limited_number_of_teams():
    check_teams_per_unit(TeamRules(max_teams_per_unit=1), 0)
    assert refused(check_teams_per_unit, TeamRules(max_teams_per_unit=1), 1).kind == "teams-per-unit"
    check_teams_per_unit(TeamRules(), 7)


def test_registration_only_while_open_and_inside_the_window():
    now = datetime(2025, 6, 10, 12, tzinfo=BEIJING)
    opens, closes = datetime(2025, 6, 8, tzinfo=BEIJING), datetime(2025, 6, 22, tzinfo=BEIJING)
    check_registration_open("open", opens, closes, now)
    for status in ("draft", "closed", "judging", "published"):
        assert refused(check_registration_open, status, opens, closes, now).kind == "registration-closed"
    assert refused(check_registration_open, "open", opens, closes, opens - timedelta(seconds=1)).kind \
        == "registration-closed"
    assert refused(check_registration_open, "open", opens, closes, closes).kind == "registration-closed"


def test_the_window_is_beijing_time():
    assert in_beijing(datetime(2025, 6, 8)).utcoffset() == timedelta(hours=8)
    assert in_beijing(datetime(2025, 6, 7, 16, tzinfo=timezone.utc)) == datetime(2025, 6, 8, tzinfo=BEIJING)
    # 6月21日 24:00 北京时间 is still 6月21日 16:00 UTC: the deadline is not shifted by the server's zone.
    closes = in_beijing(datetime(2025, 6, 22))
    check_registration_open("open", None, closes, datetime(2025, 6, 21, 15, 59, tzinfo=timezone.utc))
    assert refused(check_registration_open, "open", None, closes,
                   datetime(2025, 6, 21, 16, tzinfo=timezone.utc)).kind == "registration-closed"


def test_opening_needs_a_window_that_ends_after_it_starts():
    opens = datetime(2025, 6, 8, tzinfo=BEIJING)
    check_window(opens, opens + timedelta(days=14))
    assert refused(check_window, None, opens).kind == "registration-window"
    assert refused(check_window, opens, opens).kind == "registration-window"


def test_a_window_whose_last_beijing_day_is_before_today_is_wholly_in_the_past():
    today = datetime(2025, 6, 10).date()
    check_window_not_past(datetime(2025, 6, 10, 0, 0, 1, tzinfo=BEIJING), today)
    check_window_not_past(datetime(2025, 6, 9, 16, 1, tzinfo=timezone.utc), today)    # 00:01 北京时间 on the 10th
    assert refused(check_window_not_past, datetime(2025, 6, 10, tzinfo=BEIJING), today).kind \
        == "registration-window-past"                                                  # ends at 00:00: the 9th was its last day
    assert refused(check_window_not_past, datetime(2025, 6, 9, 15, 59, tzinfo=timezone.utc), today).kind \
        == "registration-window-past"


def test_a_contest_moves_draft_open_closed_judging_published():
    for current, target in (("draft", "open"), ("open", "closed"), ("closed", "judging"), ("judging", "published")):
        check_transition(current, target)
    for current, target in (("draft", "closed"), ("open", "judging"), ("published", "open"), ("closed", "open"),
                            ("open", "open")):
        violation = refused(check_transition, current, target)
        assert violation.kind == "illegal-transition" and violation.status == 409
    assert refused(check_transition, "draft", "cancelled").kind == "unknown-status"


def test_events_are_skill_or_fun_and_named_once():
    check_events([("电工技能", "skill"), ("拔河", "fun")])
    assert refused(check_events, [("拔河", "fun"), ("拔河", "fun")]).kind == "duplicate-event"
    assert refused(check_events, [("演讲", "speech")]).field == "events.0.kind"


def test_teams_beyond_the_cap_wait():
    assert place_for_new_team(TeamRules(team_cap=2), 1) == "registered"
    assert place_for_new_team(TeamRules(team_cap=2), 2) == "waitlisted"
    assert place_for_new_team(TeamRules(), 500) == "registered"


def test_waiting_list_moves_up_when_a_team_withdraws():
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert promotions(TeamRules(team_cap=3), 2, [first, second, third]) == [first]
    assert promotions(TeamRules(team_cap=3), 3, [first, second]) == []
    assert promotions(TeamRules(team_cap=3), 0, [first, second, third]) == [first, second, third]
