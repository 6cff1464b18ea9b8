"""One page of a list an office works from: the rows of `limit`/`offset` and the total the
filters match, so a screen can say "34 of 219". Every list of the services answers
`{items, total, limit, offset}` through it."""
from __future__ import annotations

from typing import Any, Callable

import asyncpg

from unionops.db import Reader


async def page(conn: Reader, select: str, from_where: str, order_by: str, args: list,
               *, limit: int, offset: int, row: Callable[[asyncpg.Record], dict]) -> dict[str, Any]:
    """`SELECT {select} {from_where} ORDER BY {order_by}` paged; `order_by` comes from an allow-list
    of the API (never the caller's text) and ends with a unique key, so pages never overlap."""
    n = len(args)
    total = await conn.fetchval(f"SELECT count(*) {from_where}", *args)
    rows = await conn.fetch(f"SELECT {select} {from_where} ORDER BY {order_by} LIMIT ${n + 1} OFFSET ${n + 2}",
                            *args, limit, offset)
    return {"items": [row(r) for r in rows], "total": total, "limit": limit, "offset": offset}
