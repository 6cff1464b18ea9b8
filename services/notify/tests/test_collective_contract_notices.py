"""Who hears of collective bargaining (notify.domain.collective_contracts): the union's rights
officers, nearest upward from the contract's union; the union's own offer tells nobody."""
from __future__ import annotations

import uuid
from datetime import date

from contracts.events import CollectiveOfferOverdue, CollectiveOfferSent
from notify.domain.collective_contracts import RIGHTS_OFFICER, offer_overdue, offer_received
from notify.domain.notices import ROLES

PATH = [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()]


def offer(side: str) -> CollectiveOfferSent:
    return CollectiveOfferSent(contract_id=uuid.uuid4(), offer_id=uuid.uuid4(), org_id=PATH[-1], org_path=PATH,
                               title="示例公司2026年工资专项集体合同", kind="wage", offered_by=side,
                               sent_on=date(2026, 3, 1), received_on=date(2026, 3, 2), answer_due_on=date(2026, 3, 22),
                               employer_names=["示例公司"])


def test_an_employers_offer_is_a_work_item_of_the_unions_rights_officers_and_the_unions_own_tells_nobody():
    notice = offer_received(offer("employer"))
    assert RIGHTS_OFFICER in ROLES
    assert (notice.role, notice.search_path, notice.template) == (RIGHTS_OFFICER, PATH, "collective_offer_received")
    assert notice.context["answer_due_on"] == "2026-03-22" and notice.context["employer_names"] == ["示例公司"]
    assert offer_received(offer("union")) is None


def test_an_overdue_offer_says_which_side_is_late():
    late = CollectiveOfferOverdue(contract_id=uuid.uuid4(), offer_id=uuid.uuid4(), org_id=PATH[-1], org_path=PATH,
                                  title="示例合同", offered_by="employer", received_on=date(2026, 3, 2),
                                  answer_due_on=date(2026, 3, 22), detected_on=date(2026, 3, 23))
    assert offer_overdue(late).context["offered_by_union"] is False
