"""Gauges computed when /metrics is scraped show what is true now: a consumer stuck in a batch
shows lag, an event the relay has not published shows its age, dead letters show as a depth."""
from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from faststream.kafka import KafkaBroker

from contracts.events import MemberJoined
from tests.support.waiting import eventually
from tests.integration.test_outbox_relay_consumer import joined, make_consumer, plumbing, stage  # noqa: F401
from unionops import db, metrics, outbox, scrape
from unionops.clock import local_now
from unionops.consumer import IdempotentConsumer
from unionops.service import _subscribe

pytestmark = pytest.mark.integration


def _lag(consumer: str) -> float:
    return sum(v for (c, *_), v in metrics.consumer_lag._values.items() if c == consumer)


async def test_a_consumer_stuck_in_a_batch_shows_its_lag_at_scrape_time_and_none_once_it_committed(plumbing):
    pool, name = plumbing["pool"], f"test.stuck.{uuid.uuid4().hex[:6]}"
    entered, release = asyncio.Event(), asyncio.Event()
    consumer = IdempotentConsumer(name, lambda: pool, lambda: plumbing["producer"])

    @consumer.on(MemberJoined)
    async def hang(conn, event, env):
        entered.set()
        await release.wait()  # a handler waiting on something that does not answer

    broker = KafkaBroker(plumbing["bootstrap"])
    _subscribe(broker, consumer, plumbing["settings"])
    runtime = SimpleNamespace(name="plumbing", consumers=[consumer], settings=plumbing["settings"], pool=pool)
    probe = scrape.ConsumerLag()
    await stage(pool, *(joined(f"会员{i}") for i in range(12)))
    await broker.start()
    try:
        await asyncio.wait_for(entered.wait(), 60)
        await probe(runtime)
        stuck = _lag(name)
        assert stuck > 0  # nothing committed: the whole fetched range is behind

        release.set()

        async def caught_up():
            await probe(runtime)
            return _lag(name) == 0

        await eventually(caught_up, "the lag falls to 0 once the batch is committed", timeout=60)
    finally:
        release.set()
        await broker.stop()
        await probe.close()


@pytest.fixture(scope="module")
async def quiet_db(infra, stack_config, tmp_path_factory):
    """A service database nobody relays from: what is staged stays unpublished."""
    dsn = stack_config.dsn("signals")
    await db.ensure_database(stack_config.dsn("postgres"), "signals")
    await db.migrate(dsn, tmp_path_factory.mktemp("signals-migrations"))
    pool = await db.create_pool(dsn)
    yield pool
    await pool.close()


async def test_the_outbox_gauges_show_the_backlog_and_the_age_of_the_oldest_unpublished_event(quiet_db):
    runtime = SimpleNamespace(name="signals", consumers=[], pool=quiet_db)
    await quiet_db.execute("DELETE FROM outbox")
    await scrape.outbox(runtime)
    assert metrics.outbox_backlog.value("signals") == 0 and metrics.outbox_oldest_age.value("signals") == 0

    async with quiet_db.acquire() as conn, conn.transaction():
        await outbox.record_many(conn, [joined("甲"), joined("乙")])
    await quiet_db.execute("UPDATE outbox SET occurred_at = $1 WHERE id = (SELECT min(id) FROM outbox)",
                           local_now() - timedelta(minutes=10))
    await scrape.outbox(runtime)
    assert metrics.outbox_backlog.value("signals") == 2
    assert 600 <= metrics.outbox_oldest_age.value("signals") < 700


async def test_dead_letters_are_a_depth_per_consumer_zero_for_a_consumer_without_any(quiet_db):
    consumers = [SimpleNamespace(name="signals.a"), SimpleNamespace(name="signals.b")]
    runtime = SimpleNamespace(name="signals", consumers=consumers, pool=quiet_db)
    await quiet_db.executemany(
        "INSERT INTO inbox (consumer, event_id, event_type, topic, status, error) VALUES ($1, $2, 'x', 't', $3, $4)",
        [("signals.a", uuid.uuid4(), "dead_lettered", "boom"), ("signals.a", uuid.uuid4(), "dead_lettered", "boom"),
         ("signals.a", uuid.uuid4(), "applied", None), ("signals.b", uuid.uuid4(), "applied", None)])
    await scrape.dead_letters(runtime)
    assert metrics.consumer_dead_letters.value("signals.a") == 2
    assert metrics.consumer_dead_letters.value("signals.b") == 0
