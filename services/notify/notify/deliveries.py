"""The `deliveries` table: creating notifications, claiming due ones with a lease, and settling
them (delivered / retry / failed). Every settlement stages its event in the outbox in the same
transaction, inside a span of the delivery's own trace (the one of the event that caused it)."""
from __future__ import annotations

import contextlib
import uuid
from typing import Iterator

import asyncpg
from opentelemetry.trace import Span, SpanKind

from contracts.events import NotificationDelivered, NotificationFailed
from notify import domain
from notify.templates import TemplateRegistry
from unionops import outbox
from unionops.envelope import Envelope
from unionops.telemetry import context_from_headers, current_trace_headers, tracer

_tracer = tracer("notify.deliveries")

_SETTLED_COLUMNS = ("id, source_event_id, source_event_type, member_id, channel, template, attempts, trace_headers,"
                    " delivered_at, failed_at")

# Claims due deliveries whose channel has an address. `sending` rows whose lease ran out are
# due again: their sender died, perhaps after the server accepted the mail (same Message-ID).
# New channels add their address condition here.
_CLAIM = """
WITH due AS (
    SELECT d.id FROM deliveries d JOIN contacts c ON c.member_id = d.member_id
    WHERE ((d.status = 'pending' AND d.next_attempt_at <= now())
           OR (d.status = 'sending' AND d.lease_expires_at <= now() AND d.attempts < $3))
      AND d.channel = 'email' AND c.email IS NOT NULL
    ORDER BY d.next_attempt_at
    LIMIT $1
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE deliveries d
SET status = 'sending', attempts = d.attempts + 1, lease_expires_at = now() + make_interval(secs => $2)
FROM due, contacts c
WHERE d.id = due.id AND c.member_id = d.member_id
RETURNING d.id, d.source_event_id, d.source_event_type, d.member_id, d.channel, d.template, d.template_version,
          d.context, d.attempts, d.trace_headers, c.name AS recipient_name, c.email AS address
"""


@contextlib.contextmanager
def delivery_span(row, name: str, kind: SpanKind = SpanKind.INTERNAL) -> Iterator[Span]:
    """A span in the trace of the event that caused the delivery. No address in attributes."""
    with _tracer.start_as_current_span(
        name,
        context=context_from_headers(row["trace_headers"] or {}),
        kind=kind,
        attributes={
            "notify.delivery.id": str(row["id"]),
            "notify.channel": row["channel"],
            "notify.template": row["template"],
            "notify.attempt": row["attempts"],
            "cloudevents.event_type": row["source_event_type"],
        },
    ) as span:
        yield span


async def create(conn: asyncpg.Connection, env: Envelope, notice: domain.Notice, templates: TemplateRegistry) -> int:
    """In the consumer's transaction: one pending delivery per channel of the notice, once per
    event × member × channel. Returns how many were new."""
    spec = templates.current(notice.template)
    created = 0
    for channel in notice.channels:
        new_id = await conn.fetchval(
            "INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, org_path, channel, template,"
            " template_version, context, trace_headers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            " ON CONFLICT (source_event_id, member_id, channel) DO NOTHING RETURNING id",
            uuid.uuid4(), env.id, env.type, notice.member_id, notice.org_path, channel, spec.name, spec.version,
            notice.context, current_trace_headers(),
        )
        created += new_id is not None
    # A member whose contact is known and has no e-mail will never get one: fail now.
    await fail_unaddressable(conn, notice.member_id)
    return created


async def fail_unaddressable(conn: asyncpg.Connection, member_id: uuid.UUID) -> int:
    """Fail the member's waiting e-mails when their contact is known and has no address."""
    return await _fail_where(
        conn,
        "status = 'pending' AND channel = 'email' AND member_id = $1"
        " AND EXISTS (SELECT 1 FROM contacts c WHERE c.member_id = deliveries.member_id AND c.email IS NULL)",
        [member_id], domain.NO_ADDRESS, "联系方式中没有电子邮箱",
    )


async def sweep(conn: asyncpg.Connection, *, contact_wait_seconds: float, max_attempts: int) -> int:
    """Give up on deliveries that can no longer go out: no address within the wait, or a lease
    that ran out on the last allowed attempt (the sender died every time)."""
    failed = await _fail_where(
        conn,
        "status = 'pending' AND channel = 'email' AND created_at < now() - make_interval(secs => $1)"
        " AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.member_id = deliveries.member_id AND c.email IS NOT NULL)",
        [contact_wait_seconds], domain.NO_ADDRESS, "等待联系方式超时",
    )
    failed += await _fail_where(
        conn,
        "status = 'sending' AND lease_expires_at <= now() AND attempts >= $1",
        [max_attempts], domain.LEASE_EXPIRED, "发送进程多次中断，投递结果未知",
    )
    return failed


async def claim(conn: asyncpg.Connection, *, batch_size: int, lease_seconds: float, max_attempts: int) -> list:
    """Mark due deliveries `sending` under a lease; the caller commits before sending."""
    return await conn.fetch(_CLAIM, batch_size, lease_seconds, max_attempts)


async def mark_delivered(conn: asyncpg.Connection, row) -> bool:
    """Settle a claimed delivery as delivered and stage NotificationDelivered. False when the
    claim was lost (the lease ran out and another dispatcher took the row over)."""
    done = await conn.fetchrow(
        f"UPDATE deliveries SET status = 'delivered', delivered_at = now(), lease_expires_at = NULL, last_error = NULL"
        f" WHERE id = $1 AND status = 'sending' AND attempts = $2 RETURNING {_SETTLED_COLUMNS}",
        row["id"], row["attempts"],
    )
    if done is None:
        return False
    await outbox.record(conn, NotificationDelivered(
        notification_id=done["id"], source_event_id=done["source_event_id"],
        source_event_type=done["source_event_type"], member_id=done["member_id"], channel=done["channel"],
        template=done["template"], delivered_at=done["delivered_at"],
    ))
    return True


async def reschedule(conn: asyncpg.Connection, row, *, delay_seconds: float, error: str) -> bool:
    """Put a claimed delivery back to pending after a temporary failure."""
    return await conn.fetchval(
        "UPDATE deliveries SET status = 'pending', lease_expires_at = NULL, last_error = $3,"
        " next_attempt_at = now() + make_interval(secs => $4)"
        " WHERE id = $1 AND status = 'sending' AND attempts = $2 RETURNING true",
        row["id"], row["attempts"], error[:1000], delay_seconds,
    ) is not None


async def release(conn: asyncpg.Connection, rows) -> None:
    """Hand claimed deliveries that were never sent back to pending, their attempt not counted."""
    await conn.executemany(
        "UPDATE deliveries SET status = 'pending', attempts = attempts - 1, lease_expires_at = NULL"
        " WHERE id = $1 AND status = 'sending' AND attempts = $2",
        [(r["id"], r["attempts"]) for r in rows],
    )


async def fail_claimed(conn: asyncpg.Connection, row, *, reason: str, error: str) -> bool:
    """Settle a claimed delivery as failed (permanent failure or retries used up)."""
    return await _fail_where(
        conn, "id = $1 AND status = 'sending' AND attempts = $2", [row["id"], row["attempts"]], reason, error,
        own_span=False,
    ) > 0


async def _fail_where(conn: asyncpg.Connection, condition: str, args: list, reason: str, error: str,
                      *, own_span: bool = True) -> int:
    n = len(args)
    rows = await conn.fetch(
        f"UPDATE deliveries SET status = 'failed', failed_at = now(), lease_expires_at = NULL,"
        f" failure_reason = ${n + 1}, last_error = ${n + 2} WHERE {condition} RETURNING {_SETTLED_COLUMNS}",
        *args, reason, error[:1000],
    )
    for r in rows:
        with delivery_span(r, "notification failed") if own_span else contextlib.nullcontext():
            await outbox.record(conn, NotificationFailed(
                notification_id=r["id"], source_event_id=r["source_event_id"],
                source_event_type=r["source_event_type"], member_id=r["member_id"], channel=r["channel"],
                template=r["template"], reason=reason, attempts=r["attempts"], failed_at=r["failed_at"],
            ))
    return len(rows)
