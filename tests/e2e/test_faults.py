"""Crashes mid-stream: nothing committed is lost, nothing is applied or delivered twice."""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.membership import found_district
from tests.support.rows import query
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def admit_many(url: str, union_id: str, emails: list[str], on_progress=None) -> dict[str, int]:
    """Admit members with 4 concurrent clients; returns email -> final HTTP status. A request
    that hits a restarting service is retried with the same Idempotency-Key."""
    results: dict[str, int] = {}
    done = 0
    lock = threading.Lock()

    def one(email: str) -> None:
        nonlocal done
        from tests.support.people import auth, new_resident_id

        body = {"union_id": union_id, "name": "测试会员", "id_number": new_resident_id(), "email": email}
        headers = auth() | {"Idempotency-Key": f"fault-{email}"}
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.post(f"{url}/members", json=body, headers=headers, timeout=10)
                if r.status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"could not admit {email}")
            time.sleep(0.3)
        with lock:
            results[email] = r.status_code
            done += 1
            if on_progress:
                on_progress(done)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, emails))
    return results


def distinct_mail(sink: httpx.Client, emails: set[str], raw: bool = False) -> dict[str, int]:
    """recipient -> number of distinct messages (by Message-ID) received, or of raw receipts."""
    params = {"limit": 100000} | ({"all": "true"} if raw else {})
    body = sink.get("/messages", params=params).json()
    msgs = body["messages"] if isinstance(body, dict) else body
    counts: dict[str, int] = {}
    for m in msgs:
        for rcpt in m["rcpt_tos"]:
            if rcpt in emails:
                counts[rcpt] = counts.get(rcpt, 0) + 1
    return counts


async def test_notify_killed_mid_stream_delivers_every_welcome_exactly_once(system, membership_client, sink,
                                                                            stack_config):
    union = found_district(membership_client).union_ids[0]
    tag = uuid.uuid4().hex[:6]
    emails = [f"kill-notify-{tag}-{i:03d}@example.cn" for i in range(200)]
    notify = system["notify"]
    killed = threading.Event()

    def kill_at_60(done: int) -> None:
        if done == 60 and not killed.is_set():
            killed.set()
            notify.kill()  # kill -9 while admissions flow

    results = admit_many(system["membership"].url, union, emails, on_progress=kill_at_60)
    assert killed.is_set() and set(results.values()) == {201}
    # Sends cut off by the kill are retried when their lease runs out; a short lease keeps the test short.
    notify.extra_env.update(SMTP_TIMEOUT_SECONDS="3", NOTIFY_SMS_TIMEOUT_SECONDS="3", NOTIFY_WEBHOOK_TIMEOUT_SECONDS="3",
                            NOTIFY_SEND_LEASE_SECONDS="8")
    notify.start()  # a new member of the group gets the partitions once the dead one's session expires

    async def statuses() -> dict[str, int]:
        rows = await query(stack_config.dsn("notify"),
                           "SELECT d.status, count(*) AS n FROM deliveries d JOIN members m USING (member_id)"
                           " WHERE m.union_id = $1::uuid AND d.channel = 'email' GROUP BY d.status", union)
        return {r["status"]: r["n"] for r in rows}

    deadline = time.monotonic() + 150
    while await statuses() != {"delivered": 200} and time.monotonic() < deadline:
        time.sleep(0.5)
    assert await statuses() == {"delivered": 200}
    wanted = set(emails)
    counts = distinct_mail(sink, wanted)
    assert set(counts) == wanted and set(counts.values()) == {1}
    published = await query(stack_config.dsn("notify"),
                            "SELECT count(*) AS n, count(DISTINCT payload->>'notification_id') AS d FROM outbox"
                            " WHERE event_type = 'NotificationDelivered' AND payload->>'notification_id' IN"
                            " (SELECT d.id::text FROM deliveries d JOIN members m USING (member_id)"
                            "  WHERE m.union_id = $1::uuid AND d.channel = 'email')", union)
    assert published[0]["n"] == published[0]["d"] == 200


async def test_membership_restarted_mid_relay_loses_and_duplicates_nothing_downstream(system, membership_client,
                                                                                    sink, stack_config):
    union = found_district(membership_client).union_ids[0]
    tag = uuid.uuid4().hex[:6]
    emails = [f"kill-relay-{tag}-{i:03d}@example.cn" for i in range(150)]
    membership = system["membership"]
    killed = threading.Event()

    def kill_and_restart(done: int) -> None:
        if done == 50 and not killed.is_set():
            killed.set()
            membership.kill()  # relay mid-batch: rows committed, maybe sent, not yet marked
            threading.Thread(target=membership.start, daemon=True).start()

    admit_many(membership.url, union, emails, on_progress=kill_and_restart)
    assert killed.is_set()
    eventually_sync(lambda: membership.proc.poll() is None
                    and httpx.get(membership.url + "/health/ready").status_code == 200, "membership back")

    # The truth: every member membership committed for this union.
    members = [r["id"] for r in await query(stack_config.dsn("membership"),
                                            "SELECT id FROM members WHERE union_id = $1::uuid", union)]
    assert len(members) == 150

    async def projected(service: str) -> dict:
        rows = await query(stack_config.dsn(service), "SELECT member_id, count(*) AS n FROM members"
                           " WHERE member_id = ANY($1::uuid[]) GROUP BY member_id", members)
        return {r["member_id"]: r["n"] for r in rows}

    deadline = time.monotonic() + 120
    for service in ("welfare", "competitions"):  # each consumes at its own pace: wait for each
        while time.monotonic() < deadline and len(await projected(service)) < 150:
            time.sleep(0.5)
        got = await projected(service)
        assert set(got) == set(members), f"{service} lost events"
    wanted = set(emails)
    eventually_sync(lambda: len(distinct_mail(sink, wanted)) == 150, "150 welcome e-mails", timeout=120)
    time.sleep(2)
    assert set(distinct_mail(sink, wanted).values()) == {1}
    # A republished event is deduplicated by notify's inbox: not even a second SMTP receipt.
    assert set(distinct_mail(sink, wanted, raw=True).values()) == {1}
    deliveries = await query(stack_config.dsn("notify"), "SELECT member_id, count(*) AS n FROM deliveries"
                             " WHERE member_id = ANY($1::uuid[]) AND channel = 'email' GROUP BY member_id", members)
    assert len(deliveries) == 150 and {r["n"] for r in deliveries} == {1}
