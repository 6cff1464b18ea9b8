"""What a service's database holds, read by tests: other services' events reached in its
projections, the events it staged in its outbox, any one query."""
from __future__ import annotations

import uuid
from typing import Iterable

import asyncpg

from tests.support.waiting import eventually
from unionops import db as database


async def projected(db: asyncpg.Connection, *, members: Iterable[uuid.UUID | str] = (),
                    units: Iterable[uuid.UUID | str] = ()) -> None:
    """Wait until the consumer's `members` and `org_units` projections hold every member and unit
    named: membership's MemberJoined and UnionEstablished have reached it."""
    for table, column, ids, event in (("members", "member_id", members, "MemberJoined"),
                                      ("org_units", "org_id", units, "UnionEstablished")):
        ids = [uuid.UUID(str(i)) for i in ids]
        if ids:
            await eventually(lambda: db.fetchval(f"SELECT count(*) = $2 FROM {table} WHERE {column} = ANY($1)",
                                                 ids, len(set(ids))),
                             what=f"{event} of {len(ids)} to reach the {table} projection")


async def staged(db: asyncpg.Connection, event_type: str, key) -> list[dict]:
    """The payloads of `event_type` the service staged under `key`, oldest first."""
    rows = await db.fetch("SELECT payload FROM outbox WHERE event_type = $1 AND key = $2 ORDER BY id",
                          event_type, str(key))
    return [r["payload"] for r in rows]


async def query(dsn: str, sql: str, *args) -> list[asyncpg.Record]:
    """One query on a connection of its own (unionops.db.connect: jsonb comes back decoded)."""
    conn = await database.connect(dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()
