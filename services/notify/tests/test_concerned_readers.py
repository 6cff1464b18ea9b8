"""Issue 13's notice rules, free of I/O: who is told of an admission from the register, what a
rejection says, and how an office's defaults stand between the built-in ones and the member's."""
from __future__ import annotations

import uuid
from datetime import date

from contracts.events import CaseRejected, MemberJoined
from notify.domain import notices as domain
from notify.domain.preferences import MEMBER_NOTICE_KINDS, built_in_defaults, default_channels
from notify.domain.templates import TemplateRegistry


def joined(**extra) -> MemberJoined:
    return MemberJoined(member_id=uuid.uuid4(), union_id=uuid.uuid4(), union_name="示例公司工会",
                        org_path=[uuid.uuid4()], name="张三", gender="male", birth_year=1980,
                        joined_on=date(2012, 3, 1), **extra)


def test_a_new_join_is_welcomed_and_a_member_of_the_imported_register_is_not():
    assert domain.welcome(joined()).template == "member_joined"
    assert domain.welcome(joined(origin="register")) is None
    assert domain.welcome(joined(origin="register", online_notice=True)).template == "member_registered"


def test_a_rejection_gives_its_reason_in_plain_words_for_every_category():
    registry = TemplateRegistry(defaults={"sender": "示例市总工会"})
    for reason in ("not_eligible", "no_hardship_file", "duplicate", "insufficient_evidence", "over_cap", "other"):
        notice = domain.case_rejected(CaseRejected(case_id=uuid.uuid4(), member_id=uuid.uuid4(), org_path=[uuid.uuid4()],
                                                   reason=reason, rejected_on=date(2025, 8, 25), kind="medical"))
        body = registry.render("case_rejected", 1, {**notice.context, "name": "李四"}).body
        assert notice.context["reason_text"] in body and reason not in body and "医疗帮扶" in body


def test_sms_is_opt_in_and_an_office_default_stands_between_the_built_in_one_and_the_members_choice():
    assert built_in_defaults("case_rejected") == {"email": True, "sms": False, "inapp": True}
    assert default_channels("case_rejected", sms_opt_in=None, email_opt_in=None, inapp_opt_in=None) == ["email", "inapp"]
    office = {"sms": True, "email": False}
    assert default_channels("case_rejected", sms_opt_in=None, email_opt_in=None, inapp_opt_in=None,
                            office=office) == ["sms", "inapp"]
    assert default_channels("case_rejected", sms_opt_in=False, email_opt_in=True, inapp_opt_in=None,
                            office=office) == ["email", "inapp"]


def test_every_member_notice_kind_is_a_registered_template():
    names = {spec.name for spec in TemplateRegistry().list()}
    assert set(MEMBER_NOTICE_KINDS) <= names
