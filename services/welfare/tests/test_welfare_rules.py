"""Rules of assistance cases, without I/O."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from unionops.problems import RuleViolation
from welfare.domain.cases import CASE_KINDS, KnownMember, open_case

CITY, DISTRICT, UNION = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def member() -> KnownMember:
    return KnownMember(member_id=uuid.uuid4(), union_id=UNION, union_name="机械厂工会", org_path=[CITY, DISTRICT, UNION],
                       name="李娜", gender="female", is_migrant_worker=False, joined_on=date(2020, 5, 1))


def test_a_case_cannot_be_opened_for_a_member_welfare_does_not_know():
    with pytest.raises(RuleViolation) as refused:
        open_case(None, kind="living", source="application", opened_by="staff-1", today=date(2024, 1, 10))
    assert refused.value.field == "member_id" and refused.value.status == 422
    assert refused.value.message == "会员不存在：尚未入会或尚未同步"


def test_a_new_case_is_opened_in_the_members_union_and_subtree():
    m = member()
    case = open_case(m, kind="medical", source="visit", opened_by="staff-1", today=date(2024, 1, 10))
    assert case.status == "opened" and case.opened_by == "staff-1" and case.opened_on == date(2024, 1, 10)
    assert case.member_id == m.member_id and case.union_id == UNION and case.org_path == [CITY, DISTRICT, UNION]


def test_case_opened_names_the_case_but_carries_no_summary():
    case = open_case(member(), kind="education", source="hotline", opened_by="staff-1", today=date(2024, 8, 1))
    event = case.opened_event()
    assert event.key() == str(case.id)
    assert event.model_dump().keys() == {"case_id", "member_id", "union_id", "org_path", "kind", "source", "opened_on",
                                         "dispute_id"}


@pytest.mark.parametrize("field, kind, source", [("kind", "loan", "visit"), ("source", "living", "email")])
def test_kind_and_source_must_be_ones_the_federation_uses(field, kind, source):
    with pytest.raises(RuleViolation) as refused:
        open_case(member(), kind=kind, source=source, opened_by="staff-1", today=date(2024, 1, 10))
    assert refused.value.field == field


def test_every_kind_has_a_chinese_name():
    assert set(CASE_KINDS) == {"living", "medical", "education", "employment", "legal", "temporary"}
    assert all(label and not label.isascii() for label in CASE_KINDS.values())
