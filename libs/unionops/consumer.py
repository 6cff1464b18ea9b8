"""Idempotent consumption of integration events.

A batch from Kafka is applied in one database transaction: the event ids go into `inbox` with
ON CONFLICT DO NOTHING, and only the newly inserted ones are handed to their handlers, in the
same transaction (`IdempotentConsumer.apply`, also the entry for events that come without a
broker: a dead letter's replay, the in-process tests' loopback). Offsets are committed (by
FastStream's ack) only after that transaction.
If the batch fails, each event is retried alone (bounded, with backoff); one that still fails is
sent to `<topic>.dlq` with the failure in headers, recorded as dead-lettered in the inbox and kept
in `dead_letters` (to inspect, replay or discard: unionops.deadletters), and the consumer goes on. Failures of the database or broker themselves are not the message's fault: they are
raised so the batch is redelivered, never dead-lettered.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

import asyncpg
from aiokafka import AIOKafkaProducer
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import ValidationError

from contracts.events import DomainEvent, dlq_topic, event_class
from unionops import deadletters, metrics
from unionops.envelope import Envelope, EnvelopeError, from_record
from unionops.pii import redact
from unionops.telemetry import context_from_headers, tracer

log = logging.getLogger(__name__)

Handler = Callable[[asyncpg.Connection, DomainEvent, Envelope], Awaitable[None]]


@dataclass(frozen=True)
class Received:
    """One event of a batch handed to a batch handler: the event, its envelope, and the trace
    context of its own `process` span — to be stored with whatever the event causes (outbox
    rows, pending work) so that work continues the event's trace, not the batch's."""

    event: DomainEvent
    envelope: Envelope
    trace_headers: dict[str, str]


BatchHandler = Callable[[asyncpg.Connection, list[Received]], Awaitable[None]]


def last_per(batch: list[Received], key: Callable[[Received], object]) -> list[Received]:
    """The last event of each key in the batch, in batch order: what an upsert of one row per
    key must apply when the same aggregate (a member joining, leaving, joining again) occurs more
    than once in one batch — a single INSERT … ON CONFLICT cannot touch a row twice."""
    last: dict[object, Received] = {}
    for r in batch:
        last.pop(key(r), None)
        last[key(r)] = r
    return list(last.values())

INFRASTRUCTURE_ERRORS = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
)


@dataclass
class _Item:
    record: object
    envelope: Envelope | None
    event: DomainEvent | None
    handler: Handler | None
    error: str | None = None
    batch_handler: BatchHandler | None = None


async def _batch_only(conn, event, env) -> None:  # pragma: no cover - never called
    raise AssertionError("events with a batch handler are handled in batches")


class IdempotentConsumer:
    """Dispatches events of several types to handlers, exactly once in effect."""

    def __init__(self, name: str, pool_getter: Callable[[], asyncpg.Pool] | None = None,
                 producer_getter: Callable[[], AIOKafkaProducer] | None = None,
                 *, max_retries: int = 3, retry_backoff: float = 0.05) -> None:
        """`name` is the consumer group and the inbox's consumer name. A service's consumers are
        bound to its pool and producer by `unionops.service.create_app`; tests may pass getters."""
        self.name = name
        self._pool = pool_getter
        self._producer = producer_getter
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.handlers: dict[str, Handler] = {}
        self.batch_handlers: dict[str, BatchHandler] = {}
        self.topics: list[str] = []
        self.applied_total = 0
        self.dead_lettered_total = 0
        self.subscriber = None  # FastStream's, set by create_app; its aiokafka consumer's high-water marks
        self._tracer = tracer("unionops.consumer")
        self._runtime = None

    @property
    def runtime(self):
        """The running service (unionops.service.Runtime) this consumer is wired into: where
        handlers registered in a service's `consumers.py` take what they need besides their
        connection — `consumer.runtime.vault`, `consumer.runtime.component(Templates)`. Set by
        `create_app`, or by `provide` (tests)."""
        if self._runtime is None:
            raise RuntimeError(f"consumer {self.name} is not wired into a running service yet")
        return self._runtime

    def provide(self, runtime) -> None:
        self._runtime = runtime

    def bind(self, pool_getter: Callable[[], asyncpg.Pool], producer_getter: Callable[[], AIOKafkaProducer],
             max_retries: int) -> None:
        self._pool, self._producer, self.max_retries = pool_getter, producer_getter, max_retries

    def on(self, event_cls: type[DomainEvent]) -> Callable[[Handler], Handler]:
        """Register the handler of one event type (decorator)."""

        def register(fn: Handler) -> Handler:
            self.handlers[event_cls.event_type()] = fn
            if event_cls.topic not in self.topics:
                self.topics.append(event_cls.topic)
            return fn

        return register

    def on_batch(self, event_cls: type[DomainEvent]) -> Callable[[BatchHandler], BatchHandler]:
        """Register a handler that takes all fresh events of one type that stand next to each
        other in a batch at once (decorator) — set-based SQL instead of a statement per event.
        It must have the effect of applying them one after another in the order given (the
        same member twice in one batch included). Each event still gets its own `process`
        span in its own trace. When the batch fails, events are retried one at a time, each
        through the same handler with a list of one."""

        def register(fn: BatchHandler) -> BatchHandler:
            self.batch_handlers[event_cls.event_type()] = fn
            self.handlers.setdefault(event_cls.event_type(), _batch_only)
            if event_cls.topic not in self.topics:
                self.topics.append(event_cls.topic)
            return fn

        return register

    def _prepare(self, record) -> _Item:
        try:
            env = from_record(record)
        except EnvelopeError as exc:
            return _Item(record, None, None, None, error=f"malformed envelope: {exc}")
        return self._decode(record, env)

    def _decode(self, record, env: Envelope) -> _Item:
        """The event of an envelope and its handler; no handler: not ours, skipped."""
        handler = self.handlers.get(env.type)
        if handler is None:
            return _Item(record, env, None, None)  # not ours: skipped
        cls = event_class(env.type)
        try:
            event = cls.model_validate(env.data)
        except ValidationError as exc:
            return _Item(record, env, None, None, error=f"invalid {env.type}: {exc.errors(include_url=False)}"[:2000])
        return _Item(record, env, event, handler, batch_handler=self.batch_handlers.get(env.type))

    async def process(self, records) -> None:
        """Apply a batch of ConsumerRecords. Returns when every record is applied, skipped as a
        duplicate, or dead-lettered; raises only for infrastructure failures."""
        started = time.perf_counter()
        try:
            await self._process(records)
        finally:
            metrics.consumer_batch_duration.record(time.perf_counter() - started, {"consumer": self.name})

    async def _process(self, records) -> None:
        items = [self._prepare(r) for r in records]
        for bad in [i for i in items if i.error]:
            await self._dead_letter(bad, bad.error)
        todo = [i for i in items if i.handler is not None and not i.error]
        ignored = len(items) - len(todo) - sum(1 for i in items if i.error)
        if ignored:
            metrics.consumer_events.add(ignored, {"consumer": self.name, "outcome": "ignored"})
        if not todo:
            return
        try:
            await self._apply(todo)
            return
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:
            log.warning("batch failed, retrying events one by one: %s", exc)
        for item in todo:
            await self._apply_alone(item)

    async def _apply(self, items: list[_Item]) -> None:
        pool = self._pool()
        async with pool.acquire() as conn, conn.transaction():
            applied = await self.apply(conn, items)
        self.count_applied(len(items), applied)

    async def apply(self, conn: asyncpg.Connection, events: list[Envelope] | list[_Item]) -> int:
        """The inbox insert and the handlers of the fresh events, in the caller's transaction —
        what `process` does for a batch after decoding it; for events that come without a broker
        (a replay, the in-process tests' loopback) as envelopes. Envelopes of types this consumer
        has no handler for are skipped; returns how many events were fresh. Raises ValueError for
        an envelope whose data is not a valid event, and what a handler raises."""
        items = [e if isinstance(e, _Item) else self._decode(None, e) for e in events]
        for bad in (i for i in items if i.error):
            raise ValueError(bad.error)
        return await self._apply_on(conn, [i for i in items if i.handler is not None])

    def count_applied(self, consumed: int, applied: int) -> None:
        self.applied_total += applied
        metrics.consumer_events.add(applied, {"consumer": self.name, "outcome": "applied"})
        if consumed > applied:
            metrics.consumer_events.add(consumed - applied, {"consumer": self.name, "outcome": "duplicate"})

    async def apply_in(self, conn: asyncpg.Connection, record) -> bool:
        """Apply one stored record through the normal path (inbox insert, then its handler) in
        the caller's transaction — a dead letter's replay. False when it is already in the inbox;
        raises what the handler raises, ValueError when it is malformed, LookupError when this
        consumer has no handler for it."""
        item = self._prepare(record)
        if item.error:
            raise ValueError(item.error)
        if item.handler is None:
            raise LookupError(f"{self.name} handles no {item.envelope.type}")
        # Counted as applied by the caller, after its commit.
        return await self.apply(conn, [item]) == 1

    async def _apply_on(self, conn: asyncpg.Connection, items: list[_Item]) -> int:
        """The inbox insert and the handlers of the fresh ones; returns how many were fresh."""
        fresh = {
            r["event_id"]
            for r in await conn.fetch(
                "INSERT INTO inbox (consumer, event_id, event_type, topic)"
                " SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[])"
                " ON CONFLICT DO NOTHING RETURNING event_id",
                self.name,
                [i.envelope.id for i in items],
                [i.envelope.type for i in items],
                [i.envelope.topic for i in items],
            )
        }
        run: list[_Item] = []  # consecutive fresh events of one type with a batch handler
        applied = 0
        for item in items:
            if item.envelope.id not in fresh:
                continue  # a redelivery or a duplicate publish: its effect is already there
            fresh.discard(item.envelope.id)  # the same id twice in one batch applies once
            applied += 1
            if run and (item.batch_handler is None or item.envelope.type != run[0].envelope.type):
                await self._handle_batch(conn, run)
                run = []
            if item.batch_handler is not None:
                run.append(item)
            else:
                await self._handle(conn, item)
        if run:
            await self._handle_batch(conn, run)
        return applied

    def _span_of(self, env: Envelope):
        return self._tracer.start_span(
            f"process {env.type}",
            context=context_from_headers(env.trace),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": env.topic,
                "messaging.consumer.group.name": self.name,
                "messaging.message.id": str(env.id),
                "messaging.kafka.message.offset": env.offset,
                "cloudevents.event_type": env.type,
            },
        )

    async def _handle(self, conn: asyncpg.Connection, item: _Item) -> None:
        if item.batch_handler is not None:
            await self._handle_batch(conn, [item])
            return
        with trace.use_span(self._span_of(item.envelope), end_on_exit=True) as span:
            try:
                await item.handler(conn, item.event, item.envelope)
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                raise

    async def _handle_batch(self, conn: asyncpg.Connection, items: list[_Item]) -> None:
        """One call of the batch handler for `items`; a span per event, ended when it returns."""
        spans = [self._span_of(i.envelope) for i in items]
        try:
            batch = []
            for item, span in zip(items, spans):
                headers: dict[str, str] = {}
                propagate.inject(headers, context=trace.set_span_in_context(span))
                batch.append(Received(item.event, item.envelope, headers))
            if len(spans) == 1:  # alone (a retry, a quiet topic): its queries join its trace
                with trace.use_span(spans[0], end_on_exit=False):
                    await items[0].batch_handler(conn, batch)
            else:
                await items[0].batch_handler(conn, batch)
        except Exception as exc:
            for span in spans:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
            raise
        finally:
            for span in spans:
                span.set_attribute("messaging.batch.message_count", len(spans))
                span.end()

    async def _apply_alone(self, item: _Item) -> None:
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            try:
                await self._apply([item])
                return
            except INFRASTRUCTURE_ERRORS:
                raise
            except Exception as exc:
                last = exc
                await asyncio.sleep(self.retry_backoff * 2**attempt)
        await self._dead_letter(item, f"{type(last).__name__}: {last}")

    async def _dead_letter(self, item: _Item, reason: str) -> None:
        reason = redact(reason)  # an exception's text (asyncpg's DETAIL echoes the row) goes to a topic and a table
        record = item.record
        headers = list(record.headers or ())
        headers += [
            ("dlq_error", reason[:4000].encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
        ]
        await self._producer().send_and_wait(dlq_topic(record.topic), record.value, key=record.key, headers=headers)
        self.dead_lettered_total += 1
        metrics.consumer_events.add(1, {"consumer": self.name, "outcome": "dead_lettered"})
        log.error("event dead-lettered", extra={"topic": record.topic, "offset": record.offset, "reason": reason[:300]})
        pool = self._pool()
        async with pool.acquire() as conn, conn.transaction():
            if item.envelope is not None:
                await conn.execute(
                    "INSERT INTO inbox (consumer, event_id, event_type, topic, status, error)"
                    " VALUES ($1, $2, $3, $4, 'dead_lettered', $5) ON CONFLICT DO NOTHING",
                    self.name, item.envelope.id, item.envelope.type, item.envelope.topic, reason[:2000],
                )
            # The record as consumed, for an operator to inspect, replay or discard
            # (unionops.deadletters); the DLQ topic is the broker-side copy.
            await deadletters.store(conn, self.name, record, item.envelope, reason)

