"""What an import brings (new joins or the existing register) and what it may ask notify to say."""
from __future__ import annotations

import uuid

import pytest

from membership.domain.imports import ImportReport, check_intake, member_origin
from unionops.problems import RuleViolation


def test_only_an_import_of_the_register_may_send_the_online_notice():
    check_intake("register", True)
    check_intake("new_joins", False)
    with pytest.raises(RuleViolation) as refused:
        check_intake("new_joins", True)
    assert refused.value.field == "online_notice"
    with pytest.raises(RuleViolation):
        check_intake("everyone", False)


def test_the_report_says_how_many_are_welcomed_or_told_they_are_online():
    def report(intake, online):
        r = ImportReport(uuid.uuid4(), "名册.csv", "0" * 64, "csv", None, imported=5, intake=intake,
                         online_notice=online)
        return r.summary()["notices"]
    assert report("new_joins", False) == {"welcome": 5, "online": 0}
    assert report("register", False) == {"welcome": 0, "online": 0}
    assert report("register", True) == {"welcome": 0, "online": 5}
    assert (member_origin("register"), member_origin("new_joins")) == ("register", "joined")
