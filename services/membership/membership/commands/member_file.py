"""The member file (会员档案): every command that changes a member writes its line here."""
from __future__ import annotations

import uuid

import asyncpg


async def add_file_entry(conn: asyncpg.Connection, member_id: uuid.UUID, kind: str, union_id: uuid.UUID,
                         detail: dict, actor: str, *, union_ids: list[uuid.UUID] | None = None) -> None:
    """One line of the member file. `union_ids`: every union the entry concerns (default: `union_id`);
    staff over any of them may read the file."""
    await conn.execute(
        "INSERT INTO member_file_entries (member_id, kind, union_id, union_ids, detail, actor)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        member_id, kind, union_id, union_ids or [union_id], detail, actor,
    )
