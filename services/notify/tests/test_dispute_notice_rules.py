"""Who hears what of a labour dispute (notify.domain.disputes), free of I/O."""
from __future__ import annotations

import uuid
from datetime import date

from contracts.events import DisputeArbitrationOpen, DisputeOpened
from notify.domain import disputes as rules
from notify.domain.preferences import URGENT_NOTICE_KINDS, built_in_defaults

CITY, DISTRICT, STREET = (uuid.uuid4() for _ in range(3))
PATH = [CITY, DISTRICT, STREET]


def opened(**changes) -> DisputeOpened:
    return DisputeOpened(**{
        "dispute_id": uuid.uuid4(), "unit_id": STREET, "org_path": PATH, "member_id": uuid.uuid4(),
        "employer_name": "示例制衣有限公司", "kind": "pay", "workers_concerned": 3, "collective": False,
        "application_form": "written", "applied_on": date(2026, 3, 2), "officer": "街道调解员"} | changes)


def test_a_collective_dispute_is_a_work_item_for_the_districts_rights_officers_and_a_small_one_is_not():
    item = rules.collective_dispute_flagged(opened(workers_concerned=12, collective=True), "示例街道总工会")
    assert item.role == rules.RIGHTS_OFFICER and item.search_path == [CITY, DISTRICT]
    assert item.context["workers_concerned"] == 12
    assert rules.collective_dispute_flagged(opened(), None) is None


def test_a_non_member_worker_gets_no_notice_but_the_officer_is_still_reminded():
    event = DisputeArbitrationOpen(dispute_id=uuid.uuid4(), unit_id=STREET, org_path=PATH, member_id=None, kind="pay",
                                   applied_on=date(2026, 3, 2), open_from=date(2026, 3, 18),
                                   cause="mediation_period_passed", officer="街道调解员")
    assert rules.dispute_registered(opened(member_id=None)) is None
    assert rules.arbitration_open(event) is None
    reminder = rules.arbitration_open_officer(event)
    assert reminder.assignee == "街道调解员" and reminder.search_path == PATH
    assert reminder.context["has_member"] is False


def test_that_arbitration_is_open_reaches_the_worker_by_sms_without_an_opt_in():
    assert "dispute_arbitration_open" in URGENT_NOTICE_KINDS
    assert built_in_defaults("dispute_arbitration_open")["sms"] is True
    assert built_in_defaults("dispute_registered")["sms"] is False
