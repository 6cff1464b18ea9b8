"""Personal data never in a log line or a span: the four services as processes exporting their
traces to the trace sink, the SMTP sink and the SMS provider sink. After an admission with phone
and e-mail, a contact change, an officer entered in the directory, an HR employment change (the
member told by e-mail and SMS, the officer by e-mail) and a delivery the mail server refuses naming
the recipient (as Postfix does), no service's log file and no stored span — name, attributes,
events (recorded exceptions), status — holds a phone, e-mail or ID number used, in clear; nor does
any table or topic."""
from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from devstack.config import SERVICES
from tests.support.broker import publish_as_hr_system
from tests.support.membership import found_district, register_employer
from tests.support.people import auth, new_resident_id
from tests.support.waiting import eventually
from tests.integration.test_personal_data_everywhere import add_officer, clear_copies, fetch
from tests.integration.test_transfers import employment_changed
from unionops.clock import local_today

FAST = {"NOTIFY_POLL_INTERVAL_SECONDS": "0.3", "NOTIFY_QUIET_HOURS": "off", "NOTIFY_RETRY_BASE_SECONDS": "0.3",
        "NOTIFY_RETRY_MAX_SECONDS": "1"}

pytestmark = [pytest.mark.integration,
              pytest.mark.services(*SERVICES, sinks=("tracesink", "smtpsink", "httpsink"), env={"notify": FAST})]


@pytest.fixture()
def clients(services, stack_config):
    with httpx.Client(base_url=services["membership"].url, timeout=30) as membership, \
            httpx.Client(base_url=services["notify"].url, timeout=30) as notify, \
            httpx.Client(base_url=stack_config.smtpsink_url, timeout=30) as mail, \
            httpx.Client(base_url=stack_config.httpsink_url, timeout=30) as sms:
        yield membership, notify, mail, sms
        mail.post("/control/fail", json={"mode": "off"})


def new_phone(prefix: str = "139") -> str:
    return prefix + str(uuid.uuid4().int)[:8]


def in_logs(stack_config, needles: list[str]) -> list[str]:
    found = []
    for service in SERVICES:
        text = (stack_config.state_dir / "logs" / f"{service}.log").read_text("utf-8", "replace")
        found += [f"{service}.log: {n}" for n in needles if n in text]
    return found


async def in_spans(stack_config, needles: list[str]) -> list[str]:
    conn = await asyncpg.connect(stack_config.dsn("traces"))
    try:
        found = []
        for needle in needles:
            rows = await conn.fetch(
                "SELECT service, name FROM spans WHERE strpos(concat_ws(' ', name, status_message, attributes::text,"
                " events::text, resource::text), $1) > 0 LIMIT 3", needle)
            found += [f"span {r['service']}/{r['name']}: {needle}" for r in rows]
        return found
    finally:
        await conn.close()


async def test_no_clear_phone_email_or_id_number_in_any_log_line_or_span(clients, stack_config):
    membership, notify, mail, sms = clients
    tag = uuid.uuid4().hex[:8]
    a, b = found_district(membership), found_district(membership)
    officer_email, officer_phone = f"officer-{tag}@example.cn", new_phone("137")
    await add_officer(notify, a.union_ids[0], officer_email, officer_phone)

    number, email, phone = new_resident_id(), f"joined-{tag}@example.cn", new_phone()
    r = membership.post("/members", headers=auth(), json={"union_id": a.union_ids[0], "name": "林晓",
                                                          "id_number": number, "phone": phone, "email": email})
    assert r.status_code == 201, r.text
    member_id = r.json()["id"]

    async def welcomed():
        return mail.get("/messages", params={"to": email}).json()["messages"]
    await eventually(welcomed, "the welcome mail", timeout=90)
    assert notify.put(f"/members/{member_id}/preferences", headers=auth(),
                      json={"channels": {"email": True, "sms": True}}).status_code == 200

    new_email, new_phone_ = f"changed-{tag}@example.cn", new_phone("138")
    r = membership.patch(f"/members/{member_id}", headers=auth(), json={"email": new_email, "phone": new_phone_})
    assert r.status_code == 200, r.text

    async def contact_changed():  # the transfer notice must go to the new contact
        rows = await fetch(stack_config, "notify", "SELECT phone_masked FROM contacts WHERE member_id = $1::uuid",
                           member_id)
        return rows and rows[0]["phone_masked"] == new_phone_[:3] + "****" + new_phone_[-4:]
    await eventually(contact_changed, "the changed contact reached notify", timeout=60)

    code = register_employer(membership, b.street_id, b.union_ids[0], name=f"丙{tag}有限公司")
    change = employment_changed(number, credit_code=code, region="510104")
    await publish_as_hr_system(stack_config.bootstrap, change.model_copy(update={"effective_on": local_today()}))

    async def told():  # the member by e-mail and SMS, the officer of the union left by e-mail
        return (mail.get("/messages", params={"to": new_email}).json()["messages"]
                and sms.get("/sms", params={"to": new_phone_}).json()["sms"]
                and mail.get("/messages", params={"to": officer_email}).json()["messages"])
    await eventually(told, "the transfer told by e-mail and SMS", timeout=90)

    # A delivery the mail server refuses, naming the recipient in its reply.
    refused_email, refused_phone, refused_number = f"refused-{tag}@example.cn", new_phone("136"), new_resident_id()
    # Only that member's mail: a late mail of the transfer above must not take the refusal.
    assert mail.post("/control/fail", json={"mode": "unknown_user", "count": 1, "to": refused_email}).status_code == 200
    r = membership.post("/members", headers=auth(), json={"union_id": b.union_ids[0], "name": "韩梅",
                                                          "id_number": refused_number, "phone": refused_phone,
                                                          "email": refused_email})
    assert r.status_code == 201, r.text

    async def refused():
        rows = await fetch(stack_config, "notify", "SELECT last_error FROM deliveries WHERE member_id = $1::uuid"
                           " AND channel = 'email' AND status = 'failed'", r.json()["id"])
        return rows
    [failed] = await eventually(refused, "the welcome mail failed", timeout=90)
    assert "5.1.1" in failed["last_error"]

    async def exported():  # the failed send's span reached the trace sink
        conn = await asyncpg.connect(stack_config.dsn("traces"))
        try:
            return await conn.fetchval("SELECT count(*) FROM spans WHERE attributes ? 'notify.failure.permanent'")
        finally:
            await conn.close()
    await eventually(exported, "the spans reached the trace sink", timeout=30)

    needles = [number, email, phone, new_email, new_phone_, officer_email, officer_phone,
               refused_email, refused_phone, refused_number]
    assert in_logs(stack_config, needles) == []
    assert await in_spans(stack_config, needles) == []
    assert await clear_copies(stack_config, needles) == []
