"""The transactional outbox: events are written in the same transaction as the state change
that caused them; the relay (unionops.relay) publishes them afterwards."""
from __future__ import annotations

import uuid
from typing import Iterable, Sequence

import asyncpg
from pydantic import TypeAdapter

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


# ---- set-based staging ---------------------------------------------------------------------------

_SELECT_INSERT = """
WITH staged AS (
    INSERT INTO outbox (event_id, topic, key, event_type, subject, payload, trace_headers)
    SELECT gen_random_uuid(), $%(topic)d, q.payload ->> $%(key)d, $%(type)d, q.payload ->> $%(key)d, q.payload,
           $%(trace)d::jsonb
    FROM (SELECT $%(defaults)d::jsonb || (to_jsonb(s) - $%(hidden)d::text[]) AS payload
          FROM (%(select)s) AS s %(order)s) AS q
    RETURNING payload
)
SELECT (SELECT count(*) FROM staged) AS n, (SELECT payload FROM staged LIMIT 1) AS sample
"""

# query -> its helper columns and the JSON defaults of the fields it leaves out, once checked
_checked: dict[tuple[type, str], tuple[list[str], dict]] = {}


class EventShapeError(TypeError):
    """A set-based staging query does not produce the fields of its event."""


async def _check_columns(conn: asyncpg.Connection, event: type[DomainEvent],
                         select: str) -> tuple[list[str], dict]:
    """The query's columns must be the event's fields (plus `_`-prefixed helper columns such
    as an ordering key, which are left out of the payload); a field with a default may be left
    out, and the payload then carries the default, as the model writes it. Checked once per query."""
    if (event, select) in _checked:
        return _checked[(event, select)]
    stmt = await conn.prepare(select)
    columns = [a.name for a in stmt.get_attributes()]
    hidden = [c for c in columns if c.startswith("_")]
    fields = event.model_fields
    produced = {c for c in columns if not c.startswith("_")}
    unknown = sorted(produced - set(fields))
    missing = sorted(n for n, f in fields.items() if f.is_required() and n not in produced)
    if unknown or missing:
        raise EventShapeError(f"{event.__name__}: query columns do not match the event"
                              f" (unknown {unknown}, missing {missing})")
    defaults = {n: TypeAdapter(f.annotation).dump_python(f.get_default(call_default_factory=True), mode="json")
                for n, f in fields.items() if n not in produced}
    _checked[(event, select)] = hidden, defaults
    return hidden, defaults


async def record_select(conn: asyncpg.Connection, event: type[DomainEvent], select: str, *args,
                        order_by: Sequence[str] = ()) -> int:
    """Stage one `event` per row of `select`, in one statement, in the caller's transaction;
    returns how many. The query's columns are the event's fields, named as in the model (a
    `uuid[]` path, a date, NULL for an absent optional field all become the JSON the model
    writes; a field with a default may be left out, and its payload carries the default as the
    model writes it); columns named `_…` may order the rows (`order_by`, in staging order, so
    one aggregate's events keep their order) and are not part of the payload. The columns are
    checked against the model before the first use of a query, and a staged payload is
    validated by the model, so a query that drifts from the contract fails its transaction
    instead of publishing. Every row carries the current trace context."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox.record_select must run inside the transaction of the state change")
    hidden, defaults = await _check_columns(conn, event, select)
    n = len(args)
    order = ("ORDER BY " + ", ".join(f"s.{c}" for c in order_by)) if order_by else ""
    sql = _SELECT_INSERT % {"topic": n + 1, "key": n + 2, "type": n + 3, "trace": n + 4, "hidden": n + 5,
                            "defaults": n + 6, "select": select, "order": order}
    row = await conn.fetchrow(sql, *args, event.topic, event.key_field, event.event_type(),
                              current_trace_headers(), hidden, defaults)
    if row["sample"] is not None:
        try:
            event.model_validate(row["sample"])
        except Exception as exc:
            raise EventShapeError(f"{event.__name__}: a staged payload does not match the event: {exc}") from None
    return row["n"]
