"""Two replicas of membership and of notify, as the year runs them (devstack.year.stack): one
relay leader per service, the consumer group's partitions shared, the dispatcher's leases keeping
two notify replicas from sending twice — also when a notify replica is SIGKILLed mid-delivery and
when the broker restarts (forgetting its log) mid-admissions. Welcomes are counted at the SMTP
sink's HTTP API, by Message-ID (the delivery's idempotency key)."""
from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.config import SERVICES, StackConfig
from devstack.year.stack import Chaos, YearStack
from tests.support.membership import admit, found_district
from tests.support.people import auth
from tests.support.rows import query
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

MEMBERS = 120
# A sender killed mid-send leaves its claims `sending`: a short lease (and channel timeouts under
# half of it, as notify's settings demand) lets the survivor take them over within the test. A
# provider rate limit keeps deliveries in flight long enough for a kill to meet some, and small
# claims have both replicas sending (one claim of 200 would leave the other idle).
NOTIFY = {"NOTIFY_SEND_LEASE_SECONDS": "8", "SMTP_TIMEOUT_SECONDS": "3", "NOTIFY_SMS_TIMEOUT_SECONDS": "3",
          "NOTIFY_WEBHOOK_TIMEOUT_SECONDS": "3", "NOTIFY_EMAIL_RATE_PER_SECOND": "10",
          "NOTIFY_DISPATCH_BATCH_SIZE": "10"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[YearStack]:
    cfg = StackConfig.ephemeral(tmp_path_factory.mktemp("year-stack"))
    with YearStack(cfg, replicas={"membership": 2, "notify": 2}, env={}, service_env={"notify": NOTIFY}) as s:
        yield s


@pytest.fixture(scope="module")
def sink(stack: YearStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.cfg.smtpsink_url, timeout=30) as client:
        yield client


def admit_alternately(stack: YearStack, union_id: str, emails: list[str],
                      on_progress: Callable[[int], None] = lambda done: None) -> None:
    """POST /members for each address, the i-th to membership replica i mod 2, four at a time."""
    urls = stack.urls("membership")
    assert len(urls) == 2
    done, lock = 0, threading.Lock()

    def one(i: int) -> None:
        nonlocal done
        headers = auth() | {"Idempotency-Key": f"year-{emails[i]}"}
        with httpx.Client(base_url=urls[i % 2], timeout=30) as client:
            r = admit(client, union_id, name="测试会员", email=emails[i], headers=headers)
        assert r.status_code == 201, r.text
        with lock:
            done += 1
            on_progress(done)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(len(emails))))


def new_union(stack: YearStack) -> tuple[str, list[str]]:
    with httpx.Client(base_url=stack.urls("membership")[0], timeout=30) as client:
        union = found_district(client).union_ids[0]
    tag = uuid.uuid4().hex[:6]
    return union, [f"year-{tag}-{i:03d}@example.cn" for i in range(MEMBERS)]


def received(sink: httpx.Client, emails: list[str]) -> dict[str, int]:
    """recipient -> distinct messages (by Message-ID) the sink holds for it, of those wanted."""
    body = sink.get("/messages", params={"limit": 100000}).json()
    wanted, counts = set(emails), {}
    for message in body["messages"]:
        for rcpt in message["rcpt_tos"]:
            if rcpt in wanted:
                counts[rcpt] = counts.get(rcpt, 0) + 1
    return counts


async def all_welcomes_delivered(stack: YearStack, union_id: str, members: int = MEMBERS) -> None:
    """Until notify settled every e-mail of the union's members as delivered (nothing pending,
    nothing `sending` under a lease that could still be sent again)."""
    async def statuses() -> bool:
        rows = await query(stack.cfg.dsn("notify"),
                           "SELECT d.status, count(*) AS n FROM deliveries d JOIN members m USING (member_id)"
                           " WHERE m.union_id = $1::uuid AND d.channel = 'email' GROUP BY d.status", union_id)
        return {r["status"]: r["n"] for r in rows} == {"delivered": members}
    await eventually(statuses, what=f"{members} welcome e-mails delivered", timeout=100)


def assert_each_welcome_once(sink: httpx.Client, emails: list[str]) -> None:
    counts = {e: sink.get("/messages/count", params={"to": e}).json()["messages"] for e in emails}
    assert {e: n for e, n in counts.items() if n != 1} == {}


async def in_flight(stack: YearStack, union_id: str, *, at_least: int) -> bool:
    """At least so many of the union's e-mails claimed (`sending`) at this moment."""
    rows = await query(stack.cfg.dsn("notify"),
                       "SELECT count(*) AS n FROM deliveries d JOIN members m USING (member_id)"
                       " WHERE m.union_id = $1::uuid AND d.channel = 'email' AND d.status = 'sending'", union_id)
    return rows[0]["n"] >= at_least


async def taken_over(stack: YearStack, union_id: str) -> int:
    """The union's e-mails sent on a later attempt than the first (a claim whose lease ran out)."""
    rows = await query(stack.cfg.dsn("notify"),
                       "SELECT count(*) AS n FROM deliveries d JOIN members m USING (member_id)"
                       " WHERE m.union_id = $1::uuid AND d.channel = 'email' AND d.attempts > 1", union_id)
    return rows[0]["n"]


def relay_leaders(stack: YearStack, service: str) -> list[str]:
    """The replicas whose on-call status says they hold the outbox relay."""
    leaders = []
    for replica in stack.replicas(service):
        if replica.alive:
            r = httpx.get(replica.url + "/admin/status", headers=auth(), timeout=10)
            assert r.status_code == 200, r.text
            if r.json()["outbox"]["relay_leader"]:
                leaders.append(replica.name)
    return leaders


def applied(replica_url: str, consumer: str) -> float:
    """Events the replica's consumer applied, from its /metrics."""
    text = httpx.get(replica_url + "/metrics", timeout=10).text
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "unionops_consumer_events_total"
               and s.labels.get("consumer") == consumer and s.labels.get("outcome") == "applied")


async def test_two_replicas_each_send_every_welcome_exactly_once_with_one_relay_leader_per_service(stack, sink):
    union, emails = new_union(stack)
    admit_alternately(stack, union, emails)
    await all_welcomes_delivered(stack, union)
    assert set(received(sink, emails)) == set(emails)
    assert_each_welcome_once(sink, emails)
    assert {s: len(relay_leaders(stack, s)) for s in SERVICES} == {s: 1 for s in SERVICES}
    # One consumer group: the partitions are shared, so both notify replicas applied events.
    assert all(applied(r.url, "notify.events") > 0 for r in stack.replicas("notify"))


async def test_a_notify_replica_killed_mid_delivery_leaves_every_welcome_sent_exactly_once(stack, sink):
    union, emails = new_union(stack)
    victim = stack.replicas("notify")[0]
    killed = threading.Event()

    def kill_once_deliveries_flow(done: int) -> None:
        if not killed.is_set() and done >= MEMBERS // 2 and len(received(sink, emails)) >= 10:
            killed.set()
            stack.kill("notify", victim.index)  # its claims stay `sending` until their lease runs out

    try:
        admit_alternately(stack, union, emails, on_progress=kill_once_deliveries_flow)
        assert killed.is_set()
        assert len(received(sink, emails)) < MEMBERS, "the kill came after every welcome was out"
        # The survivor alone: it takes the dead one's partitions and, once leases run out, its claims.
        await all_welcomes_delivered(stack, union)
        assert set(received(sink, emails)) == set(emails)
        assert_each_welcome_once(sink, emails)
        assert relay_leaders(stack, "notify") == [stack.replicas("notify")[1].name]
    finally:
        stack.start_replica("notify", victim.index)  # as a supervisor would


async def test_the_relay_leader_killed_hands_over_to_the_standby_which_publishes_what_comes_next(stack, sink):
    [leader] = relay_leaders(stack, "membership")
    victim = next(r for r in stack.replicas("membership") if r.name == leader)
    union, emails = new_union(stack)
    stack.kill("membership", victim.index)  # the session's advisory lock goes with its connection
    try:
        await eventually(lambda: _as_future(relay_leaders(stack, "membership")), what="a new relay leader",
                         timeout=15)
        [survivor] = stack.urls("membership")
        with httpx.Client(base_url=survivor, timeout=30) as client:
            for email in emails[:20]:
                assert admit(client, union, name="测试会员", email=email).status_code == 201
        assert relay_leaders(stack, "membership") == [r.name for r in stack.replicas("membership") if r.alive]
        await eventually(lambda: _as_future(len(received(sink, emails[:20])) == 20), what="20 welcomes",
                         timeout=60)
        assert_each_welcome_once(sink, emails[:20])
    finally:
        stack.start_replica("membership", victim.index)
    assert len(relay_leaders(stack, "membership")) == 1  # the one restarted stands by


async def test_a_broker_restart_mid_admissions_still_sends_every_welcome_exactly_once(stack, sink):
    union, emails = new_union(stack)
    restarted = threading.Event()

    def restart_halfway(done: int) -> None:
        if done == MEMBERS // 2 and not restarted.is_set():
            restarted.set()
            stack.restart_broker()  # topics, records and the groups' offsets are gone

    admit_alternately(stack, union, emails, on_progress=restart_halfway)
    assert restarted.is_set()
    await all_welcomes_delivered(stack, union)
    assert set(received(sink, emails)) == set(emails)
    assert_each_welcome_once(sink, emails)
    stack.wait_ready()
    assert {s: len(relay_leaders(stack, s)) for s in SERVICES} == {s: 1 for s in SERVICES}


def admit_through_faults(stack: YearStack, union_id: str, email: str, i: int) -> None:
    """POST /members to a running membership replica, again with the same Idempotency-Key after a
    transport error or a 5xx (a replica killed under the request), as the year's driver does."""
    headers = auth() | {"Idempotency-Key": f"year-{email}"}
    deadline = time.monotonic() + 90
    while True:
        urls = stack.urls("membership")
        try:
            with httpx.Client(base_url=urls[i % len(urls)], timeout=10) as client:
                r = admit(client, union_id, name="测试会员", email=email, headers=headers)
            if r.status_code < 500:
                assert r.status_code == 201, r.text
                return
        except (httpx.HTTPError, IndexError):  # IndexError: no replica running this instant
            pass
        assert time.monotonic() < deadline, f"could not admit {email}"
        time.sleep(0.3)


async def test_chaos_kills_replicas_and_restarts_the_broker_and_every_welcome_still_arrives_once(stack, sink):
    """Admissions go on until chaos has killed replicas three times and restarted the broker once
    (however the seed's pauses fall), then every welcome arrives exactly once."""
    union, _ = new_union(stack)
    emails, admitted = [f"year-chaos-{uuid.uuid4().hex[:6]}-{i:03d}@example.cn" for i in range(600)], []
    chaos = Chaos(stack, random.Random(15), print, mean_interval_s=2.0, restart_delay_s=(0.5, 1.5))
    chaos.start()
    try:
        for i, email in enumerate(emails):
            admit_through_faults(stack, union, email, i)
            admitted.append(email)
            if len([t for t in chaos.timeline if t["what"] == "kill"]) >= 3 and chaos.broker_restarts == 1:
                break
            time.sleep(0.1)
    finally:
        chaos.stop()
    assert chaos.errors == []
    assert len([t for t in chaos.timeline if t["what"] == "kill"]) >= 3 and chaos.broker_restarts == 1
    assert all(set(t) >= {"at_real", "what", "target", "recovered_after_s"} and t["recovered_after_s"] > 0
               for t in chaos.timeline)
    assert all(r.alive for r in stack.all_replicas())
    await all_welcomes_delivered(stack, union, len(admitted))
    assert_each_welcome_once(sink, admitted)
    assert {s: len(relay_leaders(stack, s)) for s in SERVICES} == {s: 1 for s in SERVICES}


async def _as_future(value):
    return value
