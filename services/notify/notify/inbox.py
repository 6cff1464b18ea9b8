"""The in-app inbox: messages written by the dispatcher for `inapp` deliveries, read through the
API by the member themself or by staff whose subtree holds the member's unit."""
from __future__ import annotations

import uuid

import asyncpg

_COLUMNS = "id, member_id, source_event_type, template, subject, body, created_at, read_at"


async def member_org_path(conn: asyncpg.Connection, member_id: uuid.UUID) -> list[uuid.UUID] | None:
    """The member's unit path for staff scope: from the members projection, else from their
    latest delivery."""
    path = await conn.fetchval("SELECT org_path FROM members WHERE member_id = $1", member_id)
    if path is None:
        path = await conn.fetchval("SELECT org_path FROM deliveries WHERE member_id = $1 AND org_path IS NOT NULL"
                                   " ORDER BY created_at DESC LIMIT 1", member_id)
    return path


async def list_messages(conn: asyncpg.Connection, member_id: uuid.UUID, *, unread_only: bool = False,
                        limit: int = 100) -> list:
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM inbox_messages WHERE member_id = $1 AND recipient_kind = 'member'"
        " AND ($2 = false OR read_at IS NULL)"
        " ORDER BY created_at DESC LIMIT $3", member_id, unread_only, limit)


async def unread_count(conn: asyncpg.Connection, member_id: uuid.UUID) -> int:
    return await conn.fetchval("SELECT count(*) FROM inbox_messages WHERE member_id = $1 AND recipient_kind = 'member'"
                               " AND read_at IS NULL",
                               member_id)


async def mark_read(conn: asyncpg.Connection, member_id: uuid.UUID, message_id: uuid.UUID):
    """Mark one of the member's messages read (idempotent: the first read time stays)."""
    return await conn.fetchrow(
        f"UPDATE inbox_messages SET read_at = coalesce(read_at, now()) WHERE id = $1 AND member_id = $2 AND recipient_kind = 'member'"
        f" RETURNING {_COLUMNS}", message_id, member_id)
