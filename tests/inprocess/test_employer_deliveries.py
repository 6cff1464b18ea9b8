"""The employer side of collective bargaining in notify, in process: membership's command stages
the employer's contact (sealed) and a union's offer, the loopback hands both to notify's consumer
in rolled-back transactions. A union's offer makes one e-mail per employer of the contract; the
one with a contact on file is claimed with its address (under the vault, opened only to send),
the one without waits and, after the contact wait, is not deliverable — settled, not failed."""
from __future__ import annotations

import pytest

from membership.commands import collective_contracts as contracts
from membership.commands.organisations import RegisterEmployer, register_employer, set_employer_contact
from notify.commands.settlement import claim, sweep
from notify.domain.contacts import EMPLOYER_EMAIL_FIELD
from tests.support.inprocess import CITY_ADMIN, VAULT, branch, loopback
from tests.support.people import new_credit_code
from unionops.clock import local_today
from unionops.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration

TODAY = local_today()


async def test_a_unions_offer_reaches_the_employer_side_with_a_contact_and_settles_the_one_without(rolled_back):
    membership, notify = await rolled_back("membership"), await rolled_back("notify")
    _, street, union = await branch(membership, "锦江")
    uow = UnitOfWork(membership)

    async def employer(name: str):
        return (await register_employer(uow, RegisterEmployer(
            org_id=street, name=name, credit_code=new_credit_code(), ownership="non_public", headcount=120,
            has_collective_contract=False, union_id=union), CITY_ADMIN))["id"]
    reachable, silent = await employer("示例电子有限公司"), await employer("示例机械有限公司")
    await set_employer_contact(uow, reachable, "王人事", "hr@example.cn", CITY_ADMIN, VAULT)
    contract = await contracts.open_negotiation(uow, contracts.OpenNegotiation(
        org_id=street, title="区域性工资专项集体合同", kind="wage", coverage="regional",
        employer_ids=(reachable, silent)), CITY_ADMIN, TODAY)
    await contracts.send_offer(uow, contract["id"], "union", TODAY, TODAY, CITY_ADMIN, TODAY)
    await loopback(membership, "notify", notify)

    kept = await notify.fetchrow("SELECT contact_name, email_enc FROM employer_contacts WHERE employer_id = $1",
                                 reachable)
    assert kept["contact_name"] == "王人事" and b"hr@example.cn" not in bytes(kept["email_enc"])
    rows = {r["recipient_id"]: r for r in await notify.fetch(
        "SELECT recipient_id, channel, status, template, context FROM deliveries WHERE recipient_kind = 'employer'")}
    assert set(rows) == {reachable, silent}
    assert {r["template"] for r in rows.values()} == {"collective_offer_to_employer"}
    assert rows[reachable]["context"]["employer_name"] == "示例电子有限公司"

    [claimed] = [r for r in await claim(UnitOfWork(notify), batch_size=50, lease_seconds=60, max_attempts=5)
                 if r["recipient_kind"] == "employer"]
    assert claimed["recipient_id"] == reachable and claimed["recipient_name"] == "王人事"
    assert VAULT.decrypt(EMPLOYER_EMAIL_FIELD, bytes(claimed["employer_email_enc"])) == "hr@example.cn"

    # An hour on (now() stands still inside one transaction): the contact wait is over.
    await notify.execute("UPDATE deliveries SET created_at = created_at - interval '1 hour'"
                         " WHERE recipient_kind = 'employer'")
    await sweep(UnitOfWork(notify), contact_wait_seconds=600, max_attempts=5)
    settled = await notify.fetchrow("SELECT status, failure_reason FROM deliveries WHERE recipient_id = $1"
                                    " AND recipient_kind = 'employer'", silent)
    assert (settled["status"], settled["failure_reason"]) == ("undeliverable", "no_address")
    assert not await notify.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'NotificationFailed'")
