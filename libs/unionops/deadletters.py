"""Dead letters: the events a consumer gave up on, kept as consumed so that an operator can list
and inspect them (personal data masked), replay them after the cause is fixed, or discard them
with a reason — every action audited in `operator_actions` (unionops.audit).

A consumer that gives up on a record publishes it to `<topic>.dlq` (the broker's copy), marks the
event `dead_lettered` in its inbox and stores the record in `dead_letters` (unionops.consumer).

Replay goes through the normal path, in the consuming service, in one transaction: the dead
letter's row is locked, the inbox mark removed and the stored record applied by the consumer's
own code (inbox insert, then its handler), the dead letter marked `replayed` and the action
audited. So a replayed event takes effect exactly once: the inbox row commits with the effect;
a second replay finds the dead letter already replayed; a redelivery of the original record
finds the inbox row. A replay that fails again changes nothing but the attempt count and the
error (and the audit). Republishing to the topic was not chosen: every consumer group of the
topic would receive it again and the operator would not learn whether it took.

The command-line client is `python -m unionops.oncall dlq …` (see there)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from unionops import audit
from unionops.pii import mask_email, mask_name, mask_phone, mask_resident_id, redact
from unionops.problems import Problem


@dataclass(frozen=True)
class StoredRecord:
    """A dead letter's Kafka record as consumed: what `unionops.envelope.from_record` reads."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


async def store(conn: asyncpg.Connection, consumer: str, record, envelope, reason: str) -> None:
    """Keep a record the consumer gave up on (in the consumer's dead-letter transaction)."""
    headers = [[k, v.decode("utf-8", errors="replace") if isinstance(v, (bytes, bytearray)) else str(v)]
               for k, v in (record.headers or ())]
    await conn.execute(
        "INSERT INTO dead_letters (consumer, event_id, event_type, topic, partition, \"offset\", key, value,"
        " headers, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (consumer, event_id) WHERE event_id IS NOT NULL DO NOTHING",
        consumer, envelope.id if envelope else None, envelope.type if envelope else None,
        record.topic, record.partition, record.offset, _bytes(record.key), _bytes(record.value), headers,
        redact(reason)[:4000],
    )


def _bytes(value) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode() if not isinstance(value, (bytearray, memoryview)) else bytes(value)


def stored_record(row) -> StoredRecord:
    return StoredRecord(row["topic"], row["partition"], row["offset"], row["key"], row["value"],
                        [(k, v.encode()) for k, v in row["headers"]])


# ---- masking ---------------------------------------------------------------------------------

# Names of organisations, contests, templates… are not personal; any other `*name` may be a person's.
_NOT_A_PERSON = re.compile(r"union|unit|org|employer|contest|campaign|fund|template|channel|team|award|"
                           r"category|event|topic|district|street|branch|city|bot|file_name")
_FREE_TEXT = re.compile(r"summary|note|reason|description|detail|text|comment|address|health|family|"
                        r"situation|body|content|message|remark|story|diagnos")


def mask(value: Any, key: str = "") -> Any:
    """A payload for an operator's eyes: person names, phones, e-mails and ID numbers masked, free
    text (health, family, case summaries) hidden, anything else that looks like personal data
    redacted; sealed fields (`*_sealed`, ciphertext) stay as they are — never opened here."""
    k = key.lower()
    if isinstance(value, dict):
        return {name: mask(v, name) for name, v in value.items()}
    if isinstance(value, list):
        return [mask(v, key) for v in value]
    if not isinstance(value, str):
        return value
    if k.endswith("_sealed") or k.endswith("_hash") or k.endswith("key_id"):
        return value
    if "phone" in k or "mobile" in k:
        return mask_phone(value)
    if "email" in k or "mail" in k:
        return mask_email(value)
    if "id_number" in k or "resident_id" in k or "id_card" in k:
        return mask_resident_id(value)
    if _FREE_TEXT.search(k):
        return f"***（{len(value)}字）" if value else value
    if (k == "name" or k.endswith("name")) and not _NOT_A_PERSON.search(k):
        return mask_name(value)
    return redact(value)


def masked_payload(value: bytes | None) -> Any:
    if value is None:
        return None
    try:
        return mask(json.loads(value))
    except (ValueError, UnicodeDecodeError):
        return f"<{len(value)} 字节，不是 JSON>"


def masked_headers(headers: list) -> dict[str, str]:
    return {k: redact(v) for k, v in headers}


# ---- reading ---------------------------------------------------------------------------------

_COLUMNS = ("id, consumer, event_id, event_type, topic, partition, \"offset\", error, status, replay_attempts,"
            " dead_lettered_at, resolved_at, resolved_by, resolution")


def summary(row) -> dict[str, Any]:
    return {
        "id": row["id"], "consumer": row["consumer"], "event_id": row["event_id"], "event_type": row["event_type"],
        "topic": row["topic"], "partition": row["partition"], "offset": row["offset"],
        "error": redact(row["error"]), "status": row["status"], "replay_attempts": row["replay_attempts"],
        "dead_lettered_at": row["dead_lettered_at"], "resolved_at": row["resolved_at"],
        "resolved_by": row["resolved_by"], "resolution": row["resolution"],
    }


async def listing(conn: asyncpg.Connection, *, status: str | None, consumer: str | None, topic: str | None,
                  limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    where = " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR consumer = $2)" \
            " AND ($3::text IS NULL OR topic = $3)"
    total = await conn.fetchval("SELECT count(*) FROM dead_letters" + where, status, consumer, topic)
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM dead_letters{where} ORDER BY id LIMIT $4 OFFSET $5",
                            status, consumer, topic, limit, offset)
    return total, [summary(r) for r in rows]


async def inspect(conn: asyncpg.Connection, dead_letter_id: int) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM dead_letters WHERE id = $1", dead_letter_id)
    if row is None:
        raise _not_found()
    return summary(row) | {
        "key": redact(row["key"].decode("utf-8", errors="replace")) if row["key"] is not None else None,
        "headers": masked_headers(row["headers"]),
        "payload": masked_payload(row["value"]),
    }


async def pending_counts(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["consumer"]: r["n"] for r in await conn.fetch(
        "SELECT consumer, count(*) AS n FROM dead_letters WHERE status = 'pending' GROUP BY consumer")}


def _not_found() -> Problem:
    return Problem(404, "没有该死信", type_="/problems/not-found")


# ---- acting ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    id: int
    status: str      # the dead letter's status afterwards
    outcome: str     # replayed | already_replayed | failed | discarded | already_discarded
    error: str | None = None


async def replay(pool: asyncpg.Pool, consumers: dict, dead_letter_id: int, *, actor, reason: str | None) -> Outcome:
    """Apply a dead letter again through its consumer (see the module's docstring)."""
    # Imported here: unionops.consumer stores dead letters through this module.
    from unionops.consumer import INFRASTRUCTURE_ERRORS

    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM dead_letters WHERE id = $1 FOR UPDATE", dead_letter_id)
        if row is None:
            raise _not_found()
        if row["status"] == "replayed":
            return Outcome(row["id"], "replayed", "already_replayed")
        if row["status"] == "discarded":
            raise Problem(409, "该死信已丢弃，不能重放", type_="/problems/dead-letter-discarded")
        consumer = consumers.get(row["consumer"])
        if consumer is None:
            raise Problem(409, "本服务已没有处理该死信的消费者", type_="/problems/dead-letter-consumer-gone")
        target = f"dead_letter:{row['id']}"
        detail = {"consumer": row["consumer"], "event_id": str(row["event_id"]) if row["event_id"] else None,
                  "event_type": row["event_type"], "topic": row["topic"]}
        try:
            async with conn.transaction():  # a savepoint: a failed replay leaves everything as it was
                if row["event_id"] is not None:
                    await conn.execute(
                        "DELETE FROM inbox WHERE consumer = $1 AND event_id = $2 AND status = 'dead_lettered'",
                        row["consumer"], row["event_id"])
                applied = await consumer.apply_in(conn, stored_record(row))
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:
            error = redact(f"{type(exc).__name__}: {exc}")[:2000]
            await conn.execute("UPDATE dead_letters SET replay_attempts = replay_attempts + 1, error = $2"
                               " WHERE id = $1", row["id"], error)
            await audit.record(conn, actor, "dead_letter.replay", target, reason, "failed", detail | {"error": error})
            return Outcome(row["id"], "pending", "failed", error)
        await conn.execute(
            "UPDATE dead_letters SET status = 'replayed', replay_attempts = replay_attempts + 1, resolved_at = now(),"
            " resolved_by = $2, resolution = $3 WHERE id = $1", row["id"], actor.subject, reason)
        await audit.record(conn, actor, "dead_letter.replay", target, reason,
                           "replayed" if applied else "already_applied", detail)
    consumer.count_applied(1, 1 if applied else 0)
    return Outcome(row["id"], "replayed", "replayed")


async def replay_pending(pool: asyncpg.Pool, consumers: dict, *, consumer: str | None, topic: str | None,
                         actor, reason: str | None, limit: int) -> list[Outcome]:
    """Replay every pending dead letter (of one consumer or topic), oldest first, one by one."""
    ids = [r["id"] for r in await pool.fetch(
        "SELECT id FROM dead_letters WHERE status = 'pending' AND ($1::text IS NULL OR consumer = $1)"
        " AND ($2::text IS NULL OR topic = $2) ORDER BY id LIMIT $3", consumer, topic, limit)]
    outcomes = []
    for dead_letter_id in ids:
        try:
            outcomes.append(await replay(pool, consumers, dead_letter_id, actor=actor, reason=reason))
        except Problem as problem:  # discarded or its consumer gone meanwhile: reported, the rest go on
            outcomes.append(Outcome(dead_letter_id, "pending", "failed", problem.detail))
    return outcomes


async def discard(pool: asyncpg.Pool, dead_letter_id: int, *, actor, reason: str) -> Outcome:
    """Give a dead letter up for good, with the reason why. Its inbox mark stays, so a
    redelivery of the original record is still not applied."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT id, status, consumer, event_id, event_type, topic FROM dead_letters"
                                  " WHERE id = $1 FOR UPDATE", dead_letter_id)
        if row is None:
            raise _not_found()
        if row["status"] == "discarded":
            return Outcome(row["id"], "discarded", "already_discarded")
        if row["status"] == "replayed":
            raise Problem(409, "该死信已重放，不能丢弃", type_="/problems/dead-letter-replayed")
        await conn.execute("UPDATE dead_letters SET status = 'discarded', resolved_at = now(), resolved_by = $2,"
                           " resolution = $3 WHERE id = $1", row["id"], actor.subject, reason)
        await audit.record(conn, actor, "dead_letter.discard", f"dead_letter:{row['id']}", reason, "discarded",
                           {"consumer": row["consumer"], "event_type": row["event_type"], "topic": row["topic"],
                            "event_id": str(row["event_id"]) if row["event_id"] else None})
    return Outcome(row["id"], "discarded", "discarded")
