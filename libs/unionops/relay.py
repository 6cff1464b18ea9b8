"""The outbox relay: publishes staged events to Kafka in order, in batches, until each is
acknowledged; woken by LISTEN/NOTIFY, with a polling fallback.

* One active relay per database (a session advisory lock): replicas stand by, so events of one
  aggregate are never published out of order by two relays racing.
* Rows are marked published only after the broker acknowledged them; a failed send is retried
  with backoff, so nothing committed is lost (duplicates are possible; consumers dedupe).
* The stored trace context becomes the parent of the publish span, whose context is sent on in
  the `traceparent` header: one business action stays one trace.
* The local memory broker forgets everything when restarted. The relay remembers the highest
  offset acknowledged per partition; when the broker answers with a lower one, its log was lost
  and every row published within the retention period is published again.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from itertools import groupby
from datetime import datetime, timezone

import asyncpg
from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from unionops import metrics
from unionops.listening import Listening
from unionops.envelope import Envelope
from unionops.telemetry import context_from_headers, current_trace_headers, tracer

log = logging.getLogger(__name__)

_CLAIM = """
SELECT id, event_id, topic, key, event_type, subject, occurred_at, payload::text AS payload, trace_headers, attempts
FROM outbox
WHERE published_at IS NULL AND next_attempt_at <= now()
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""


class OutboxRelay:
    def __init__(
        self,
        dsn: str,
        producer: AIOKafkaProducer,
        *,
        source: str,
        batch_size: int = 500,
        retention_days: int = 7,
        poll_interval: float = 1.0,
        ensure_topics=None,
        check_interval: float = 15.0,
        broker_is_new=None,
        broker_seen=None,
        inbox_retention_days: int = 30,
        idempotency_retention_days: int = 7,
        purge_interval: float = 3600.0,
    ) -> None:
        self.dsn = dsn
        self.producer = producer
        self.source = source
        self.batch_size = batch_size
        self.retention_days = retention_days
        self.poll_interval = poll_interval
        # Called after failed sends: a restarted memory broker may not know the topics yet.
        self.ensure_topics = ensure_topics
        self.check_interval = check_interval
        # Returns True when the broker lacks the relay's marker topic; `broker_seen` makes it, after
        # the replay is staged (unionops.kafka.broker_is_new / mark_broker_seen).
        self.broker_is_new = broker_is_new
        self.broker_seen = broker_seen
        self.published_total = 0
        self.is_leader = False
        self.inbox_retention_days = inbox_retention_days
        self.idempotency_retention_days = idempotency_retention_days
        self.purge_interval = purge_interval
        self._listening = Listening("outbox", "outbox relay", poll_interval=poll_interval)
        self._last_check = self._last_purge = 0.0
        self._tracer = tracer("unionops.relay")
        self._max_offsets: dict[tuple[str, int], int] = {}

    def stop(self) -> None:
        self._listening.stop()

    @property
    def _stopping(self) -> bool:
        return self._listening.stopping

    async def run(self) -> None:
        """Run until stopped; reconnects after database failures."""
        await self._listening.run(self.dsn, self._round, setup=self._lead, on_disconnect=self._step_down)

    def _step_down(self) -> None:
        self.is_leader = False

    async def _lead(self, conn: asyncpg.Connection) -> bool:
        """Wait for the leader lock (False: stopped while waiting), then catch up."""
        while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext('unionops.outbox-relay'))"):
            if self._stopping:
                return False
            await asyncio.sleep(2.0)
        self.is_leader = True
        self._max_offsets = {
            (r["topic"], r["partition"]): r["max_offset"]
            for r in await conn.fetch("SELECT topic, partition, max_offset FROM relay_offsets")
        }
        await self.purge_expired(conn)
        await self._replay_if_broker_forgot(conn)
        self._last_check = self._last_purge = asyncio.get_running_loop().time()
        return True

    async def _round(self, conn: asyncpg.Connection) -> bool:
        now = asyncio.get_running_loop().time()
        if now - self._last_check > self.check_interval:
            await self._replay_if_broker_forgot(conn)
            self._last_check = now
        if now - self._last_purge > self.purge_interval:
            await self.purge_expired(conn)
            self._last_purge = now
        return await self.publish_batch(conn) >= self.batch_size

    async def publish_batch(self, conn: asyncpg.Connection) -> int:
        """Publish one batch; returns how many rows the broker acknowledged."""
        async with conn.transaction():
            rows = await conn.fetch(_CLAIM, self.batch_size)
            if not rows:
                return 0
            sends = []
            # One publish span per run of consecutive rows with the same trace context: a single
            # admission gets its own span, a bulk import (one business action, one trace) one span
            # per batch instead of one per member. Only consecutive rows are grouped, so the
            # order of the outbox — and of each aggregate's events — is kept.
            for _, run in groupby(rows, key=lambda r: r["trace_headers"].get("traceparent", "")):
                group = list(run)
                first = group[0]
                attributes = {
                    "messaging.system": "kafka",
                    "messaging.destination.name": first["topic"],
                    "messaging.batch.message_count": len(group),
                }
                if len(group) == 1:
                    attributes["messaging.message.id"] = str(first["event_id"])
                    attributes["cloudevents.event_type"] = first["event_type"]
                with self._tracer.start_as_current_span(
                    f"publish {first['topic']}",
                    context=context_from_headers(first["trace_headers"]),
                    kind=SpanKind.PRODUCER,
                    attributes=attributes,
                ):
                    trace_headers = current_trace_headers()
                    for row in group:
                        env = Envelope(
                            id=row["event_id"], type=row["event_type"], source=self.source, time=row["occurred_at"],
                            data={}, subject=row["subject"],
                        )
                        sends.append(await self.producer.send(
                            row["topic"], row["payload"].encode(), key=row["key"].encode(),
                            headers=env.kafka_headers(trace_headers)))
            results = await asyncio.gather(*sends, return_exceptions=True)

            done, failed, lost_topics = [], [], set()
            for row, res in zip(rows, results):
                if isinstance(res, BaseException):
                    failed.append((row, res))
                    continue
                done.append(row["id"])
                tp = (res.topic, res.partition)
                if res.offset < self._max_offsets.get(tp, -1):
                    lost_topics.add(res.topic)
                if res.offset > self._max_offsets.get(tp, -1):
                    self._max_offsets[tp] = res.offset
            if done:
                await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", done)
            for row, exc in failed:
                backoff = min(60.0, 0.2 * 2 ** min(row["attempts"], 8))
                await conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $2,"
                    " next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
                    row["id"], f"{type(exc).__name__}: {exc}"[:500], backoff,
                )
                log.warning("publish failed, will retry", extra={"event_id": str(row["event_id"]), "error": str(exc)})
            if lost_topics:
                await self._replay(conn, sorted(lost_topics))
            await conn.executemany(
                "INSERT INTO relay_offsets(topic, partition, max_offset) VALUES ($1, $2, $3)"
                " ON CONFLICT (topic, partition) DO UPDATE SET max_offset = EXCLUDED.max_offset",
                [(t, p, o) for (t, p), o in self._max_offsets.items() if t not in lost_topics],
            )
        self.published_total += len(done)
        done_ids = set(done)
        for topic, n in Counter(r["topic"] for r in rows if r["id"] in done_ids).items():
            metrics.outbox_published.add(n, {"topic": topic})
        if failed:
            if self.ensure_topics is not None:
                try:
                    await self.ensure_topics()
                except Exception as exc:  # broker still away; the rows wait for the next round
                    log.warning("cannot reach the broker: %s", exc)
            if not done:
                await asyncio.sleep(0.5)
        return len(done)

    async def _replay(self, conn: asyncpg.Connection, topics: list[str]) -> None:
        """The broker lost these topics' logs: publish again what it had acknowledged."""
        n = await conn.fetchval(
            "WITH r AS (UPDATE outbox SET published_at = NULL, next_attempt_at = now()"
            " WHERE topic = ANY($1::text[]) AND published_at IS NOT NULL"
            " AND occurred_at > now() - make_interval(days => $2) RETURNING 1) SELECT count(*) FROM r",
            topics, self.retention_days,
        )
        await conn.execute("DELETE FROM relay_offsets WHERE topic = ANY($1::text[])", topics)
        for key in [k for k in self._max_offsets if k[0] in topics]:
            del self._max_offsets[key]
        log.warning("broker lost its log; replaying outbox", extra={"topics": topics, "events": n})
        trace.get_current_span().add_event("outbox.replay", {"topics": topics, "events": n})

    async def _replay_if_broker_forgot(self, conn: asyncpg.Connection) -> None:
        """Also without new events: after a full restart the memory broker is empty while
        consumers may not have read everything. The relay keeps a marker topic on the broker;
        when it has to create it again, the broker is new and every event published within the
        retention period is published again; the marker is made again once that is staged.
        (Tansu's ListOffsets answers are not reliable, so the end offsets cannot tell.) On Apache
        Kafka the marker simply stays."""
        if self.broker_is_new is None:
            return
        try:
            fresh = await self.broker_is_new()
        except Exception as exc:  # broker away: the publish path notices and retries
            log.info("cannot check the broker: %s", exc)
            return
        if not fresh:
            return
        # The service's topics first, also when it has published nothing yet: other services'
        # consumer groups hold partitions of them, and committing offsets of a topic the broker
        # no longer knows fails for the whole group until the topic exists again.
        if self.ensure_topics is not None:
            await self.ensure_topics()
        topics = [r["topic"] for r in await conn.fetch(
            "SELECT DISTINCT topic FROM outbox WHERE published_at IS NOT NULL")]
        if topics:
            async with conn.transaction():
                await self._replay(conn, topics)
            self._listening.wake.set()
        # Only now: whoever finds the marker (the next check, a settler) finds the replay staged.
        if self.broker_seen is not None:
            await self.broker_seen()

    async def purge_expired(self, conn: asyncpg.Connection) -> dict[str, int]:
        """Retention of the plumbing tables, by the leader at start and every `purge_interval`:
        published outbox rows after `retention_days`; the inbox's record of applied events after
        `inbox_retention_days` (longer than the outbox's, so an event the relay may publish again
        is still known as applied; dead-lettered ones stay with their dead letter); answers kept
        for Idempotency-Keys after `idempotency_retention_days` (a client retries within
        minutes). Deleted in bounded rounds, so no purge holds locks for long."""
        purged = {}
        for table, sql, days in (
            ("outbox", "SELECT id FROM outbox WHERE published_at IS NOT NULL"
                       " AND published_at < now() - make_interval(days => $1) LIMIT 10000", self.retention_days),
            ("inbox", "SELECT ctid FROM inbox WHERE status = 'applied'"
                      " AND received_at < now() - make_interval(days => $1) LIMIT 10000", self.inbox_retention_days),
            ("idempotency_keys", "SELECT ctid FROM idempotency_keys"
                                 " WHERE created_at < now() - make_interval(days => $1) LIMIT 10000",
             self.idempotency_retention_days),
        ):
            column = "id" if table == "outbox" else "ctid"
            purged[table] = 0
            while True:
                status = await conn.execute(f"DELETE FROM {table} WHERE {column} IN ({sql})", days)
                n = int(status.rsplit(" ", 1)[-1])
                purged[table] += n
                if n < 10000:
                    break
        if any(purged.values()):
            log.info("plumbing tables purged", extra={"purged": purged})
        return purged

    @staticmethod
    async def backlog(pool: asyncpg.Pool) -> int:
        return await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
