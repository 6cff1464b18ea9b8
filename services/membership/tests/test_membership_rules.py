"""Rules of membership that need no broker or database: the member lifecycle, profile changes,
re-joining, where a transfer goes and who may start it."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from membership.domain import organisations as domain
from membership.domain.members import (
    HONOURS,
    check_profile_editable,
    check_readmission,
    check_status_change,
    honour_changes,
    profile_changes,
    rejoin_gap_days,
)
from membership.domain.organisations import normalise_credit_code
from membership.domain.transfers import check_transfer, choose_residence_holder, transfer_initiator
from unionops.problems import RuleViolation

TODAY = date(2025, 6, 30)
A, B = uuid.uuid4(), uuid.uuid4()


def unit(level: str, kind: str, established_on=date(2020, 1, 1), name: str = "某工会") -> dict:
    return {"id": uuid.uuid4(), "level": level, "kind": kind, "established_on": established_on, "name": name}


def transfer(**kw) -> str:
    args = dict(status="active", from_union_id=A, to_union_id=B, to_level="grassroots", held_by_residence_union=False,
                effective_on=TODAY, joined_on=date(2020, 1, 1), today=TODAY)
    return check_transfer(**(args | kw))


# ---- lifecycle ------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["retired", "unemployed", "employer_closed"])
def test_an_active_member_is_retained_for_retirement_unemployment_or_a_closed_employer(reason):
    check_status_change("active", "retained", reason, by_admin=False)


def test_retention_needs_a_retention_reason():
    with pytest.raises(RuleViolation) as exc:
        check_status_change("active", "retained", "resigned", by_admin=False)
    assert exc.value.field == "reason"


def test_a_retained_member_can_be_reactivated():
    check_status_change("retained", "active", "reactivated", by_admin=False)


@pytest.mark.parametrize("current", ["active", "retained"])
@pytest.mark.parametrize("reason", ["resigned", "deceased", "expelled"])
def test_active_and_retained_members_can_leave(current, reason):
    check_status_change(current, "left", reason, by_admin=False)


@pytest.mark.parametrize("target,reason", [("active", "reactivated"), ("retained", "retired"), ("left", "resigned")])
def test_left_is_final_except_by_rejoining(target, reason):
    with pytest.raises(RuleViolation) as exc:
        check_status_change("left", target, reason, by_admin=True)
    assert exc.value.kind == "member-left"


def test_an_active_member_cannot_be_reactivated():
    with pytest.raises(RuleViolation) as exc:
        check_status_change("active", "active", "reactivated", by_admin=True)
    assert exc.value.kind == "status-unchanged"


def test_administrative_departure_is_for_federation_administrators_only():
    with pytest.raises(RuleViolation) as exc:
        check_status_change("active", "left", "administrative", by_admin=False)
    assert exc.value.status == 403
    check_status_change("active", "left", "administrative", by_admin=True)


def test_one_membership_per_person_except_after_leaving():
    for status in ("active", "retained"):
        with pytest.raises(RuleViolation) as exc:
            check_readmission(status)
        assert exc.value.status == 409
    check_readmission("left")


def test_rejoining_keeps_the_gap_visible():
    assert rejoin_gap_days(date(2024, 1, 1), date(2025, 1, 1)) == 366
    assert rejoin_gap_days(date(2025, 1, 1), date(2025, 1, 1)) == 0
    with pytest.raises(RuleViolation):
        rejoin_gap_days(date(2025, 1, 2), date(2025, 1, 1))


# ---- profile --------------------------------------------------------------------------------------

def test_a_left_members_profile_is_not_edited():
    check_profile_editable("retained")
    with pytest.raises(RuleViolation):
        check_profile_editable("left")


def test_only_fields_that_really_change_are_audited():
    current = {"name": "王小明", "phone": "13800138000", "employer": "甲公司", "honours": ["model_worker"],
               "is_migrant_worker": False}
    changes = profile_changes(current, {"name": "王小明", "phone": "13900139000", "honours": ["model_worker"],
                                        "is_migrant_worker": True})
    assert changes == {"phone": ("13800138000", "13900139000"), "is_migrant_worker": (False, True)}


def test_honours_compare_as_sets_and_come_from_the_fixed_list():
    assert profile_changes({"honours": ["gold_medal_worker", "model_worker"]},
                           {"honours": ["model_worker", "gold_medal_worker", "model_worker"]}) == {}
    assert honour_changes(["model_worker"], ["gold_medal_worker", "may_day_labour_medal"]) == (
        ["may_day_labour_medal", "gold_medal_worker"], ["model_worker"])
    assert {"劳动模范（劳模）", "五一劳动奖章", "工人先锋号", "金牌工人", "创新标兵"} <= set(HONOURS.values())


# ---- transfers ------------------------------------------------------------------------------------

def test_transfer_cannot_be_refused():
    """No accept step: a valid request is carried out; the only refusals are about the request."""
    assert transfer() == "active"


def test_transfer_to_the_current_union_is_refused():
    with pytest.raises(RuleViolation) as exc:
        transfer(to_union_id=A)
    assert exc.value.kind == "same-union"


def test_a_member_who_left_cannot_be_transferred():
    with pytest.raises(RuleViolation):
        transfer(status="left")


def test_a_retained_member_transferred_to_a_new_employer_becomes_active():
    assert transfer(status="retained") == "active"


def test_membership_is_transferred_only_into_a_grassroots_union():
    with pytest.raises(RuleViolation):
        transfer(to_level="street")
    with pytest.raises(RuleViolation):
        transfer(to_level="district", held_by_residence_union=True)
    assert transfer(to_level="street", held_by_residence_union=True) == "active"


def test_transfer_dates_lie_between_joining_and_today():
    with pytest.raises(RuleViolation):
        transfer(effective_on=date(2025, 7, 1))
    with pytest.raises(RuleViolation):
        transfer(effective_on=date(2019, 12, 31))


def test_the_sending_side_the_member_or_a_federation_above_both_moves_a_member():
    assert transfer_initiator(False, True, False) == "from_union"
    assert transfer_initiator(False, True, True) == "federation"
    assert transfer_initiator(True, False, False) == "member"
    with pytest.raises(ValueError):  # the receiving side only asks
        transfer_initiator(False, False, True)


def test_residence_area_union_holds_the_membership_when_the_employer_has_none():
    joint = unit("grassroots", "joint_grassroots_union", date(2021, 1, 1))
    street = unit("street", "street_union", date(2010, 1, 1))
    enterprise = unit("grassroots", "enterprise_union", date(2000, 1, 1))
    assert choose_residence_holder([street, enterprise, joint]) is joint
    assert choose_residence_holder([street, enterprise]) is street
    assert choose_residence_holder([enterprise, unit("street", "community_station")]) is None
    assert choose_residence_holder([]) is None


def test_residence_holder_choice_is_stable_among_equals():
    older = unit("grassroots", "migrant_worker_federation", date(2015, 1, 1), "乙")
    newer = unit("grassroots", "joint_grassroots_union", date(2018, 1, 1), "甲")
    assert choose_residence_holder([newer, older]) is older


def test_credit_codes_are_checked_by_their_check_character():
    assert normalise_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"
    with pytest.raises(RuleViolation):
        normalise_credit_code("91350100M000100Y44")
    with pytest.raises(RuleViolation):
        normalise_credit_code("91350100M000100Y4")


def test_existing_organisation_rules_still_hold():
    domain.check_admitting_unit("grassroots")
    with pytest.raises(RuleViolation):
        domain.check_admitting_unit("street")
