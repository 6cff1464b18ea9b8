"""Notify's channels against the real sinks (issue 6): SMS through the provider sink, signed
robot webhooks, in-app inbox, preferences and quiet hours, provider rate limits, a sink that is
down for a while, permanent failures dead-lettered. Deliveries are queued straight into notify's
table, as the event handlers and the fan-out do, so each rule is checked on its own."""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from notify.projections import put_contact
from tests.support.people import ROOT, SETTINGS, auth
from tests.support.processes import client_fixture
from unionops import db
from unionops.auth import issue_token
from unionops.clock import local_today
from unionops.pii import Vault

pytestmark = [pytest.mark.integration,
              pytest.mark.services(
                  # Quiet hours off for the service (members set their own in the quiet-hours test);
                  # a slow SMS rate so the spreading is visible; short retries.
                  "notify", sinks=("tracesink", "smtpsink", "httpsink"), env={"notify": {
                      "NOTIFY_RETRY_BASE_SECONDS": "0.3", "NOTIFY_RETRY_MAX_SECONDS": "1",
                      "NOTIFY_POLL_INTERVAL_SECONDS": "0.3", "NOTIFY_MAX_ATTEMPTS": "30",
                      "NOTIFY_QUIET_HOURS": "off", "NOTIFY_SMS_RATE_PER_SECOND": "5", "NOTIFY_SMS_BURST": "1"}})]

DEADLINE = 30.0
VAULT = Vault.from_settings(SETTINGS)
DISTRICT = uuid.uuid4()  # a unit under the root, for staff scope


notify = client_fixture(lambda stack: stack.url("notify"))


async def sql(stack, query: str, *args):
    conn = await db.connect(stack.dsn("notify"))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


def new_phone() -> str:
    return "139" + str(uuid.uuid4().int)[:8]


async def new_member(stack, name: str = "张三丰", *, phone: str | None = None, email: str | None = None) -> uuid.UUID:
    member_id = uuid.uuid4()
    conn = await db.connect(stack.dsn("notify"))
    try:  # as MemberContactChanged leaves it: sealed under the member's data key
        await put_contact(conn, VAULT.contact_keys, member_id, name, email, phone)
    finally:
        await conn.close()
    await sql(stack, "INSERT INTO members (member_id, union_id, union_name, org_path, joined_on)"
                     " VALUES ($1, $2, '示例公司工会', $3, $4)", member_id, DISTRICT, [ROOT, DISTRICT], local_today())
    return member_id


async def queue(stack, channel: str, recipient: uuid.UUID, *, kind: str = "member",
                subject_member_id: uuid.UUID | None = None) -> uuid.UUID:
    """A pending delivery of the welcome notice, as a handler would create it."""
    delivery_id = uuid.uuid4()
    await sql(stack, "INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, recipient_kind,"
                     " recipient_id, subject_member_id, org_path, channel, template, template_version, context)"
                     " VALUES ($1, $2, 'MemberJoined', $3, $4, $5, $6, $7, $8, 'member_joined', 1, $9)",
              delivery_id, uuid.uuid4(), recipient if kind == "member" else None, kind, recipient, subject_member_id,
              [ROOT, DISTRICT], channel, {"union_name": "示例公司工会", "joined_on": "2025-06-08"})
    return delivery_id


async def settled(stack, delivery_id: uuid.UUID, status: str, timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    while True:
        [row] = await sql(stack, "SELECT * FROM deliveries WHERE id = $1", delivery_id)
        if row["status"] == status:
            return row
        assert time.monotonic() < deadline, f"delivery not {status}: {dict(row)}"
        await asyncio.sleep(0.2)


def sms_to(sink, phone: str) -> list[dict]:
    return sink.get("/sms", params={"to": phone}).json()["sms"]


def member_token(member_id) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(SETTINGS, subject=str(member_id), role="member", org_id=ROOT)}


async def test_sms_goes_out_once_through_the_provider_with_the_delivery_as_idempotency_key(stack, sink):
    phone = new_phone()
    member = await new_member(stack, phone=phone)
    delivery_id = await queue(stack, "sms", member)
    row = await settled(stack, delivery_id, "delivered")
    await asyncio.sleep(0.5)
    [sms] = sms_to(sink, phone)
    assert sms["receipts"] == 1 and sms["idempotency_key"] == str(delivery_id)
    assert "张*丰" in sms["text"] and "张三丰" not in sms["text"] and "\n" not in sms["text"]
    assert sms["traceparent"]  # the send span's context travels to the provider
    [event] = await sql(stack, "SELECT event_type FROM outbox WHERE payload->>'notification_id' = $1", str(delivery_id))
    assert event["event_type"] == "NotificationDelivered" and row["attempts"] == 1


async def test_robot_webhook_is_signed_and_names_are_masked(stack, sink):
    token = uuid.uuid4().hex
    sink.post("/control/secrets", json={"token": token, "secret": "SEC-" + token})
    bot = uuid.uuid4()
    url = f"{stack.httpsink_url}/robot/send?access_token={token}"
    await sql(stack, "INSERT INTO webhook_bots (id, name, org_unit_id, org_path, url_enc, url_masked, secret_enc)"
                     " VALUES ($1, '区总工会群', $2, $3, $4, $5, $6)", bot, DISTRICT, [ROOT, DISTRICT],
              VAULT.encrypt("webhook_url", url), "masked", VAULT.encrypt("webhook_secret", "SEC-" + token))
    member = await new_member(stack, "欧阳娜娜")
    delivery_id = await queue(stack, "webhook", bot, kind="bot", subject_member_id=member)
    await settled(stack, delivery_id, "delivered")
    [hook] = sink.get("/webhooks", params={"token": token}).json()["webhooks"]
    assert hook["signature_valid"] and hook["idempotency_key"] == str(delivery_id)
    text = json.dumps(hook["payload"], ensure_ascii=False)
    assert hook["payload"]["msgtype"] == "markdown" and "欧**娜" in text and "欧阳娜娜" not in text


async def test_sms_in_the_members_quiet_hours_waits_for_the_morning(stack, notify, sink):
    phone = new_phone()
    member = await new_member(stack, phone=phone)
    beijing = datetime.now(timezone(timedelta(hours=8)))
    start, end = beijing - timedelta(hours=1), beijing + timedelta(hours=2)
    window = f"{start:%H:%M}-{end:%H:%M}"
    r = notify.put(f"/members/{member}/preferences", json={"quiet_hours": window}, headers=member_token(member))
    assert r.status_code == 200 and r.json()["quiet_hours"] == window, r.text
    delivery_id = await queue(stack, "sms", member)
    deadline = time.monotonic() + DEADLINE
    while True:
        [row] = await sql(stack, "SELECT * FROM deliveries WHERE id = $1", delivery_id)
        if row["last_error"] and row["last_error"].startswith("quiet hours"):
            break
        assert time.monotonic() < deadline, dict(row)
        await asyncio.sleep(0.2)
    assert row["status"] == "pending" and row["attempts"] == 0  # postponed, not failed
    morning = end.replace(second=0, microsecond=0)
    assert abs((row["next_attempt_at"] - morning).total_seconds()) < 90
    assert sms_to(sink, phone) == []


async def test_opt_outs_are_honoured_and_only_the_member_or_staff_in_scope_may_set_them(stack, notify):
    from notify import queries

    member = await new_member(stack, email="m@example.cn", phone=new_phone())
    conn = await db.connect(stack.dsn("notify"))
    try:
        assert (await queries.channels_for(conn, [member], "member_joined"))[member] == ["email", "inapp"]
        assert (await queries.channels_for(conn, [member], "case_approved"))[member] == ["email", "sms", "inapp"]
        r = notify.put(f"/members/{member}/preferences", json={"channels": {"sms": False, "email": False}},
                       headers=member_token(member))
        assert r.status_code == 200, r.text
        assert (await queries.channels_for(conn, [member], "case_approved"))[member] == ["inapp"]
    finally:
        await conn.close()
    other = member_token(uuid.uuid4())
    assert notify.put(f"/members/{member}/preferences", json={}, headers=other).status_code == 403
    assert notify.put(f"/members/{member}/preferences", json={"channels": {"sms": True}},
                      headers=auth("staff", DISTRICT)).status_code == 200
    assert notify.put(f"/members/{member}/preferences", json={},
                      headers=auth("staff", uuid.uuid4())).status_code == 404
    assert notify.put(f"/members/{member}/preferences", json={"quiet_hours": "late"},
                      headers=member_token(member)).status_code == 422


async def test_inbox_and_preferences_of_an_out_of_scope_member_answer_like_an_unknown_member(stack, notify):
    member = await new_member(stack, "赵五")
    outsider = auth("federation_admin", uuid.uuid4())  # every permission, another subtree
    for method, path, body in (("GET", "inbox", None), ("GET", "preferences", None), ("PUT", "preferences", {})):
        theirs = notify.request(method, f"/members/{member}/{path}", json=body, headers=outsider)
        unknown = notify.request(method, f"/members/{uuid.uuid4()}/{path}", json=body, headers=outsider)
        assert theirs.status_code == unknown.status_code == 404, (path, theirs.text)
        assert {k: v for k, v in theirs.json().items() if k != "instance"} == \
            {k: v for k, v in unknown.json().items() if k != "instance"}


async def test_inbox_is_readable_by_the_member_and_staff_in_scope_only(stack, notify):
    member = await new_member(stack, "李四")
    delivery_id = await queue(stack, "inapp", member)
    await settled(stack, delivery_id, "delivered")
    mine = notify.get("/inbox", headers=member_token(member))
    assert mine.status_code == 200, mine.text
    [message] = mine.json()["messages"]
    assert message["id"] == str(delivery_id) and "李四同志" in message["body"] and mine.json()["unread"] == 1
    assert notify.post(f"/inbox/{delivery_id}/read", headers=member_token(member)).json()["read_at"]
    assert notify.get("/inbox", headers=member_token(member)).json()["unread"] == 0
    assert notify.get("/inbox", headers=member_token(uuid.uuid4())).json()["messages"] == []
    assert notify.post(f"/inbox/{delivery_id}/read", headers=member_token(uuid.uuid4())).status_code == 404
    assert notify.get(f"/members/{member}/inbox", headers=auth("auditor", DISTRICT)).status_code == 200
    assert notify.get(f"/members/{member}/inbox", headers=auth("staff", uuid.uuid4())).status_code == 404
    assert notify.get(f"/members/{member}/inbox", headers=member_token(uuid.uuid4())).status_code == 403
    assert notify.get("/inbox").status_code == 401


async def test_the_sms_rate_limit_spreads_sends(stack, sink):
    phones = [new_phone() for _ in range(6)]
    ids = [await queue(stack, "sms", await new_member(stack, phone=p)) for p in phones]
    for d in ids:
        await settled(stack, d, "delivered")
    times = sorted(sms_to(sink, p)[0]["received_ts"] for p in phones)
    # 5 a second, burst 1: six sends take at least about one second at the receiver.
    assert times[-1] - times[0] >= 0.8, times


async def test_a_provider_down_for_a_while_gets_everything_once_when_back(stack, sink):
    sink.post("/control/fail", json={"mode": "down", "target": "sms"})
    phones = [new_phone() for _ in range(3)]
    ids = [await queue(stack, "sms", await new_member(stack, phone=p)) for p in phones]
    deadline = time.monotonic() + DEADLINE
    while min(r["attempts"] for r in await sql(stack, "SELECT attempts FROM deliveries WHERE id = ANY($1)", ids)) < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    sink.post("/control/fail", json={"mode": "off"})
    for d in ids:
        await settled(stack, d, "delivered")
    await asyncio.sleep(0.5)
    for p, d in zip(phones, ids):
        [sms] = sms_to(sink, p)
        assert sms["receipts"] == 1 and sms["idempotency_key"] == str(d)


async def test_a_permanent_refusal_fails_at_once_and_is_dead_lettered(stack, sink):
    sink.post("/control/fail", json={"mode": "permfail", "count": 1, "target": "sms"})
    phone = new_phone()
    delivery_id = await queue(stack, "sms", await new_member(stack, phone=phone))
    row = await settled(stack, delivery_id, "failed")
    assert row["attempts"] == 1 and row["failure_reason"] == "rejected"
    [event] = await sql(stack, "SELECT event_type, payload FROM outbox WHERE payload->>'notification_id' = $1",
                        str(delivery_id))
    assert event["event_type"] == "NotificationFailed" and event["payload"]["reason"] == "rejected"
    deadline = time.monotonic() + DEADLINE
    while True:
        [dlq] = await sql(stack, "SELECT * FROM delivery_dlq WHERE delivery_id = $1", delivery_id)
        if dlq["published_at"] is not None:
            break
        assert time.monotonic() < deadline, dict(dlq)
        await asyncio.sleep(0.3)
    assert dlq["reason"] == "rejected" and phone not in json.dumps(dlq["payload"])
    assert sms_to(sink, phone) == []
