"""The events of workers' congresses as membership's commands stage them, called directly inside
rolled-back transactions: every payload keeps its contract, the overdue sweep raises a proposal
once however often it runs (set-based, by its mark — even twice in one transaction), and notify's
consumer tells each elected delegate once, with one notice per member."""
from __future__ import annotations

from datetime import timedelta

import pytest

from membership.commands import congresses
from membership.commands.organisations import RegisterEmployer, register_employer
from tests.inprocess.test_staged_events import breaches_of_contract
from tests.support.inprocess import CITY_ADMIN, admit, branch, loopback, staff, staged
from tests.support.people import new_credit_code
from unionops.clock import local_today
from unionops.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration

TODAY = local_today()


async def test_congress_events_keep_their_contract_and_an_overdue_proposal_is_raised_once(rolled_back):
    membership, notify = await rolled_back("membership"), await rolled_back("notify")
    district, street, union = await branch(membership, "锦江")
    uow = UnitOfWork(membership)
    employer = await register_employer(uow, RegisterEmployer(
        org_id=street, name="示例电子有限公司", credit_code=new_credit_code(), ownership="non_public", headcount=90,
        has_collective_contract=False, union_id=union), CITY_ADMIN)
    officer = staff(district, "区总维权部")
    congress = await congresses.establish(uow, congresses.EstablishCongress(
        kind="employer", name="示例电子第一届职代会", union_id=None, employer_ids=(employer["id"],),
        established_on=TODAY - timedelta(days=100)), officer)
    members = [await admit(membership, union, name) for name in ("刘洋", "何敏", "孙伟")]
    elected = await congresses.elect_delegates(uow, congress["id"], members, TODAY - timedelta(days=90),
                                               TODAY + timedelta(days=900), TODAY - timedelta(days=90), officer)
    assert elected["elected_count"] == 3
    due_yesterday, due_today, answered = [
        await congresses.submit_proposal(uow, congress["id"], members[i], "提案", "内容",
                                         TODAY - timedelta(days=days), officer, TODAY)
        for i, days in ((0, 31), (1, 30), (2, 40))]
    await congresses.answer_proposal(uow, answered["id"], "adopted", "已落实", officer, TODAY)

    assert await congresses.raise_overdue(uow, TODAY) == 1
    assert await congresses.raise_overdue(uow, TODAY) == 0  # marked: never twice, even in one transaction
    assert await congresses.raise_overdue(uow, TODAY + timedelta(days=1)) == 1  # due today: overdue tomorrow

    rows = await staged(membership)
    assert breaches_of_contract(rows) == []
    overdue = [r["payload"] for r in rows if r["event_type"] == "CongressProposalOverdue"]
    assert [p["proposal_id"] for p in overdue] == [str(due_yesterday["id"]), str(due_today["id"])]

    await loopback(membership, "notify", notify)
    told = await notify.fetch("SELECT member_id, channel FROM deliveries WHERE template = 'congress_delegate_elected'")
    assert sorted({r["member_id"] for r in told}) == sorted(members)
    assert len(told) == len({(r["member_id"], r["channel"]) for r in told})  # once per member and channel
    answered_told = await notify.fetch("SELECT member_id FROM deliveries WHERE template = 'congress_proposal_answered'")
    assert {r["member_id"] for r in answered_told} == {members[2]}
