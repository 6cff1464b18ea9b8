"""The events of labour-dispute mediation as welfare's commands stage them, called directly inside
rolled-back transactions: every payload keeps its contract and carries no claim, terms or note, and
the 15-day check reports a dispute once however often it runs (set-based, by its mark)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.inprocess.test_staged_events import breaches_of_contract
from tests.support.inprocess import VAULT, admit, branch, loopback, staff, staged
from unionops.clock import local_today
from unionops.unit_of_work import UnitOfWork
from welfare.commands import disputes
from welfare.domain.disputes import Application

pytestmark = pytest.mark.integration

TODAY = local_today()
CLAIM = "被拖欠工资且有工伤病历"


def application(street, member, days_ago: int) -> Application:
    return Application(unit_id=street, application_form="written", applied_on=TODAY - timedelta(days=days_ago),
                       member_id=member, worker_name=None, employer_name="示例制衣有限公司", employer_credit_code=None,
                       kind="pay", workers_concerned=12, claim=CLAIM)


async def test_dispute_events_keep_their_contract_carry_no_claim_and_arbitration_is_reported_once(rolled_back):
    membership, welfare = await rolled_back("membership"), await rolled_back("welfare")
    district, street, union = await branch(membership, "温江")
    member = await admit(membership, union, "刘欠薪")
    await loopback(membership, "welfare", welfare)
    officer, now = staff(street, "街道调解员"), datetime.now(timezone.utc)
    uow = UnitOfWork(welfare)
    passed = await disputes.register(uow, application(street, member, 16), officer, VAULT, today=TODAY, now=now)
    waiting = await disputes.register(uow, application(street, member, 15), officer, VAULT, today=TODAY, now=now)
    failed = await disputes.register(uow, application(street, member, 2), officer, VAULT, today=TODAY, now=now)
    await disputes.record_session(uow, failed["id"], held_on=TODAY, mediator="王调解", note=CLAIM, actor=officer,
                                  vault=VAULT, today=TODAY)
    await disputes.fail(uow, failed["id"], failed_on=TODAY, reason="no_agreement", actor=officer, today=TODAY)
    await disputes.refer(uow, failed["id"], actor=officer, vault=VAULT, today=TODAY)

    # The failed one was reported on its failure; of the others only the one past its 15 days.
    assert await disputes.raise_arbitration_open(uow, TODAY) == 1
    assert await disputes.raise_arbitration_open(uow, TODAY) == 0  # marked: never twice
    assert await disputes.raise_arbitration_open(uow, TODAY + timedelta(days=1)) == 1  # its 15th day was yesterday

    rows = await staged(welfare)
    assert breaches_of_contract(rows) == []
    assert all(CLAIM not in str(r["payload"]) for r in rows)
    opened = [r for r in rows if r["event_type"] == "DisputeArbitrationOpen"]
    by_dispute = {r["key"]: r["payload"] for r in opened}
    assert len(opened) == len(by_dispute)  # one each
    assert by_dispute[str(failed["id"])]["cause"] == "mediation_failed"
    assert by_dispute[str(passed["id"])]["open_from"] == str(TODAY)
    assert by_dispute[str(waiting["id"])]["open_from"] == str(TODAY + timedelta(days=1))
    assert {"DisputeOpened", "DisputeFailed", "DisputeReferred", "CaseOpened"} <= {r["event_type"] for r in rows}
