"""Helpers for keeping organisation paths right in projections (plumbing, no union rules)."""
from __future__ import annotations

import asyncpg


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
