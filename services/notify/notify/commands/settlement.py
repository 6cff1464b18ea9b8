"""The dispatcher's writes on `deliveries`: claiming due ones under a lease, settling them
(delivered + NotificationDelivered, retry, failed + NotificationFailed and a dead letter), handing
them back unsent, and the sweep of what can no longer go out. Every settlement stages its event in
the same unit of work, inside a span of the delivery's own trace (the one of the event that caused
it). A member delivery on a channel the member has no address for ends `undeliverable`: no event,
no dead letter (settle_unaddressable)."""
from __future__ import annotations

import contextlib
import uuid
from typing import Iterator

from opentelemetry.trace import Span, SpanKind

from contracts.events import NotificationDelivered, NotificationFailed
from notify.domain import notices as domain
from unionops import metrics
from unionops.pii import redact
from unionops.projections import pg_path
from unionops.telemetry import context_from_headers, tracer
from unionops.unit_of_work import UnitOfWork

_tracer = tracer("notify.deliveries")

_SETTLED_COLUMNS = ("id, source_event_id, source_event_type, member_id, channel, template, attempts, trace_headers,"
                    " delivered_at, failed_at, org_path, subject_member_id, recipient_kind, recipient_id")

DLQ_TOPIC = "notify.delivery.v1.dlq"  # where the delivery_dlq rows written here are published

# Claims due deliveries of one channel that have what the channel needs: e-mail an address, SMS
# a phone number — of the member (contacts, sealed under their data key, which must still exist),
# officer (officers, e-mail and phone under the vault) or employer side (employer_contacts, e-mail
# under the vault) who receives it —
# a webhook an enabled bot (recipient_id is the bot), in-app nothing. `sending` rows whose lease ran out are due again: their sender died,
# perhaps after the provider accepted (same idempotency key, the delivery id).
_CLAIM = """
WITH due AS (
    SELECT d.id, coalesce(c.name, o.name, ec.contact_name) AS recipient_name, o.email_enc AS officer_email_enc,
           ec.email_enc AS employer_email_enc, c.email_sealed,
           o.phone_enc, c.phone_sealed, mk.wrapped_key AS member_key,
           b.url_enc AS bot_url_enc, b.secret_enc AS bot_secret_enc, b.flavour AS bot_flavour, b.name AS bot_name,
           sc.name AS subject_name, ms.language, ms.quiet_start, ms.quiet_end
    FROM deliveries d
    LEFT JOIN contacts c ON d.recipient_kind = 'member' AND c.member_id = d.recipient_id
    LEFT JOIN officers o ON d.recipient_kind = 'officer' AND o.id = d.recipient_id AND o.active
    LEFT JOIN employer_contacts ec ON d.recipient_kind = 'employer' AND ec.employer_id = d.recipient_id
    LEFT JOIN webhook_bots b ON d.channel = 'webhook' AND b.id = d.recipient_id
    LEFT JOIN member_keys mk ON d.recipient_kind = 'member' AND mk.member_id = d.recipient_id
    LEFT JOIN contacts sc ON sc.member_id = d.subject_member_id
    LEFT JOIN member_settings ms ON d.recipient_kind = 'member' AND ms.member_id = d.recipient_id
    WHERE ((d.status = 'pending' AND d.next_attempt_at <= now())
           OR (d.status = 'sending' AND d.lease_expires_at <= now() AND d.attempts < $3))
      AND d.channel = $4
      AND CASE d.channel WHEN 'email' THEN (c.email_sealed IS NOT NULL AND mk.wrapped_key IS NOT NULL)
                                           OR o.email_enc IS NOT NULL OR ec.email_enc IS NOT NULL
                         WHEN 'sms' THEN (c.phone_sealed IS NOT NULL AND mk.wrapped_key IS NOT NULL)
                                         OR o.phone_enc IS NOT NULL
                         WHEN 'webhook' THEN coalesce(b.enabled, false)
                         ELSE true END
      -- A campaign's payment notice after its start notice: held while notify has not seen the
      -- campaign, and while the member's start notice on this channel is still to be sent.
      AND (d.campaign_id IS NULL OR d.template <> 'campaign_payment_made'
           OR (EXISTS (SELECT 1 FROM campaigns k WHERE k.campaign_id = d.campaign_id)
               AND NOT EXISTS (SELECT 1 FROM deliveries s WHERE s.campaign_id = d.campaign_id
                                  AND s.recipient_id = d.recipient_id AND s.channel = d.channel
                                  AND s.template = 'campaign_started' AND s.status IN ('pending', 'sending'))))
    ORDER BY d.next_attempt_at
    LIMIT $1
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE deliveries d
SET status = 'sending', attempts = d.attempts + 1, lease_expires_at = now() + make_interval(secs => $2)
FROM due
WHERE d.id = due.id
RETURNING d.id, d.source_event_id, d.source_event_type, d.member_id, d.recipient_kind, d.recipient_id,
          d.subject_member_id, d.org_path, d.channel, d.template, d.template_version, d.context, d.attempts,
          d.trace_headers, due.recipient_name,
          CASE d.channel WHEN 'email' THEN due.officer_email_enc END AS officer_email_enc,
          CASE d.channel WHEN 'email' THEN due.employer_email_enc END AS employer_email_enc, due.email_sealed,
          due.phone_enc, due.phone_sealed, due.member_key, due.bot_url_enc, due.bot_secret_enc, due.bot_flavour, due.bot_name, due.subject_name,
          due.language, due.quiet_start, due.quiet_end
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


# A member delivery on a channel for which the member's contact is known to hold no address:
# the contact is the latest word on it — not older than the member's latest admission (whose own
# contact, on another topic, may still be on its way), or an erasure. SMS and e-mail only.
_KNOWN_WITHOUT_ADDRESS = """
deliveries.recipient_kind = 'member' AND deliveries.channel IN ('email', 'sms') AND EXISTS (
    SELECT 1 FROM contacts c LEFT JOIN members m ON m.member_id = c.member_id
    WHERE c.member_id = deliveries.recipient_id
      AND (c.erased_at IS NOT NULL OR c.changed_at IS NULL OR m.joined_at IS NULL OR c.changed_at >= m.joined_at)
      AND CASE deliveries.channel WHEN 'email' THEN c.email_sealed IS NULL ELSE c.phone_sealed IS NULL END)
"""


async def settle_unaddressable(uow: UnitOfWork, member_ids: list[uuid.UUID]) -> int:
    """The members' waiting e-mails and SMS for which their contact is known to hold no address:
    `undeliverable` now. Waiting for an address that will not come helps nobody, and it is not a
    failure: no dead letter, no NotificationFailed."""
    return await _settle_undeliverable(
        uow, f"member_id = ANY($1::uuid[]) AND {_KNOWN_WITHOUT_ADDRESS}", [list(member_ids)],
        "联系方式中没有该渠道的地址")


async def _settle_undeliverable(uow: UnitOfWork, condition: str, args: list, why: str) -> int:
    n = len(args)
    rows = await uow.conn.fetch(
        f"UPDATE deliveries SET status = 'undeliverable', undeliverable_at = now(), failure_reason = ${n + 1},"
        f" last_error = ${n + 2} WHERE status = 'pending' AND {condition} RETURNING id, channel",
        *args, domain.NO_ADDRESS, why)
    return len(rows)


# What the claim needs to take a delivery: the recipient's address on the delivery's channel.
_ADDRESSABLE = """
CASE deliveries.channel
  WHEN 'email' THEN EXISTS (SELECT 1 FROM contacts c WHERE deliveries.recipient_kind = 'member'
                              AND c.member_id = deliveries.recipient_id AND c.email_sealed IS NOT NULL)
                 OR EXISTS (SELECT 1 FROM officers o WHERE deliveries.recipient_kind = 'officer'
                              AND o.id = deliveries.recipient_id AND o.active AND o.email_enc IS NOT NULL)
                 OR EXISTS (SELECT 1 FROM employer_contacts ec WHERE deliveries.recipient_kind = 'employer'
                              AND ec.employer_id = deliveries.recipient_id AND ec.email_enc IS NOT NULL)
  WHEN 'sms' THEN EXISTS (SELECT 1 FROM contacts c WHERE deliveries.recipient_kind = 'member'
                            AND c.member_id = deliveries.recipient_id AND c.phone_sealed IS NOT NULL)
               OR EXISTS (SELECT 1 FROM officers o WHERE deliveries.recipient_kind = 'officer'
                            AND o.id = deliveries.recipient_id AND o.active AND o.phone_enc IS NOT NULL)
  WHEN 'webhook' THEN EXISTS (SELECT 1 FROM webhook_bots b WHERE b.id = deliveries.recipient_id AND b.enabled)
  ELSE true
END
"""


async def sweep(uow: UnitOfWork, *, contact_wait_seconds: float, max_attempts: int) -> int:
    """Give up on deliveries that can no longer go out: no address on their channel within the
    wait (a member's contact never came or has none — undeliverable —, an officer stood down, a
    bot was disabled or removed — failed), or a lease that ran out on the last allowed attempt
    (the sender died every time). Returns how many were settled either way."""
    # A member's contact that never came (membership sends none for a member with neither
    # e-mail nor phone), an employer without a contact on file: not deliverable. Officers' and bots' messages that reached nobody (stood
    # down, disabled) are failures: a work item or a group-chat notice went nowhere.
    expired = "status = 'pending' AND created_at < now() - make_interval(secs => $1)"
    undeliverable = await _settle_undeliverable(
        uow, f"{expired} AND recipient_kind IN ('member', 'employer') AND NOT ({_ADDRESSABLE})", [contact_wait_seconds],
        "等待收件地址超时（无联系方式）")
    failed = await _fail_where(
        uow, f"{expired} AND recipient_kind IN ('officer', 'bot') AND NOT ({_ADDRESSABLE})",
        [contact_wait_seconds], domain.NO_ADDRESS, "等待收件地址超时（人员已离任或机器人已停用）",
    )
    failed += await _fail_where(
        uow,
        "status = 'sending' AND lease_expires_at <= now() AND attempts >= $1",
        [max_attempts], domain.LEASE_EXPIRED, "发送进程多次中断，投递结果未知",
    )
    return undeliverable + failed


async def claim(uow: UnitOfWork, *, batch_size: int, lease_seconds: float, max_attempts: int,
                channels: tuple[str, ...] = ("email",)) -> list:
    """Mark due deliveries `sending` under a lease, up to `batch_size` per channel (a slow or
    rate-limited channel does not crowd out the others); the caller commits before sending."""
    rows = []
    for channel in channels:
        rows += await uow.conn.fetch(_CLAIM, batch_size, lease_seconds, max_attempts, channel)
    return rows


_MARK_DELIVERED_MANY = f"""
UPDATE deliveries d
SET status = 'delivered', delivered_at = now(), lease_expires_at = NULL, last_error = NULL
FROM unnest($1::uuid[], $2::int[]) AS c(id, attempts)
WHERE d.id = c.id AND d.status = 'sending' AND d.attempts = c.attempts
RETURNING {", ".join("d." + c.strip() for c in _SETTLED_COLUMNS.split(","))}
"""


async def mark_delivered_many(uow: UnitOfWork, sent: list[tuple]) -> set:
    """Settle many claimed deliveries as delivered with one UPDATE, one outbox INSERT and one
    inbox INSERT: `sent` holds (row, trace headers of its send, in-app message or None). Each
    NotificationDelivered carries its own delivery's trace. Returns the ids settled — a row
    whose claim was lost (lease ran out, taken over) is left out and nothing is written for it."""
    if not sent:
        return set()
    done = await uow.conn.fetch(_MARK_DELIVERED_MANY, [r["id"] for r, _, _ in sent], [r["attempts"] for r, _, _ in sent])
    by_id = {r["id"]: (headers, inbox) for r, headers, inbox in sent}
    await uow.stage(*[NotificationDelivered(
        notification_id=d["id"], source_event_id=d["source_event_id"], source_event_type=d["source_event_type"],
        member_id=d["member_id"], channel=d["channel"], template=d["template"], delivered_at=d["delivered_at"],
    ) for d in done], trace_headers=[by_id[d["id"]][0] for d in done])
    settled = {d["id"] for d in done}
    inbox = [(r, by_id[r["id"]][1]) for r, _, _ in sent if r["id"] in settled and by_id[r["id"]][1] is not None]
    if inbox:  # in-app: the message and its delivered state commit together
        await uow.conn.execute(
            "INSERT INTO inbox_messages (id, recipient_kind, member_id, org_path, source_event_type, template,"
            " subject, body)"
            " SELECT i.id, i.kind, i.member_id, CASE WHEN i.org_path IS NULL THEN NULL ELSE i.org_path::uuid[] END,"
            " i.event_type, i.template, i.subject, i.body"
            " FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],"
            " $8::text[]) AS i(id, kind, member_id, org_path, event_type, template, subject, body)"
            " ON CONFLICT (id) DO NOTHING",
            [r["id"] for r, _ in inbox], [r["recipient_kind"] for r, _ in inbox], [r["recipient_id"] for r, _ in inbox],
            [pg_path(r["org_path"]) for r, _ in inbox], [r["source_event_type"] for r, _ in inbox],
            [r["template"] for r, _ in inbox], [m.subject for _, m in inbox], [m.body for _, m in inbox],
        )
    return settled


async def reschedule(uow: UnitOfWork, row, *, delay_seconds: float, error: str) -> bool:
    """Put a claimed delivery back to pending after a temporary failure."""
    return await uow.conn.fetchval(
        "UPDATE deliveries SET status = 'pending', lease_expires_at = NULL, last_error = $3,"
        " next_attempt_at = now() + make_interval(secs => $4)"
        " WHERE id = $1 AND status = 'sending' AND attempts = $2 RETURNING true",
        row["id"], row["attempts"], error[:1000], delay_seconds,
    ) is not None


async def defer(uow: UnitOfWork, row, *, until_seconds: float, why: str) -> bool:
    """Hand a claimed delivery back unsent, its attempt not counted, due again in `until_seconds`
    (quiet hours, a provider rate limit): postponed, not failed."""
    return await uow.conn.fetchval(
        "UPDATE deliveries SET status = 'pending', attempts = attempts - 1, lease_expires_at = NULL,"
        " next_attempt_at = now() + make_interval(secs => $3), last_error = $4"
        " WHERE id = $1 AND status = 'sending' AND attempts = $2 RETURNING true",
        row["id"], row["attempts"], until_seconds, why,
    ) is not None


async def release(uow: UnitOfWork, rows) -> None:
    """Hand claimed deliveries that were never sent back to pending, their attempt not counted."""
    await uow.conn.executemany(
        "UPDATE deliveries SET status = 'pending', attempts = attempts - 1, lease_expires_at = NULL"
        " WHERE id = $1 AND status = 'sending' AND attempts = $2",
        [(r["id"], r["attempts"]) for r in rows],
    )


async def fail_claimed(uow: UnitOfWork, row, *, reason: str, error: str) -> bool:
    """Settle a claimed delivery as failed (permanent failure or retries used up)."""
    return await _fail_where(
        uow, "id = $1 AND status = 'sending' AND attempts = $2", [row["id"], row["attempts"]], reason, error,
        own_span=False,
    ) > 0


async def _fail_where(uow: UnitOfWork, condition: str, args: list, reason: str, error: str,
                      *, own_span: bool = True) -> int:
    n = len(args)
    rows = await uow.conn.fetch(
        f"UPDATE deliveries SET status = 'failed', failed_at = now(), lease_expires_at = NULL,"
        f" failure_reason = ${n + 1}, last_error = ${n + 2} WHERE {condition} RETURNING {_SETTLED_COLUMNS}",
        *args, reason, error[:1000],
    )
    if rows:
        # Every failed delivery is dead-lettered too (published by the dispatcher, see dlq_publish).
        await uow.conn.executemany(
            "INSERT INTO delivery_dlq (delivery_id, reason, error, attempts, payload) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT DO NOTHING",
            [(r["id"], reason, redact(error[:1000]), r["attempts"], {
                "delivery_id": str(r["id"]), "source_event_id": str(r["source_event_id"]),
                "source_event_type": r["source_event_type"], "recipient_id": str(r["recipient_id"]), "recipient_kind": r["recipient_kind"],
                "subject_member_id": str(r["subject_member_id"]) if r["subject_member_id"] else None,
                "channel": r["channel"], "template": r["template"], "attempts": r["attempts"], "reason": reason,
                "failed_at": r["failed_at"].isoformat(),
                "org_path": [str(p) for p in r["org_path"]] if r["org_path"] else None,
            }) for r in rows],
        )
    # Not a claimed send (the dispatcher counts those once committed): the sweep, a contact without
    # an address. Counted as staged: a rolled-back transaction tried again may count one twice.
    if own_span:
        for r in rows:
            metrics.notify_deliveries.add(1, {"channel": r["channel"], "outcome": "failed", "reason": reason})
    for r in rows:
        with delivery_span(r, "notification failed") if own_span else contextlib.nullcontext():
            await uow.stage(NotificationFailed(
                notification_id=r["id"], source_event_id=r["source_event_id"],
                source_event_type=r["source_event_type"], member_id=r["member_id"], channel=r["channel"],
                template=r["template"], reason=reason, attempts=r["attempts"], failed_at=r["failed_at"],
            ))
    return len(rows)
