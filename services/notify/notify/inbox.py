"""The in-app inbox: messages written by the dispatcher for `inapp` deliveries, read through the
API by the member themself or by staff whose subtree holds the member's unit; an officer's
messages (work items, overdue tickets) by the officer, signed in with the account named as
their `inapp_user_id` in the officers directory.

`inbox_messages.member_id` holds the recipient: a member id (recipient_kind 'member') or an
officer id ('officer')."""
from __future__ import annotations

import uuid

import asyncpg

from unionops.problems import Problem

_COLUMNS = "id, recipient_kind, member_id, source_event_type, template, subject, body, created_at, read_at"


def member_not_found() -> Problem:
    """One answer for a member who is unknown and one outside the caller's subtree."""
    return Problem(404, "会员不存在或不在您的管辖范围内", type_="/problems/member-not-found")


async def member_org_path(conn: asyncpg.Connection, member_id: uuid.UUID) -> list[uuid.UUID] | None:
    """The member's unit path for staff scope: from the members projection, else from their
    latest delivery."""
    path = await conn.fetchval("SELECT org_path FROM members WHERE member_id = $1", member_id)
    if path is None:
        path = await conn.fetchval("SELECT org_path FROM deliveries WHERE member_id = $1 AND org_path IS NOT NULL"
                                   " ORDER BY created_at DESC LIMIT 1", member_id)
    return path


async def officer_ids(conn: asyncpg.Connection, user: str) -> list[uuid.UUID]:
    """The directory entries of one in-app account (a person may hold posts in several units;
    past posts included: their messages stay readable)."""
    return [r["id"] for r in await conn.fetch("SELECT id FROM officers WHERE inapp_user_id = $1", user)]


async def list_messages(conn: asyncpg.Connection, recipient_ids: list[uuid.UUID], *, kind: str = "member",
                        unread_only: bool = False, limit: int = 100) -> list:
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM inbox_messages WHERE member_id = ANY($1::uuid[]) AND recipient_kind = $2"
        " AND ($3 = false OR read_at IS NULL)"
        " ORDER BY created_at DESC LIMIT $4", recipient_ids, kind, unread_only, limit)


async def unread_count(conn: asyncpg.Connection, recipient_ids: list[uuid.UUID], *, kind: str = "member") -> int:
    return await conn.fetchval("SELECT count(*) FROM inbox_messages WHERE member_id = ANY($1::uuid[])"
                               " AND recipient_kind = $2 AND read_at IS NULL", recipient_ids, kind)


async def mark_read(conn: asyncpg.Connection, recipient_ids: list[uuid.UUID], message_id: uuid.UUID, *,
                    kind: str = "member"):
    """Mark one of the recipient's messages read (idempotent: the first read time stays)."""
    return await conn.fetchrow(
        f"UPDATE inbox_messages SET read_at = coalesce(read_at, now())"
        f" WHERE id = $1 AND member_id = ANY($2::uuid[]) AND recipient_kind = $3 RETURNING {_COLUMNS}",
        message_id, recipient_ids, kind)
