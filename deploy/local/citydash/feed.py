"""Reading the published topics: an aiokafka consumer of its own group that applies every event
once (by CloudEvent id, `citydash.store`), survives the broker going away, and reads everything
again when the (memory) broker came back empty.

The envelope is CloudEvents 1.0 in Kafka binary mode, as the services' AsyncAPI documents it: the
attributes travel as headers (`ce_id` a UUID, `ce_type` the event type = the schema's title,
`ce_source`, `ce_time` ISO 8601), the record's value is the event's JSON object. It is parsed here
from that format; the services' own `unionops` package is not imported."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from citydash.contracts import ContractError, Contracts
from citydash.store import Store

log = logging.getLogger("citydash")

GROUP = "citydash"
# The topics whose events the figures use; each must be public (checked at start).
TOPICS = ("membership.organisation.v1", "membership.member.v1", "membership.coverage.v1", "welfare.campaign.v1",
          "welfare.case.v1", "competitions.contest.v1", "notify.delivery.v1")


class NotAnEvent(ValueError):
    """A record without the CloudEvents headers or a JSON object value."""


def parse(headers, value: bytes | None) -> tuple[str, str, datetime | None, dict[str, Any]]:
    """(id, type, time, data) of a binary-mode CloudEvent record."""
    h = {}
    for k, v in headers or ():
        try:
            h[k] = v.decode() if isinstance(v, (bytes, bytearray)) else str(v)
        except UnicodeDecodeError:
            continue
    if "ce_id" not in h or "ce_type" not in h:
        raise NotAnEvent("missing ce_id / ce_type headers")
    try:
        event_id = str(uuid.UUID(h["ce_id"]))
    except ValueError as exc:
        raise NotAnEvent("ce_id is not a UUID") from exc
    try:
        data = json.loads(value) if value is not None else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotAnEvent(f"value is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise NotAnEvent("value is not a JSON object")
    try:
        moment = datetime.fromisoformat(h["ce_time"]) if "ce_time" in h else None
    except ValueError:
        moment = None
    return event_id, h["ce_type"], moment, data


def public_topics(contracts: Contracts) -> list[str]:
    """The dashboard's topics, refusing to start on one a contract marks restricted."""
    wrong = [t for t in TOPICS if t not in contracts.public_topics]
    if wrong:
        raise RuntimeError(f"not published topics (restricted or unknown): {', '.join(wrong)}")
    return list(TOPICS)


class Feed:
    """The consumer loop. `ready` once it joined the broker; `restarts_seen` counts the times
    the broker was found empty (its marker topic gone) and everything was read again."""

    def __init__(self, bootstrap: str, store: Store, contracts: Contracts, *, group: str = GROUP,
                 check_every: float = 2.0) -> None:
        self.bootstrap, self.store, self.contracts, self.group = bootstrap, store, contracts, group
        self.topics = public_topics(contracts)
        self.marker = f"_citydash.{group}"
        self.check_every = check_every
        self.ready = False
        self.restarts_seen = 0
        self.applied = 0
        self.on_change = lambda: None

    def _consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, client_id=self.group,
            auto_offset_reset="earliest",  # also when the offsets are out of range after a broker restart
            enable_auto_commit=False, metadata_max_age_ms=2000, session_timeout_ms=10000,
            heartbeat_interval_ms=3000, request_timeout_ms=15000, retry_backoff_ms=200)
        # A pattern of the exact names, not the names: aiokafka then asks the broker for all its topics
        # instead of naming ours, and a name asked for is a topic created (with the broker's default
        # partitions) before the owning service creates it as configured (at start, after a restart).
        consumer.subscribe(pattern="^(" + "|".join(re.escape(t) for t in self.topics) + ")$")
        return consumer

    async def run(self) -> None:
        while True:
            consumer = self._consumer()
            try:
                await consumer.start()
                self.ready = True
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except (KafkaError, OSError) as exc:
                log.warning("broker unavailable, retrying: %s", exc)
            except Exception:
                log.exception("consumer failed, starting again")
            finally:
                try:
                    await consumer.stop()
                except Exception:  # a consumer that never connected
                    pass
            await asyncio.sleep(1.0)

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        next_check = 0.0
        while True:
            if time.monotonic() >= next_check:
                await self._rewind_if_broker_forgot(consumer)
                next_check = time.monotonic() + self.check_every
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            events = []
            for records in batches.values():
                for record in records:
                    event = self._accept(record)
                    if event is not None:
                        events.append(event)
            if events:
                new = self.store.apply_many(events)
                self.applied += new
                if new:
                    self.on_change()
            if batches:
                try:
                    await consumer.commit()
                except KafkaError as exc:  # a rebalance or a restarted broker: read again, deduplicated
                    log.info("commit failed: %s", exc)

    def _accept(self, record):
        if record.topic not in self.topics:  # never a restricted topic, whatever the broker sends
            return None
        try:
            event_id, event_type, moment, data = parse(record.headers, record.value)
        except NotAnEvent as exc:
            log.warning("not a CloudEvent on %s@%s: %s", record.topic, record.offset, exc)
            return None
        if self.store.seen(event_id):
            return None
        try:
            self.contracts.validate(event_type, data)
        except ContractError as exc:
            log.warning("event %s refused by its schema: %s", event_id, exc)
            self.store.reject(event_id, event_type, str(exc))
            return None
        return event_id, event_type, moment, data

    async def _rewind_if_broker_forgot(self, consumer: AIOKafkaConsumer) -> None:
        """A memory broker that restarted has forgotten its log, the group's offsets and our marker
        topic; the services publish their events again from offset 0. Our positions may point into
        the new log beyond what we read of it: read every partition from the beginning again (the
        ids already applied are skipped)."""
        try:
            topics = await consumer.topics()
        except KafkaError:
            return
        if self.marker in topics:
            return
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10000)
        try:
            await admin.start()
            await admin.create_topics([NewTopic(self.marker, 1, 1)])
        except KafkaError as exc:
            log.info("cannot create the marker topic: %s", exc)
        finally:
            await admin.close()
        assigned = consumer.assignment()
        for tp in assigned:
            consumer.seek(tp, 0)
        if self.applied or self.restarts_seen:
            self.restarts_seen += 1
            log.warning("the broker is new: reading %d partitions again from the beginning", len(assigned))
