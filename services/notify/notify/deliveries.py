"""The `deliveries` table: creating notifications, claiming due ones with a lease, and settling
them (delivered / retry / failed). Every settlement stages its event in the outbox in the same
transaction, inside a span of the delivery's own trace (the one of the event that caused it).
A member delivery on a channel the member has no address for ends `undeliverable`: no event,
no dead letter (settle_unaddressable)."""
from __future__ import annotations

import contextlib
import importlib.util
import json
import uuid
from typing import Iterator

import asyncpg
from opentelemetry.trace import Span, SpanKind

from contracts.events import NotificationDelivered, NotificationFailed
from notify import domain
from notify.templates import TemplateRegistry
from unionops import metrics, outbox
from unionops.pii import redact
from unionops.projections import pg_path
from unionops.envelope import Envelope
from unionops.telemetry import context_from_headers, current_trace_headers, tracer

_tracer = tracer("notify.deliveries")

_SETTLED_COLUMNS = ("id, source_event_id, source_event_type, member_id, channel, template, attempts, trace_headers,"
                    " delivered_at, failed_at, org_path, subject_member_id, recipient_kind, recipient_id")

DLQ_TOPIC = "notify.delivery.v1.dlq"

# Claims due deliveries of one channel that have what the channel needs: e-mail an address, SMS
# a phone number — of the member (contacts, sealed under their data key, which must still exist) or
# officer (officers, e-mail and phone under the vault) who receives it —
# a webhook an enabled bot (recipient_id is the bot), in-app nothing. `sending` rows whose lease ran out are due again: their sender died,
# perhaps after the provider accepted (same idempotency key, the delivery id).
_CLAIM = """
WITH due AS (
    SELECT d.id, coalesce(c.name, o.name) AS recipient_name, o.email_enc AS officer_email_enc, c.email_sealed,
           o.phone_enc, c.phone_sealed, mk.wrapped_key AS member_key,
           b.url_enc AS bot_url_enc, b.secret_enc AS bot_secret_enc, b.flavour AS bot_flavour, b.name AS bot_name,
           sc.name AS subject_name, ms.language, ms.quiet_start, ms.quiet_end
    FROM deliveries d
    LEFT JOIN contacts c ON d.recipient_kind = 'member' AND c.member_id = d.recipient_id
    LEFT JOIN officers o ON d.recipient_kind = 'officer' AND o.id = d.recipient_id AND o.active
    LEFT JOIN webhook_bots b ON d.channel = 'webhook' AND b.id = d.recipient_id
    LEFT JOIN member_keys mk ON d.recipient_kind = 'member' AND mk.member_id = d.recipient_id
    LEFT JOIN contacts sc ON sc.member_id = d.subject_member_id
    LEFT JOIN member_settings ms ON d.recipient_kind = 'member' AND ms.member_id = d.recipient_id
    WHERE ((d.status = 'pending' AND d.next_attempt_at <= now())
           OR (d.status = 'sending' AND d.lease_expires_at <= now() AND d.attempts < $3))
      AND d.channel = $4
      AND CASE d.channel WHEN 'email' THEN (c.email_sealed IS NOT NULL AND mk.wrapped_key IS NOT NULL)
                                           OR o.email_enc IS NOT NULL
                         WHEN 'sms' THEN (c.phone_sealed IS NOT NULL AND mk.wrapped_key IS NOT NULL)
                                         OR o.phone_enc IS NOT NULL
                         WHEN 'webhook' THEN coalesce(b.enabled, false)
                         ELSE true END
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
          CASE d.channel WHEN 'email' THEN due.officer_email_enc END AS officer_email_enc, due.email_sealed,
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


async def member_channels(conn: asyncpg.Connection, member_ids: list[uuid.UUID],
                          notice_kind: str) -> dict[uuid.UUID, list[str]]:
    """Each member's channels for a notice kind (the template name), as `preferences` decides;
    e-mail only until that module exists. A member missing from its answer gets e-mail."""
    if importlib.util.find_spec("notify.preferences") is None:
        return {m: ["email"] for m in member_ids}
    from notify import preferences

    chosen = await preferences.channels_for(conn, member_ids, notice_kind)
    return {m: list(chosen.get(m, ["email"])) for m in member_ids}


# One INSERT for any number of member notices, of one event or of many (a batch of payments):
# one row per notice × channel, each with its event's id, type and trace. The org path comes
# from the notice, else from the members projection (ContestScored, results carry none); a
# campaign payment gets its campaign's name from the campaigns projection in the same statement.
_CREATE_FOR_MEMBERS = """
WITH n AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::jsonb[],
                         $8::text[], $9::uuid[], $10::jsonb[])
             AS n(event_id, event_type, member_id, channel, template, template_version, context, org_path,
                  campaign_id, trace_headers)
), ins AS (
    INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, recipient_kind, recipient_id,
                            org_path, channel, template, template_version, context, trace_headers)
    SELECT gen_random_uuid(), n.event_id, n.event_type, n.member_id, 'member', n.member_id,
           coalesce(n.org_path::uuid[], m.org_path), n.channel, n.template, n.template_version,
           n.context || coalesce((SELECT jsonb_build_object('campaign_name', c.name) FROM campaigns c
                                  WHERE c.campaign_id = n.campaign_id), '{}'::jsonb),
           n.trace_headers
    FROM n LEFT JOIN members m ON m.member_id = n.member_id
    ON CONFLICT (source_event_id, recipient_kind, recipient_id, channel) DO NOTHING
    RETURNING member_id, channel
)
SELECT count(*) AS created, ARRAY(SELECT DISTINCT member_id FROM ins) AS members FROM ins
"""

_CREATE_FOR_OFFICERS = """
INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, recipient_kind, recipient_id,
                        subject_member_id, org_path, channel, template, template_version, context, trace_headers)
SELECT gen_random_uuid(), $1, $2, NULL, 'officer', o.id, $3, $4, o.channel, $5, $6,
       $7::jsonb || coalesce((SELECT jsonb_build_object('member_name', c.name) FROM contacts c
                              WHERE c.member_id = $3), '{}'::jsonb),
       $8
FROM unnest($9::uuid[], $10::text[]) AS o(id, channel)
ON CONFLICT (source_event_id, recipient_kind, recipient_id, channel) DO NOTHING
RETURNING id
"""


# One INSERT for the group-chat copies of any number of member notices: for each notice, every
# enabled bot subscribed to its kind (the template name) at the nearest unit of the member's path
# that has one — the union, else its street, district, city; none further up. The path comes from
# the notice, else from the members projection (ContestScored carries none). recipient_kind 'bot',
# member_id NULL, the member in subject_member_id (the dispatcher masks their name).
_CREATE_FOR_BOTS = """
WITH n AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::text[],
                         $8::jsonb[]) WITH ORDINALITY
             AS n(event_id, event_type, member_id, template, template_version, context, org_path, trace_headers, i)
), scoped AS (
    SELECT n.*, coalesce(n.org_path::uuid[], m.org_path) AS path
    FROM n LEFT JOIN members m ON m.member_id = n.member_id
    -- Most batches (an import's admissions) concern no bot at all: then nothing is joined.
    WHERE EXISTS (SELECT 1 FROM webhook_bots WHERE enabled AND notice_kinds && $4::text[])
), subscribed AS (
    SELECT s.i, b.id AS bot_id, rank() OVER (PARTITION BY s.i ORDER BY u.depth DESC) AS nearness
    FROM scoped s
    CROSS JOIN LATERAL unnest(s.path) WITH ORDINALITY AS u(unit, depth)
    JOIN webhook_bots b ON b.org_unit_id = u.unit AND b.enabled AND s.template = ANY(b.notice_kinds)
), ins AS (
    INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, recipient_kind, recipient_id,
                            subject_member_id, org_path, channel, template, template_version, context, trace_headers)
    SELECT gen_random_uuid(), s.event_id, s.event_type, NULL, 'bot', b.bot_id, s.member_id, s.path, 'webhook',
           s.template, s.template_version, s.context, s.trace_headers
    FROM subscribed b JOIN scoped s USING (i)
    WHERE b.nearness = 1
    ON CONFLICT (source_event_id, recipient_kind, recipient_id, channel) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins
"""


async def create(conn: asyncpg.Connection, env: Envelope, notice: domain.Notice, templates: TemplateRegistry) -> int:
    """In the consumer's transaction: one pending delivery per channel of the notice, once per
    event × member × channel. Returns how many were new."""
    return await create_many(conn, env, [notice], templates)


async def create_many(conn: asyncpg.Connection, env: Envelope, notices: list[domain.Notice],
                      templates: TemplateRegistry) -> int:
    """Member notices of one event (a team, a results list), in the current trace. Returns how
    many deliveries were new."""
    headers = current_trace_headers()
    return await create_for_events(conn, [(env, n, headers) for n in notices], templates)


async def create_for_events(conn: asyncpg.Connection, items: list[tuple[Envelope, domain.Notice, dict]],
                            templates: TemplateRegistry) -> int:
    """Member notices, each with the event that caused it and that event's trace context, with
    one query for the channels per notice kind (none when the notices name them) and one
    INSERT. Returns how many deliveries were new."""
    if not items:
        return 0
    undecided: dict[str, list[uuid.UUID]] = {}
    for _, n, _ in items:
        if n.channels is None:
            undecided.setdefault(n.template, []).append(n.member_id)
    chosen: dict[tuple[str, uuid.UUID], list[str]] = {}
    for kind, members in undecided.items():
        for member_id, channels in (await member_channels(conn, list(dict.fromkeys(members)), kind)).items():
            chosen[(kind, member_id)] = channels
    cols: tuple[list, ...] = ([], [], [], [], [], [], [], [], [], [])
    for env, n, headers in items:
        spec = templates.current(n.template)
        for channel in (n.channels if n.channels is not None else chosen[(n.template, n.member_id)]):
            for col, value in zip(cols, (env.id, env.type, n.member_id, channel, spec.name, spec.version, n.context,
                                         pg_path(n.org_path), n.campaign_id, headers)):
                col.append(value)
    if not cols[0]:
        return 0
    row = await conn.fetchrow(_CREATE_FOR_MEMBERS, *cols)
    # A channel the member's current contact has no address for: settled now, not failed.
    if row["members"]:
        await settle_unaddressable(conn, row["members"])
    return row["created"]


async def create_for_bots(conn: asyncpg.Connection, items: list[tuple[Envelope, domain.Notice, dict]],
                          templates: TemplateRegistry) -> int:
    """Group-chat copies of member notices (same items as `create_for_events`): one `webhook`
    delivery per subscribed bot of the nearest unit on the member's path that has one, once per
    event × bot, each with its event's trace context. One statement for the whole batch.
    Returns how many deliveries were new."""
    if not items:
        return 0
    specs = [templates.current(n.template) for _, n, _ in items]
    return await conn.fetchval(
        _CREATE_FOR_BOTS, [env.id for env, _, _ in items], [env.type for env, _, _ in items],
        [n.member_id for _, n, _ in items], [s.name for s in specs], [s.version for s in specs],
        [n.context for _, n, _ in items], [pg_path(n.org_path) for _, n, _ in items],
        [headers for _, _, headers in items])


async def create_for_officers(conn: asyncpg.Connection, env: Envelope, notice: domain.OfficerNotice,
                              officers: list[domain.Officer], templates: TemplateRegistry) -> int:
    """One delivery per officer × channel of their directory entry (e-mail, in-app), once per
    event × officer × channel: an officer reached twice by one event (both sides of a transfer)
    gets one message."""
    ids, channels = [], []
    for officer in officers:
        for channel in domain.officer_channels(officer):
            ids.append(officer.id)
            channels.append(channel)
    if not ids:
        return 0
    spec = templates.current(notice.template)
    rows = await conn.fetch(_CREATE_FOR_OFFICERS, env.id, env.type, notice.subject_member_id, notice.org_path,
                            spec.name, spec.version, notice.context, current_trace_headers(), ids, channels)
    return len(rows)


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


async def settle_unaddressable(conn: asyncpg.Connection, member_ids: list[uuid.UUID]) -> int:
    """The members' waiting e-mails and SMS for which their contact is known to hold no address:
    `undeliverable` now. Waiting for an address that will not come helps nobody, and it is not a
    failure: no dead letter, no NotificationFailed."""
    return await _settle_undeliverable(
        conn, f"member_id = ANY($1::uuid[]) AND {_KNOWN_WITHOUT_ADDRESS}", [list(member_ids)],
        "联系方式中没有该渠道的地址")


async def _settle_undeliverable(conn: asyncpg.Connection, condition: str, args: list, why: str) -> int:
    n = len(args)
    rows = await conn.fetch(
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
  WHEN 'sms' THEN EXISTS (SELECT 1 FROM contacts c WHERE deliveries.recipient_kind = 'member'
                            AND c.member_id = deliveries.recipient_id AND c.phone_sealed IS NOT NULL)
               OR EXISTS (SELECT 1 FROM officers o WHERE deliveries.recipient_kind = 'officer'
                            AND o.id = deliveries.recipient_id AND o.active AND o.phone_enc IS NOT NULL)
  WHEN 'webhook' THEN EXISTS (SELECT 1 FROM webhook_bots b WHERE b.id = deliveries.recipient_id AND b.enabled)
  ELSE true
END
"""


async def sweep(conn: asyncpg.Connection, *, contact_wait_seconds: float, max_attempts: int) -> int:
    """Give up on deliveries that can no longer go out: no address on their channel within the
    wait (a member's contact never came or has none — undeliverable —, an officer stood down, a
    bot was disabled or removed — failed), or a lease that ran out on the last allowed attempt
    (the sender died every time). Returns how many were settled either way."""
    # A member's contact that never came (membership sends none for a member with neither
    # e-mail nor phone): not deliverable. Officers' and bots' messages that reached nobody (stood
    # down, disabled) are failures: a work item or a group-chat notice went nowhere.
    expired = "status = 'pending' AND created_at < now() - make_interval(secs => $1)"
    undeliverable = await _settle_undeliverable(
        conn, f"{expired} AND recipient_kind = 'member' AND NOT ({_ADDRESSABLE})", [contact_wait_seconds],
        "等待收件地址超时（无联系方式）")
    failed = await _fail_where(
        conn, f"{expired} AND recipient_kind <> 'member' AND NOT ({_ADDRESSABLE})",
        [contact_wait_seconds], domain.NO_ADDRESS, "等待收件地址超时（人员已离任或机器人已停用）",
    )
    failed += await _fail_where(
        conn,
        "status = 'sending' AND lease_expires_at <= now() AND attempts >= $1",
        [max_attempts], domain.LEASE_EXPIRED, "发送进程多次中断，投递结果未知",
    )
    return undeliverable + failed


async def claim(conn: asyncpg.Connection, *, batch_size: int, lease_seconds: float, max_attempts: int,
                channels: tuple[str, ...] = ("email",)) -> list:
    """Mark due deliveries `sending` under a lease, up to `batch_size` per channel (a slow or
    rate-limited channel does not crowd out the others); the caller commits before sending."""
    rows = []
    for channel in channels:
        rows += await conn.fetch(_CLAIM, batch_size, lease_seconds, max_attempts, channel)
    return rows


_MARK_DELIVERED_MANY = f"""
UPDATE deliveries d
SET status = 'delivered', delivered_at = now(), lease_expires_at = NULL, last_error = NULL
FROM unnest($1::uuid[], $2::int[]) AS c(id, attempts)
WHERE d.id = c.id AND d.status = 'sending' AND d.attempts = c.attempts
RETURNING {", ".join("d." + c.strip() for c in _SETTLED_COLUMNS.split(","))}
"""


async def mark_delivered_many(conn: asyncpg.Connection, sent: list[tuple]) -> set:
    """Settle many claimed deliveries as delivered with one UPDATE, one outbox INSERT and one
    inbox INSERT: `sent` holds (row, trace headers of its send, in-app message or None). Each
    NotificationDelivered carries its own delivery's trace. Returns the ids settled — a row
    whose claim was lost (lease ran out, taken over) is left out and nothing is written for it."""
    if not sent:
        return set()
    done = await conn.fetch(_MARK_DELIVERED_MANY, [r["id"] for r, _, _ in sent], [r["attempts"] for r, _, _ in sent])
    by_id = {r["id"]: (headers, inbox) for r, headers, inbox in sent}
    await outbox.record_many(conn, [NotificationDelivered(
        notification_id=d["id"], source_event_id=d["source_event_id"], source_event_type=d["source_event_type"],
        member_id=d["member_id"], channel=d["channel"], template=d["template"], delivered_at=d["delivered_at"],
    ) for d in done], trace_headers=[by_id[d["id"]][0] for d in done])
    settled = {d["id"] for d in done}
    inbox = [(r, by_id[r["id"]][1]) for r, _, _ in sent if r["id"] in settled and by_id[r["id"]][1] is not None]
    if inbox:  # in-app: the message and its delivered state commit together
        await conn.execute(
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


async def reschedule(conn: asyncpg.Connection, row, *, delay_seconds: float, error: str) -> bool:
    """Put a claimed delivery back to pending after a temporary failure."""
    return await conn.fetchval(
        "UPDATE deliveries SET status = 'pending', lease_expires_at = NULL, last_error = $3,"
        " next_attempt_at = now() + make_interval(secs => $4)"
        " WHERE id = $1 AND status = 'sending' AND attempts = $2 RETURNING true",
        row["id"], row["attempts"], error[:1000], delay_seconds,
    ) is not None


async def defer(conn: asyncpg.Connection, row, *, until_seconds: float, why: str) -> bool:
    """Hand a claimed delivery back unsent, its attempt not counted, due again in `until_seconds`
    (quiet hours, a provider rate limit): postponed, not failed."""
    return await conn.fetchval(
        "UPDATE deliveries SET status = 'pending', attempts = attempts - 1, lease_expires_at = NULL,"
        " next_attempt_at = now() + make_interval(secs => $3), last_error = $4"
        " WHERE id = $1 AND status = 'sending' AND attempts = $2 RETURNING true",
        row["id"], row["attempts"], until_seconds, why,
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
    if rows:
        # Every failed delivery is dead-lettered too (published by the dispatcher, see dlq_publish).
        await conn.executemany(
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
            await outbox.record(conn, NotificationFailed(
                notification_id=r["id"], source_event_id=r["source_event_id"],
                source_event_type=r["source_event_type"], member_id=r["member_id"], channel=r["channel"],
                template=r["template"], reason=reason, attempts=r["attempts"], failed_at=r["failed_at"],
            ))
    return len(rows)


async def dlq_publish(pool: asyncpg.Pool, producer, *, batch_size: int = 100) -> int:
    """Publish unpublished dead letters to DLQ_TOPIC (key: delivery id; the failure in headers),
    then stamp them. At least once: a crash between the broker's ack and the stamp publishes a
    row again with the same key, which a DLQ reader folds."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT delivery_id, reason, error, attempts, payload, created_at FROM delivery_dlq"
            " WHERE published_at IS NULL ORDER BY created_at LIMIT $1", batch_size)
        if not rows:
            return 0
        for r in rows:
            headers = [("dlq_reason", r["reason"].encode()), ("dlq_error", (r["error"] or "").encode()),
                       ("dlq_attempts", str(r["attempts"]).encode()), ("dlq_channel", r["payload"]["channel"].encode()),
                       ("dlq_source_event_id", r["payload"]["source_event_id"].encode()),
                       ("dlq_failed_at", r["payload"]["failed_at"].encode())]
            await producer.send_and_wait(DLQ_TOPIC, json.dumps(r["payload"], ensure_ascii=False).encode(),
                                         key=str(r["delivery_id"]).encode(), headers=headers)
        await conn.execute("UPDATE delivery_dlq SET published_at = now() WHERE delivery_id = ANY($1::uuid[])",
                           [r["delivery_id"] for r in rows])
        return len(rows)
