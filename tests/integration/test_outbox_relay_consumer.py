"""The shared plumbing against the real broker and the real PostgreSQL: outbox, relay (incl.
replay after the memory broker lost its log) and the idempotent consumer with its DLQ."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker
from opentelemetry import trace

from contracts.events import MemberJoined, dlq_topic
from tests.support.broker import header, read_topic
from tests.support.waiting import eventually
from unionops import db, outbox
from unionops.clock import local_today
from unionops.consumer import IdempotentConsumer
from unionops.kafka import broker_is_new, ensure_topics, mark_broker_seen
from unionops.relay import OutboxRelay
from unionops.service import _subscribe
from unionops.settings import CommonSettings
from unionops.telemetry import setup_tracing

pytestmark = pytest.mark.integration

TOPIC = MemberJoined.topic


def joined(name: str = "张三") -> MemberJoined:
    return MemberJoined(member_id=uuid.uuid4(), union_id=uuid.uuid4(), union_name="测试工会", org_path=[uuid.uuid4()],
                        name=name, gender="male", birth_year=1990, joined_on=local_today())


@pytest.fixture(scope="module")
async def plumbing(infra, stack_config, tmp_path_factory):
    dsn = stack_config.dsn("plumbing")
    await db.ensure_database(stack_config.dsn("postgres"), "plumbing")
    migrations = tmp_path_factory.mktemp("plumbing-migrations")
    (migrations / "001_effects.sql").write_text(
        "CREATE TABLE effects (event_id uuid NOT NULL, consumer text NOT NULL, member_name text NOT NULL);")
    await db.migrate(dsn, migrations)
    settings = CommonSettings(KAFKA_BOOTSTRAP_SERVERS=stack_config.bootstrap, OTEL_EXPORTER_OTLP_ENDPOINT=None)
    setup_tracing("plumbing-test", None)
    await ensure_topics(settings, [TOPIC, dlq_topic(TOPIC)])
    pool = await db.create_pool(dsn)
    producer = AIOKafkaProducer(bootstrap_servers=stack_config.bootstrap, acks="all")
    await producer.start()
    relay = OutboxRelay(dsn, producer, source="unionops/test", poll_interval=0.2, check_interval=1.0,
                        ensure_topics=lambda: ensure_topics(settings, [TOPIC], timeout=5),
                        broker_is_new=lambda: broker_is_new(settings, "plumbing-test"),
                        broker_seen=lambda: mark_broker_seen(settings, "plumbing-test"))
    task = asyncio.create_task(relay.run())
    yield {"dsn": dsn, "pool": pool, "producer": producer, "relay": relay, "settings": settings,
           "bootstrap": stack_config.bootstrap}
    relay.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await producer.stop()
    await pool.close()


async def published(pool, event_id) -> bool:
    return bool(await pool.fetchval("SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1", event_id))


async def test_events_of_a_rolled_back_transaction_are_never_published(plumbing):
    pool = plumbing["pool"]
    event = joined("回滚")
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await outbox.record(conn, event)
            raise RuntimeError("the state change failed")
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE payload->>'member_id' = $1", str(event.member_id)) == 0
    with pytest.raises(RuntimeError, match="inside the transaction"):
        async with pool.acquire() as conn:
            await outbox.record(conn, joined())


async def test_relay_publishes_cloudevents_with_the_stored_trace_context(plumbing):
    pool = plumbing["pool"]
    event = joined()
    with trace.get_tracer("test").start_as_current_span("admit member") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
        async with pool.acquire() as conn, conn.transaction():
            event_id = await outbox.record(conn, event)

    async def is_published():
        return await published(pool, event_id)

    await eventually(is_published, timeout=40)
    records = [r for r in await read_topic(plumbing["bootstrap"], TOPIC) if header(r, "ce_id") == str(event_id)]
    assert len(records) == 1
    r = records[0]
    assert header(r, "ce_type") == "MemberJoined"
    assert header(r, "ce_source") == "unionops/test"
    assert header(r, "ce_specversion") == "1.0"
    assert r.key == str(event.member_id).encode()
    assert header(r, "traceparent").split("-")[1] == trace_id
    assert MemberJoined.model_validate_json(r.value) == event


async def test_broker_refuses_a_value_that_breaks_the_topic_schema(plumbing):
    with pytest.raises(Exception):
        await plumbing["producer"].send_and_wait(TOPIC, b'{"member_id": "not-a-member"}', key=b"x")


def make_consumer(plumbing, name: str, fail_for: set[str] = frozenset()) -> IdempotentConsumer:
    consumer = IdempotentConsumer(name, lambda: plumbing["pool"], lambda: plumbing["producer"], max_retries=2,
                                  retry_backoff=0.01)

    @consumer.on(MemberJoined)
    async def record_effect(conn, event: MemberJoined, env):
        if event.name in fail_for:
            raise ValueError(f"cannot handle {event.name}")
        await conn.execute("INSERT INTO effects (event_id, consumer, member_name) VALUES ($1, $2, $3)",
                           env.id, name, event.name)

    return consumer


async def stage(pool, *events) -> list[uuid.UUID]:
    async with pool.acquire() as conn, conn.transaction():
        return await outbox.record_many(conn, events)


async def test_each_event_takes_effect_once_though_delivered_twice(plumbing):
    pool = plumbing["pool"]
    (event_id,) = await stage(pool, joined("李四"))

    async def is_published():
        return await published(pool, event_id)

    await eventually(is_published, timeout=40)
    record = [r for r in await read_topic(plumbing["bootstrap"], TOPIC) if header(r, "ce_id") == str(event_id)][0]
    consumer = make_consumer(plumbing, f"test.once.{uuid.uuid4().hex[:6]}")
    await consumer.process([record, record])  # the same event twice in one batch
    await consumer.process([record])  # and redelivered later
    assert await pool.fetchval("SELECT count(*) FROM effects WHERE event_id = $1 AND consumer = $2",
                               event_id, consumer.name) == 1


async def test_a_failing_event_goes_to_the_dlq_and_the_consumer_keeps_going(plumbing):
    pool = plumbing["pool"]
    bad_id, good_id = await stage(pool, joined("坏消息"), joined("好消息"))

    async def both_published():
        return await published(pool, bad_id) and await published(pool, good_id)

    await eventually(both_published, timeout=40)
    records = [r for r in await read_topic(plumbing["bootstrap"], TOPIC) if header(r, "ce_id") in {str(bad_id), str(good_id)}]
    consumer = make_consumer(plumbing, f"test.dlq.{uuid.uuid4().hex[:6]}", fail_for={"坏消息"})
    await consumer.process(records)

    effects = await pool.fetch("SELECT event_id FROM effects WHERE consumer = $1", consumer.name)
    assert [r["event_id"] for r in effects] == [good_id]
    status = await pool.fetchval("SELECT status FROM inbox WHERE consumer = $1 AND event_id = $2", consumer.name, bad_id)
    assert status == "dead_lettered"
    dead = [r for r in await read_topic(plumbing["bootstrap"], dlq_topic(TOPIC)) if header(r, "ce_id") == str(bad_id)]
    assert len(dead) == 1
    assert "cannot handle 坏消息" in header(dead[0], "dlq_error")
    assert header(dead[0], "dlq_consumer") == consumer.name
    # Redelivery of the dead-lettered event does not try again nor dead-letter twice.
    await consumer.process(records)
    assert consumer.dead_lettered_total == 1


async def test_a_batch_handler_takes_a_run_of_events_at_once_and_each_keeps_its_trace(plumbing):
    pool = plumbing["pool"]
    tracer = trace.get_tracer("test")
    traces, events = [], [joined(f"批量{i}") for i in range(4)] + [joined("坏消息")]
    ids = []
    for event in events:  # each admission its own business action, its own trace
        with tracer.start_as_current_span("admit member") as span:
            traces.append(format(span.get_span_context().trace_id, "032x"))
            ids += await stage(pool, event)

    async def all_published():
        return all([await published(pool, i) for i in ids])

    await eventually(all_published, timeout=40)
    by_id = {header(r, "ce_id"): r for r in await read_topic(plumbing["bootstrap"], TOPIC)}
    records = [by_id[str(i)] for i in ids]
    name = f"test.batch.{uuid.uuid4().hex[:6]}"
    consumer = IdempotentConsumer(name, lambda: pool, lambda: plumbing["producer"], max_retries=1, retry_backoff=0.01)
    calls: list[list[str]] = []
    seen_traces: dict[uuid.UUID, str] = {}

    @consumer.on_batch(MemberJoined)
    async def record_effects(conn, batch):
        calls.append([r.event.name for r in batch])
        for r in batch:
            seen_traces[r.envelope.id] = r.trace_headers["traceparent"].split("-")[1]
        if any(r.event.name == "坏消息" for r in batch):
            raise ValueError("cannot handle 坏消息")
        await conn.execute("INSERT INTO effects (event_id, consumer, member_name)"
                           " SELECT e, $1, n FROM unnest($2::uuid[], $3::text[]) AS t(e, n)",
                           name, [r.envelope.id for r in batch], [r.event.name for r in batch])

    await consumer.process(records)
    # One call for the whole run; it failed on the bad one, so each was tried alone once more
    # (the bad one twice: max_retries=1) and then dead-lettered.
    assert calls[0] == [e.name for e in events]
    assert calls[1:] == [[e.name] for e in events[:4]] + [["坏消息"], ["坏消息"]]
    effects = await pool.fetch("SELECT event_id FROM effects WHERE consumer = $1", name)
    assert sorted(r["event_id"] for r in effects) == sorted(ids[:4])
    assert consumer.dead_lettered_total == 1 and consumer.applied_total == 4
    # Every event was processed in the trace of the action that published it.
    assert [seen_traces[i] for i in ids] == traces

    calls.clear()
    await consumer.process(records[:4])  # redelivered: nothing runs again
    assert calls == []


async def test_a_malformed_message_is_dead_lettered_not_retried_forever(plumbing):
    producer = plumbing["producer"]
    consumer = make_consumer(plumbing, f"test.malformed.{uuid.uuid4().hex[:6]}")
    meta = await producer.send_and_wait(dlq_topic(TOPIC), b"not json", key=b"k")  # any topic without a schema
    from types import SimpleNamespace
    record = SimpleNamespace(topic=TOPIC, partition=meta.partition, offset=meta.offset, key=b"k", value=b"not json",
                             headers=[("ce_id", b"bad"), ("ce_type", b"MemberJoined"), ("ce_source", b"x")])
    await consumer.process([record])
    assert consumer.dead_lettered_total == 1


async def test_faststream_subscriber_applies_events_from_the_broker_once(plumbing):
    pool = plumbing["pool"]
    name = f"test.subscriber.{uuid.uuid4().hex[:6]}"
    consumer = make_consumer(plumbing, name)
    broker = KafkaBroker(plumbing["bootstrap"])
    _subscribe(broker, consumer, plumbing["settings"])
    ids = await stage(pool, *(joined(f"会员{i}") for i in range(20)))
    await broker.start()
    try:
        async def all_applied():
            n = await pool.fetchval("SELECT count(*) FROM effects WHERE consumer = $1 AND event_id = ANY($2::uuid[])",
                                    name, ids)
            return n == len(ids)

        await eventually(all_applied, timeout=60)
    finally:
        await broker.stop()
    assert await pool.fetchval("SELECT count(DISTINCT event_id) = count(*) FROM effects WHERE consumer = $1", name)


async def test_relay_replays_what_a_restarted_memory_broker_forgot(plumbing, infra):
    pool = plumbing["pool"]
    (before,) = await stage(pool, joined("重启前"))

    async def before_published():
        return await published(pool, before)

    await eventually(before_published, timeout=40)
    infra.stop_broker()
    infra.start_broker()  # empty: topics, records and offsets are gone
    await ensure_topics(plumbing["settings"], [TOPIC, dlq_topic(TOPIC)])
    (after,) = await stage(pool, joined("重启后"))

    async def both_on_the_new_broker():
        ids = {header(r, "ce_id") for r in await read_topic(plumbing["bootstrap"], TOPIC)}
        return {str(before), str(after)} <= ids

    await eventually(both_on_the_new_broker, timeout=60)


async def test_relay_replays_after_a_broker_restart_even_without_new_events(plumbing, infra):
    """A full stop and start: events published before it, maybe not yet consumed, come back."""
    pool = plumbing["pool"]
    (before,) = await stage(pool, joined("全停前"))

    async def before_published():
        return await published(pool, before)

    await eventually(before_published, timeout=40)
    infra.stop_broker()
    infra.start_broker()
    await ensure_topics(plumbing["settings"], [TOPIC, dlq_topic(TOPIC)])

    async def back_on_the_new_broker():
        return str(before) in {header(r, "ce_id") for r in await read_topic(plumbing["bootstrap"], TOPIC)}

    await eventually(back_on_the_new_broker, timeout=60)


async def test_a_relay_that_never_published_makes_its_topics_again_on_a_restarted_broker(
        plumbing, infra, stack_config, tmp_path):
    """Other services' consumer groups hold partitions of a service's topics: on a broker that
    forgot them, their offset commits fail until the topics exist again — also when the service
    has published nothing yet (welfare before its first case), so nothing would recreate them."""
    dsn = stack_config.dsn("plumbing_quiet")
    await db.ensure_database(stack_config.dsn("postgres"), "plumbing_quiet")
    await db.migrate(dsn, tmp_path)  # the plumbing tables only: an outbox that never held a row
    quiet_topic = f"quiet.service.{uuid.uuid4().hex[:8]}.v1"
    settings = plumbing["settings"]
    relay = OutboxRelay(dsn, plumbing["producer"], source="unionops/quiet", poll_interval=0.2, check_interval=0.5,
                        ensure_topics=lambda: ensure_topics(settings, [quiet_topic], timeout=5),
                        broker_is_new=lambda: broker_is_new(settings, "quiet-test"),
                        broker_seen=lambda: mark_broker_seen(settings, "quiet-test"))
    task = asyncio.create_task(relay.run())

    async def topic_exists():
        admin = AIOKafkaAdminClient(bootstrap_servers=plumbing["bootstrap"])
        await admin.start()
        try:
            return quiet_topic in await admin.list_topics()
        finally:
            await admin.close()

    try:
        await eventually(topic_exists, timeout=30)
        infra.stop_broker()
        infra.start_broker()
        await ensure_topics(settings, [TOPIC, dlq_topic(TOPIC)])
        await eventually(topic_exists, timeout=60)
    finally:
        relay.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_broker_checks_nested_event_fields_too(plumbing):
    """Nested models are inlined into the broker's schema: a wrong field inside is refused."""
    import json
    from datetime import datetime, timezone

    from contracts.events import ContestResultsPublished, Placing

    topic = ContestResultsPublished.topic
    await ensure_topics(plumbing["settings"], [topic])
    event = ContestResultsPublished(
        contest_id=uuid.uuid4(), contest_name="技能比赛", org_path=[uuid.uuid4()], revision=1,
        published_at=datetime.now(timezone.utc),
        placings=[Placing(rank=1, team_id=uuid.uuid4(), member_ids=[uuid.uuid4()], final_score_centipoints=9150,
                          prize="first")])
    await plumbing["producer"].send_and_wait(topic, event.model_dump_json().encode(), key=b"c")
    bad = json.loads(event.model_dump_json())
    bad["placings"][0]["rank"] = "第一"
    with pytest.raises(Exception):
        await plumbing["producer"].send_and_wait(topic, json.dumps(bad).encode(), key=b"c")


async def test_a_dead_letter_replayed_twice_at_once_and_redelivered_takes_effect_once(plumbing):
    """Replay's exactly-once is the inbox's: two operators replaying the same dead letter at the
    same moment, and the original record arriving again afterwards, apply it once."""
    from unionops import deadletters
    from unionops.auth import Principal

    pool = plumbing["pool"]
    (event_id,) = await stage(pool, joined("重放者"))

    async def is_published():
        return await published(pool, event_id)

    await eventually(is_published, timeout=40)
    record = [r for r in await read_topic(plumbing["bootstrap"], TOPIC) if header(r, "ce_id") == str(event_id)][0]
    failing = {"重放者"}
    consumer = make_consumer(plumbing, f"test.replay.{uuid.uuid4().hex[:6]}", fail_for=failing)
    await consumer.process([record])
    dead_id = await pool.fetchval("SELECT id FROM dead_letters WHERE consumer = $1 AND event_id = $2",
                                  consumer.name, event_id)
    assert dead_id is not None

    failing.clear()  # the cause is fixed
    admin = Principal(subject="oncall", name="值班", role="federation_admin", org_id=uuid.uuid4())
    consumers = {consumer.name: consumer}
    outcomes = await asyncio.gather(*(deadletters.replay(pool, consumers, dead_id, actor=admin, reason="修复后重放")
                                      for _ in range(2)))
    assert sorted(o.outcome for o in outcomes) == ["already_replayed", "replayed"]
    await consumer.process([record])  # the original, redelivered
    assert await pool.fetchval("SELECT count(*) FROM effects WHERE event_id = $1 AND consumer = $2",
                               event_id, consumer.name) == 1
    assert await pool.fetchval("SELECT count(*) FROM operator_actions WHERE target = $1 AND outcome = 'replayed'",
                               f"dead_letter:{dead_id}") == 1
