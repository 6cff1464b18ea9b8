"""The transactional outbox: events are written in the same transaction as the state change
that caused them; the relay (unionops.relay) publishes them afterwards."""
from __future__ import annotations

import uuid
from typing import Iterable, Sequence

import asyncpg

from contracts.events import DomainEvent
from unionops.telemetry import current_trace_headers

_INSERT = """
INSERT INTO outbox (event_id, topic, key, event_type, subject, payload, trace_headers)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[])
"""


async def record(conn: asyncpg.Connection, event: DomainEvent, *, subject: str | None = None) -> uuid.UUID:
    """Stage one event in the caller's transaction; returns its CloudEvents id."""
    return (await record_many(conn, [event], subject=subject))[0]


async def record_many(
    conn: asyncpg.Connection, events: Iterable[DomainEvent], *, subject: str | None = None,
    trace_headers: Sequence[dict[str, str]] | None = None,
) -> list[uuid.UUID]:
    """Stage several events with one statement. The current trace context is stored with each
    so the relay can continue the same trace when it publishes — or, where events of several
    business actions are staged together, each event's own (`trace_headers`, one per event)."""
    events = list(events)
    if not events:
        return []
    if not conn.is_in_transaction():
        raise RuntimeError("outbox.record must run inside the transaction of the state change")
    if trace_headers is None:
        trace_headers = [current_trace_headers()] * len(events)
    elif len(trace_headers) != len(events):
        raise ValueError("one trace context per event")
    ids = [uuid.uuid4() for _ in events]
    await conn.execute(
        _INSERT,
        ids,
        [e.topic for e in events],
        [e.key() for e in events],
        [e.event_type() for e in events],
        [subject or e.key() for e in events],
        [e.model_dump(mode="json") for e in events],
        list(trace_headers),
    )
    return ids
