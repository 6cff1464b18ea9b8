"""The audit of what operators do to a service's data outside the business API (replays,
discards): who, when, what, why and how it ended, in `operator_actions`, written in the same
transaction as the action itself."""
from __future__ import annotations

from typing import Any

import asyncpg

from unionops.pii import redact


async def record(conn: asyncpg.Connection, actor, action: str, target: str, reason: str | None, outcome: str,
                 detail: dict[str, Any] | None = None) -> None:
    """`actor` is the caller (unionops.auth.Principal); the reason is kept as typed, redacted."""
    await conn.execute(
        "INSERT INTO operator_actions (actor, actor_name, action, target, reason, outcome, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        actor.subject, actor.name, action, target, redact(reason) if reason else None, outcome, detail or {},
    )


async def recent(conn: asyncpg.Connection, *, action: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, at, actor, actor_name, action, target, reason, outcome, detail FROM operator_actions"
        " WHERE ($1::text IS NULL OR starts_with(action, $1)) ORDER BY id DESC LIMIT $2 OFFSET $3",
        action, limit, offset)
    return [dict(r) for r in rows]
