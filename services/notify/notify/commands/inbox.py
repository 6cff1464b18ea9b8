"""The in-app inbox: a recipient marks one of their messages read (reading is their own act)."""
from __future__ import annotations

import uuid

from notify import queries
from unionops.auth import Principal
from unionops.problems import Problem
from unionops.unit_of_work import UnitOfWork


async def mark_read(uow: UnitOfWork, message_id: uuid.UUID, principal: Principal) -> dict:
    """Idempotent: the first read time stays."""
    kind, ids = await queries.own_recipients(uow.conn, principal)
    row = await uow.conn.fetchrow(
        f"UPDATE inbox_messages SET read_at = coalesce(read_at, now())"
        f" WHERE id = $1 AND member_id = ANY($2::uuid[]) AND recipient_kind = $3 RETURNING {queries.INBOX_COLUMNS}",
        message_id, ids, kind)
    if row is None:
        raise Problem(404, "消息不存在", type_="/problems/inbox-message-not-found")
    return dict(row)
