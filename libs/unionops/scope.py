"""Outside a caller's scope nothing exists: a row outside the caller's subtree is refused exactly
as a row that is not there, by the one function every service reads scoped rows through."""
from __future__ import annotations

import asyncpg

from unionops.auth import Principal
from unionops.db import Reader


async def row_in_scope(reader: Reader, principal: Principal, refusal: Exception, query: str, *args,
                       path: str = "org_path") -> asyncpg.Record:
    """The row `query` finds if the caller's subtree holds it (its `path` column, root first);
    otherwise `refusal` (a 404, or a 422 naming the field) — the same for absent and out of scope."""
    row = await reader.fetchrow(query, *args)
    if row is None or not principal.covers(row[path] or ()):
        raise refusal
    return row
