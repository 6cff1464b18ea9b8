"""Plumbing for projections of other services' events (no union rules): the latest-wins upsert
of a batch, and organisation paths that follow a unit when it moves in the tree."""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Sequence

import asyncpg

# Every column of this type and name holds the path (city root first) of the unit a row belongs
# to. A projection database keeps no other kind of path, so a move rewrites exactly these.
PATH_COLUMN = "org_path"


async def upsert_latest(conn: asyncpg.Connection, table: str, key: str | Sequence[str],
                        rows: Iterable[Mapping[str, Any]], *, update: Sequence[str] | None = None,
                        touch: str | None = "updated_at") -> int:
    """Insert or update one row per key of `table` with one statement; where the same key
    occurs more than once the last row wins (a member joining, leaving and joining again in one
    batch), which is the effect of applying the rows one after another. Values are converted
    to the columns' own types by PostgreSQL (`jsonb_populate_recordset`), so paths of any
    length, dates and UUIDs need no casts here. `update` limits the columns an existing row
    takes (default: all given except the key); `touch` is stamped with now() on update.
    `table`, `key`, `update` and `touch` are identifiers from code, never from input."""
    keys = (key,) if isinstance(key, str) else tuple(key)
    latest: dict[tuple, Mapping[str, Any]] = {}
    for row in rows:
        k = tuple(row[c] for c in keys)
        latest.pop(k, None)
        latest[k] = row
    if not latest:
        return 0
    columns = list(next(iter(latest.values())))
    changed = [c for c in (update if update is not None else columns) if c not in keys]
    sets = [f"{c} = EXCLUDED.{c}" for c in changed] + ([f"{touch} = now()"] if touch else [])
    conflict = f"DO UPDATE SET {', '.join(sets)}" if sets else "DO NOTHING"
    cols = ", ".join(columns)
    status = await conn.execute(
        f"INSERT INTO {table} ({cols}) SELECT {', '.join('r.' + c for c in columns)}"
        f" FROM jsonb_populate_recordset(NULL::{table}, $1::text::jsonb) AS r"
        f" ON CONFLICT ({', '.join(keys)}) {conflict}",
        json.dumps(list(latest.values()), default=str, ensure_ascii=False))
    return int(status.rsplit(" ", 1)[-1])


async def path_columns(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """(table, column) of every organisation path in the connection's schema, read from the
    catalogue: a table added by a migration is followed without anyone keeping a list."""
    rows = await conn.fetch(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
        "   AND c.column_name = $1 AND c.data_type = 'ARRAY' AND c.udt_name = '_uuid'"
        " ORDER BY c.table_name", PATH_COLUMN)
    return [(r["table_name"], r["column_name"]) for r in rows]


async def follow_move(conn: asyncpg.Connection, old: list, new: list) -> int:
    """A unit moved (UnionMoved): every organisation path of this database under `old` gets
    `new` as its prefix, in the caller's transaction, so scope checks stay right everywhere.
    Returns the rows changed."""
    changed = 0
    for table, column in await path_columns(conn):
        changed += await rewrite_path_prefix(conn, table, column, old, new)
    return changed


async def rewrite_path_prefix(conn: asyncpg.Connection, table: str, column: str, old: list, new: list) -> int:
    """A unit moved in the tree: every path in `table.column` that starts with `old` gets `new`
    as its prefix instead. One set-based statement; returns the rows changed. `table` and
    `column` are identifiers from code, never from input."""
    status = await conn.execute(
        f"UPDATE {table} SET {column} = $2::uuid[] || {column}[cardinality($1::uuid[]) + 1:]"
        f" WHERE {column}[1:cardinality($1::uuid[])] = $1::uuid[]",
        old, new)
    return int(status.rsplit(" ", 1)[-1])


def common_ancestor(path_a, path_b):
    """The lowest unit on both paths (root first), or None. Between a caller's unit and a unit
    outside their subtree it is one of the caller's own ancestors: naming it ("ask the office
    above both") tells nothing about the other subtree."""
    common = None
    for a, b in zip(path_a or (), path_b or ()):
        if str(a) != str(b):
            break
        common = a
    return common


def pg_path(path) -> str | None:
    """An organisation path as a PostgreSQL array literal, for `unnest($n::text[])` … `::uuid[]`
    (a list of paths of different lengths cannot travel as one uuid[][] parameter)."""
    return None if path is None else "{" + ",".join(str(p) for p in path) + "}"
