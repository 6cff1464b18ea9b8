"""`Idempotency-Key` for creating POSTs: the key is claimed in the same transaction as the
creation, so a retried request returns the first response and creates nothing more. Endpoints
use it through `unionops.unit_of_work.Commands.create`; the member import, which answers 200 or
201 and after a rollback, claims and completes the key itself."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from unionops.problems import Problem


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


def fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def validate_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise Problem(400, "Idempotency-Key 须为 1–200 个可打印字符", type_="/problems/idempotency-key")
    return key


async def claim(conn: asyncpg.Connection, scope: str, key: str | None, payload: Any) -> Replay | None:
    """Inside the creating transaction: None means go ahead (then call `complete`); a Replay is
    the stored answer of the earlier request with this key. The same key with another body is
    refused with 422."""
    if key is None:
        return None
    fp = fingerprint(payload)
    inserted = await conn.fetchval(
        "INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        scope, key, fp,
    )
    if inserted:
        return None
    row = await conn.fetchrow("SELECT fingerprint, status_code, body FROM idempotency_keys WHERE scope=$1 AND key=$2",
                              scope, key)
    if row["fingerprint"] != fp:
        raise Problem(422, "该 Idempotency-Key 已用于内容不同的请求", type_="/problems/idempotency-key-reused")
    return Replay(row["status_code"], row["body"])


async def complete(conn: asyncpg.Connection, scope: str, key: str | None, status_code: int, body: Any) -> None:
    if key is None:
        return
    await conn.execute("UPDATE idempotency_keys SET status_code=$3, body=$4 WHERE scope=$1 AND key=$2",
                       scope, key, status_code, body)
