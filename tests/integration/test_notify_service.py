"""Notify as a process: a member admitted through membership gets one welcome e-mail over real
SMTP (the local sink), with retries on temporary refusals, none on permanent ones, and the
outcome staged as NotificationDelivered / NotificationFailed in notify's outbox."""
from __future__ import annotations

import asyncio
import json
import smtplib
import time
import uuid
from datetime import date, datetime, timezone
from email.message import EmailMessage

import httpx
import pytest

from aiokafka import AIOKafkaProducer

from contracts.events import AidDisbursed, CaseOpened, ContestScored, DomainEvent, MemberJoined
from notify.commands.settlement import DLQ_TOPIC
from notify.domain import notices as domain
from devstack.seed import zh_digits
from notify.projections import put_contact
from tests.support.broker import header, read_topic
from tests.support.membership import admit, found_district
from tests.support.people import ROOT, SETTINGS, auth, contact_changed
from tests.support.processes import client_fixture
from tests.support.waiting import eventually
from unionops import db
from unionops.envelope import Envelope
from unionops.pii import Vault

pytestmark = [pytest.mark.integration,
              pytest.mark.services(
                  # Short retry steps and polls keep the retry test fast; the rules are those of production.
                  "membership", "notify", sinks=("tracesink", "smtpsink"),
                  env={"notify": {"NOTIFY_RETRY_BASE_SECONDS": "0.5", "NOTIFY_POLL_INTERVAL_SECONDS": "0.5"}})]

FIRST_DEADLINE = 45.0  # the first consumer-group join on the local broker takes several seconds
DEADLINE = 30.0


membership = client_fixture(lambda stack: stack.url("membership"))
notify = client_fixture(lambda stack: stack.url("notify"))


@pytest.fixture(scope="module")
def union_id(membership) -> str:
    return found_district(membership, name=f"通知测试区总工会{uuid.uuid4().hex[:4]}").union_ids[0]


def new_address() -> str:
    return f"member-{uuid.uuid4().hex[:10]}@example.cn"


def admit_member(membership, union_id: str, name: str, **extra) -> str:
    r = admit(membership, union_id, name=name, **extra)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def db_fetch(stack_config, query: str, *args):
    conn = await db.connect(stack_config.dsn("notify"))  # decodes jsonb
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def delivery(stack_config, member_id: str, *, status: str | None = None, timeout: float = DEADLINE,
                   event_type: str = "MemberJoined", channel: str = "email"):
    """The member's delivery for an event type on a channel once it has `status` (any, if None)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await db_fetch(stack_config, "SELECT * FROM deliveries WHERE member_id = $1::uuid"
                              " AND source_event_type = $2 AND channel = $3", str(member_id), event_type, channel)
        if rows and (status is None or rows[0]["status"] == status):
            assert len(rows) == 1
            return rows[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {status or ''} delivery for member {member_id} after {timeout}s: "
                                 f"{[dict(r) for r in rows]}")
        await asyncio.sleep(0.3)


async def dispatcher_idle(stack_config) -> None:
    """Wait until no sendable mail is queued, so a fault switched on next hits our mail only
    (members admitted by earlier test modules of the session are notified too)."""
    deadline = time.monotonic() + DEADLINE
    while (await db_fetch(stack_config, "SELECT count(*) AS n FROM deliveries d JOIN contacts c USING (member_id)"
                          " WHERE d.channel = 'email' AND c.email_sealed IS NOT NULL AND (d.status = 'sending'"
                          " OR (d.status = 'pending' AND d.next_attempt_at <= now()))"))[0]["n"]:
        assert time.monotonic() < deadline, "the dispatcher never went idle"
        await asyncio.sleep(0.3)


def mails_to(sink, address: str) -> list[dict]:
    r = sink.get("/messages", params={"to": address})
    assert r.status_code == 200, r.text
    return r.json()["messages"]


async def outbox_events(stack_config, delivery_id) -> list:
    return await db_fetch(stack_config, "SELECT event_type, payload, trace_headers FROM outbox"
                          " WHERE payload->>'notification_id' = $1 ORDER BY id", str(delivery_id))


def trace_id(headers: dict) -> str:
    return headers["traceparent"].split("-")[1]


async def trace_spans(stack_config, tid: str, *, until: str) -> list[dict]:
    """The trace's spans from the trace sink, once a span named `until` was exported."""
    deadline = time.monotonic() + DEADLINE
    async with httpx.AsyncClient(base_url=stack_config.tracesink_url, timeout=5) as client:
        while True:
            r = await client.get(f"/api/traces/{tid}")
            if r.status_code == 200 and any(s["name"] == until for s in r.json()["spans"]):
                return r.json()["spans"]
            assert time.monotonic() < deadline, f"trace {tid} has no span {until!r}: {r.text[:2000]}"
            await asyncio.sleep(0.5)


async def test_a_new_member_gets_exactly_one_welcome_mail(stack, membership, notify, sink, union_id):
    address = new_address()
    member_id = admit_member(membership, union_id, "欧阳娜娜", email=address, phone="13912345678")

    deadline = time.monotonic() + FIRST_DEADLINE
    while not mails_to(sink, address):
        assert time.monotonic() < deadline, "no welcome mail arrived"
        await asyncio.sleep(0.3)
    row = await delivery(stack, member_id, status="delivered")
    await asyncio.sleep(1.0)  # nothing more comes after the first

    [mail] = mails_to(sink, address)
    assert mail["receipts"] == 1
    assert mail["subject"].startswith("欢迎加入") and "通知测试区总工会" in mail["subject"]
    assert mail["message_id"] == f"<{row['id']}@unionops.local>"
    assert "欧阳娜娜同志" in mail["text"]
    assert "13912345678" not in mail["text"]
    assert row["attempts"] == 1 and row["channel"] == "email" and row["template"] == "member_joined"
    assert row["org_path"][0] == ROOT and str(row["org_path"][-1]) == union_id

    [event] = await outbox_events(stack, row["id"])
    assert event["event_type"] == "NotificationDelivered"
    assert event["payload"]["source_event_id"] == str(row["source_event_id"])
    # One admission, one trace: the send and its event continue the trace of MemberJoined.
    assert trace_id(event["trace_headers"]) == trace_id(row["trace_headers"])

    spans = await trace_spans(stack, trace_id(row["trace_headers"]), until="publish notify.delivery.v1")
    send = next(s for s in spans if s["name"] == "send member_joined")
    parent = next(s for s in spans if s["span_id"] == send["parent_span_id"])
    assert (parent["service"], parent["name"]) == ("notify", "process MemberJoined")
    assert {s["service"] for s in spans} == {"membership", "notify"}
    assert address not in str(spans) and "13912345678" not in str(spans)

    [contact] = await db_fetch(stack, "SELECT * FROM contacts WHERE member_id = $1::uuid", member_id)
    assert contact["phone_masked"] == "139****5678" and b"13912345678" not in bytes(contact["phone_sealed"])
    assert contact["email"] is None and contact["phone_enc"] is None and address.encode() not in contact["email_sealed"]

    # Staff see the delivery within their subtree only.
    listed = notify.get("/deliveries", params={"member_id": member_id}, headers=auth("auditor"))
    assert listed.status_code == 200, listed.text
    assert [d["status"] for d in listed.json() if d["channel"] == "email"] == ["delivered"]
    one = notify.get(f"/deliveries/{row['id']}", headers=auth("auditor"))
    assert one.status_code == 200 and one.json()["member_id"] == member_id
    elsewhere = found_district(membership)
    outsider = auth("staff", elsewhere.id)
    assert notify.get("/deliveries", params={"member_id": member_id}, headers=outsider).json() == []
    assert notify.get(f"/deliveries/{row['id']}", headers=outsider).status_code == 404
    assert notify.get("/deliveries").status_code == 401


async def test_temporary_refusals_are_retried_and_the_mail_arrives_once(stack, membership, sink, union_id):
    await dispatcher_idle(stack)
    address = new_address()
    assert sink.post("/control/fail", json={"mode": "tempfail", "count": 2, "to": address}).status_code == 200
    member_id = admit_member(membership, union_id, "李娜", email=address)

    row = await delivery(stack, member_id, status="delivered")
    assert row["attempts"] >= 3
    [mail] = mails_to(sink, address)
    assert mail["receipts"] == 1
    assert [e["event_type"] for e in await outbox_events(stack, row["id"])] == ["NotificationDelivered"]


async def test_a_permanent_refusal_fails_at_once_without_retry(stack, membership, sink, union_id):
    await dispatcher_idle(stack)
    address = new_address()
    assert sink.post("/control/fail", json={"mode": "permfail", "count": 1, "to": address}).status_code == 200
    member_id = admit_member(membership, union_id, "王小明", email=address)

    row = await delivery(stack, member_id, status="failed")
    assert row["attempts"] == 1 and row["failure_reason"] == "rejected"
    assert row["last_error"].startswith("rejected: 550")
    [event] = await outbox_events(stack, row["id"])
    assert event["event_type"] == "NotificationFailed"
    assert event["payload"]["reason"] == "rejected" and event["payload"]["attempts"] == 1
    assert address not in str(event["payload"])

    await asyncio.sleep(2.0)  # several retry steps: none is taken
    [again] = await db_fetch(stack, "SELECT status, attempts FROM deliveries WHERE id = $1", row["id"])
    assert (again["status"], again["attempts"]) == ("failed", 1)
    assert mails_to(sink, address) == []
    # A real failure is for an operator: dead-lettered, in the table and on the DLQ topic.
    async def dead_lettered():
        rows, records = await dead_letters(stack, [row["id"]])
        return (rows, records) if rows and records else None
    [dlq], [record] = await eventually(dead_lettered, "the refused mail dead-lettered", timeout=DEADLINE)
    assert dlq["reason"] == "rejected" and header(record, "dlq_reason") == "rejected"
    assert address not in json.dumps(dlq["payload"]) and address not in record.value.decode()


async def dead_letters(stack_config, delivery_ids) -> tuple[list, list]:
    """The `delivery_dlq` rows and the records on notify.delivery.v1.dlq of these deliveries."""
    ids = [str(i) for i in delivery_ids]
    rows = await db_fetch(stack_config, "SELECT * FROM delivery_dlq WHERE delivery_id = ANY($1::uuid[])", ids)
    records = [r for r in await read_topic(stack_config.bootstrap, DLQ_TOPIC) if r.key.decode() in ids]
    return rows, records


async def test_a_channel_a_member_has_no_address_for_is_not_deliverable_and_no_failure(stack, membership, notify,
                                                                                    union_id):
    """Admitted without an e-mail: the welcome e-mail ends `undeliverable` (no_address), shown in
    the member's deliveries; no NotificationFailed, nothing in delivery_dlq or on the DLQ topic.
    Whichever of the join and the contact notify read first."""
    member_id = admit_member(membership, union_id, "赵六", phone="13800138000")

    row = await delivery(stack, member_id, status="undeliverable")
    assert row["failure_reason"] == "no_address" and row["attempts"] == 0 and row["failed_at"] is None
    assert await outbox_events(stack, row["id"]) == []  # neither NotificationFailed nor Delivered
    await delivery(stack, member_id, status="delivered", channel="inapp")
    listed = notify.get("/deliveries", params={"member_id": member_id, "status": "undeliverable"}, headers=auth())
    assert listed.status_code == 200, listed.text
    assert [(d["channel"], d["failure_reason"]) for d in listed.json()] == [("email", "no_address")]
    assert listed.json()[0]["undeliverable_at"] is not None

    await asyncio.sleep(2.0)  # several sweeps and DLQ publications
    assert await dead_letters(stack, [row["id"]]) == ([], [])


async def test_an_urgent_sms_to_a_household_without_a_phone_is_not_deliverable(stack, union_id):
    """A payment notice (urgent: SMS by default) to a member whose contact has no phone."""
    member_id = uuid.uuid4()
    await publish(stack, contact_changed(member_id, "钱七", email=new_address()))
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM contacts WHERE member_id = $1", member_id),
                     "the contact in notify", timeout=FIRST_DEADLINE)
    await publish(stack, AidDisbursed(case_id=uuid.uuid4(), member_id=member_id, union_id=uuid.UUID(union_id),
                                      org_path=[uuid.UUID(union_id)], kind="medical", amount_fen=50000,
                                      fund_id=uuid.uuid4(), ledger_entry_id=uuid.uuid4(), paid_on=date(2025, 8, 20)))
    sms = await delivery(stack, member_id, status="undeliverable", event_type="AidDisbursed", channel="sms")
    assert sms["failure_reason"] == "no_address" and await outbox_events(stack, sms["id"]) == []
    await delivery(stack, member_id, status="delivered", event_type="AidDisbursed", channel="email")
    await asyncio.sleep(2.0)
    assert await dead_letters(stack, [sms["id"]]) == ([], [])


async def test_a_join_read_before_its_contact_still_gets_its_email(stack, sink, union_id):
    """The contact topic and the member topic are not ordered with each other: MemberJoined may be
    read before the MemberContactChanged its admission sent. The welcome waits for that contact —
    also when notify still holds an older contact without e-mail (a former member, rejoining)."""
    newcomer, returner = uuid.uuid4(), uuid.uuid4()
    await publish(stack, contact_changed(returner, "孙二", phone="13700137000"))  # years ago, no e-mail
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM contacts WHERE member_id = $1", returner),
                     "the old contact in notify", timeout=FIRST_DEADLINE)
    addresses = {newcomer: new_address(), returner: new_address()}
    for member_id, name in ((newcomer, "周一"), (returner, "孙二")):
        await publish(stack, MemberJoined(
            member_id=member_id, union_id=uuid.UUID(union_id), union_name="通知测试工会", org_path=[uuid.UUID(union_id)],
            name=name, gender="female", birth_year=1990, is_migrant_worker=False, joined_on=date(2025, 9, 1)))
    for member_id in addresses:
        await delivery(stack, member_id, channel="inapp", status="delivered")  # the welcome was read
        [email] = await db_fetch(stack, "SELECT status FROM deliveries WHERE member_id = $1 AND channel = 'email'"
                                 " AND source_event_type = 'MemberJoined'", member_id)
        assert email["status"] == "pending"  # waiting for the contact, not failed nor given up
    await asyncio.sleep(1.0)  # a moment later
    for member_id, address in addresses.items():
        await publish(stack, contact_changed(member_id, "会员", email=address))

    for member_id, address in addresses.items():
        row = await delivery(stack, member_id, status="delivered")
        assert row["failure_reason"] is None
        assert len(mails_to(sink, address)) == 1


async def test_templates_are_listed_and_previewed_in_chinese(notify):
    listed = notify.get("/templates", headers=auth("auditor"))
    assert listed.status_code == 200
    assert {"member_joined", "case_opened", "contest_scored"} <= {t["name"] for t in listed.json()}

    preview = notify.post("/templates/member_joined/preview", headers=auth("auditor"),
                          json={"context": {"union_name": "示例机械厂工会"}})
    assert preview.status_code == 200, preview.text
    assert preview.json()["subject"] == "欢迎加入示例机械厂工会"
    assert "年" in preview.json()["body"] and "月" in preview.json()["body"]

    # Per channel and language, as it would be sent: SMS one line, a group chat's name masked.
    sms = notify.post("/templates/member_joined/preview", headers=auth("auditor"), json={"channel": "sms"}).json()
    assert sms["channel"] == "sms" and "\n" not in sms["body"] and "示例科技有限公司工会" in sms["body"]
    robot = notify.post("/templates/member_joined/preview", headers=auth("auditor"), json={"channel": "webhook"}).json()
    assert "张*" in robot["body"] and "张三" not in robot["body"]
    english = notify.post("/templates/member_joined/preview", headers=auth("auditor"),
                          json={"channel": "sms", "language": "en"}).json()
    assert english["language"] == "en" and "you joined" in english["body"]
    assert notify.post("/templates/member_joined/preview", headers=auth("auditor"),
                       json={"channel": "fax"}).status_code == 422

    assert notify.post("/templates/nope/preview", headers=auth("auditor")).status_code == 404
    bad = notify.post("/templates/aid_disbursed/preview", headers=auth("auditor"),
                      json={"context": {"amount_fen": "很多"}})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


async def publish(stack_config, event: DomainEvent, *, times: int = 1,
                  event_id: uuid.UUID | None = None) -> uuid.UUID:
    """Publish one CloudEvent as another service's relay would; `times` > 1 repeats the same
    event id, as a relay does after a lost acknowledgement; `event_id` publishes it again under
    the id it had, as a relay does when it replays its outbox."""
    env = Envelope(id=event_id or uuid.uuid4(), type=event.event_type(), source="tests",
                   time=datetime.now(timezone.utc), data=event.model_dump(mode="json"), subject=event.key())
    producer = AIOKafkaProducer(bootstrap_servers=stack_config.bootstrap)
    await producer.start()
    try:
        for _ in range(times):
            await producer.send_and_wait(event.topic, env.value(), key=event.key().encode(), headers=env.kafka_headers())
    finally:
        await producer.stop()
    return env.id


async def test_cases_and_scores_reach_the_member_once_each(stack, membership, sink, union_id):
    address = new_address()
    member_id = uuid.UUID(admit_member(membership, union_id, "孙丽", email=address))
    welcome = await delivery(stack, member_id, status="delivered")

    case = CaseOpened(case_id=uuid.uuid4(), member_id=member_id, union_id=uuid.UUID(union_id),
                      org_path=welcome["org_path"], kind="medical", source="hotline", opened_on=date(2025, 8, 15))
    score = ContestScored(contest_id=uuid.uuid4(), contest_name="2025年职工技能比赛", entry_id=uuid.uuid4(),
                          member_id=member_id, judge_id="judge-3", criterion="实操", score_centipoints=8750,
                          max_centipoints=10000, scored_at=datetime(2025, 6, 21, 6, 30, tzinfo=timezone.utc))
    await publish(stack, case)
    score_event_id = await publish(stack, score, times=2)

    case_row = await delivery(stack, member_id, status="delivered", event_type="CaseOpened")
    score_row = await delivery(stack, member_id, status="delivered", event_type="ContestScored")
    # One "scoring under way" notice per entry, keyed by the entry rather than by the score.
    assert score_row["source_event_id"] == domain.scoring_notice_id(score.entry_id) != score_event_id
    # ContestScored carries no org path: notify takes it from the members it has seen join.
    assert score_row["org_path"] == welcome["org_path"] == case_row["org_path"]

    mails = {m["subject"]: m for m in mails_to(sink, address)}
    assert set(mails) == {welcome_subject(welcome), "工会已受理您的医疗帮扶案件", "2025年职工技能比赛：评分进行中"}
    assert all(m["receipts"] == 1 for m in mails.values())
    score_text = mails["2025年职工技能比赛：评分进行中"]["text"]
    assert "87.5" not in score_text and "实操" not in score_text and "judge-3" not in score_text


def welcome_subject(row) -> str:
    return "欢迎加入" + row["context"]["union_name"]


async def test_a_delivery_waiting_too_long_for_an_address_is_not_deliverable(stack):
    """A notification whose member never gets a contact (membership sends none for a member with
    neither e-mail nor phone) is given up after NOTIFY_CONTACT_WAIT_SECONDS: not deliverable, not
    a failure — no NotificationFailed, no dead letter."""
    conn = await db.connect(stack.dsn("notify"))
    try:
        delivery_id = await conn.fetchval(
            "INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, channel, template,"
            " template_version, context, created_at) VALUES ($1, $2, 'MemberJoined', $3, 'email', 'member_joined', 1,"
            " '{}'::jsonb, now() - interval '1 hour') RETURNING id", uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    finally:
        await conn.close()
    deadline = time.monotonic() + DEADLINE
    while True:
        [row] = await db_fetch(stack, "SELECT status, failure_reason FROM deliveries WHERE id = $1", delivery_id)
        if row["status"] != "pending":
            break
        assert time.monotonic() < deadline, "the waiting delivery was never given up"
        await asyncio.sleep(0.3)
    assert (row["status"], row["failure_reason"]) == ("undeliverable", "no_address")
    assert await outbox_events(stack, delivery_id) == []
    await asyncio.sleep(1.5)
    assert await dead_letters(stack, [delivery_id]) == ([], [])


async def test_a_send_interrupted_after_the_server_accepted_it_is_resent_with_the_same_message_id(stack, sink):
    """The one ambiguous window: the server said 250, the process died before committing
    'delivered'. The lease runs out, the mail goes again with the same Message-ID, and the
    receiving side folds the two receipts into one message."""
    address, member_id, delivery_id = new_address(), uuid.uuid4(), uuid.uuid4()
    first = EmailMessage()
    first["Message-ID"], first["From"], first["To"] = f"<{delivery_id}@unionops.local>", "noreply@unionops.local", address
    first["Subject"] = "欢迎加入示例工会"
    first.set_content("第一次发送")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp:
        smtp.send_message(first)
    conn = await db.connect(stack.dsn("notify"))
    try:
        async with conn.transaction():
            await put_contact(conn, Vault.from_settings(SETTINGS).contact_keys, member_id, "周杰", address, None)
            await conn.execute(
                "INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, channel, template,"
                " template_version, context, status, attempts, lease_expires_at) VALUES ($1, $2, 'MemberJoined', $3,"
                " 'email', 'member_joined', 1, $4, 'sending', 1, now() - interval '1 second')",
                delivery_id, uuid.uuid4(), member_id, {"union_name": "示例工会", "joined_on": "2025-06-08"})
    finally:
        await conn.close()

    row = await delivery(stack, member_id, status="delivered")
    assert row["attempts"] == 2
    [mail] = mails_to(sink, address)
    assert mail["message_id"] == f"<{delivery_id}@unionops.local>" and mail["receipts"] == 2


async def test_mails_share_one_smtp_connection(stack, membership, sink, union_id):
    """notify keeps its SMTP connections open: mails sent one after another go over one session."""
    await dispatcher_idle(stack)
    addresses = [new_address() for _ in range(3)]
    for i, address in enumerate(addresses):
        member_id = admit_member(membership, union_id, f"连接测试{zh_digits(i)}", email=address)
        await delivery(stack, member_id, status="delivered")
    mails = [m for a in addresses for m in mails_to(sink, a)]
    assert len(mails) == 3 and all(m["receipts"] == 1 for m in mails)
    assert len({m["connection_id"] for m in mails}) == 1
