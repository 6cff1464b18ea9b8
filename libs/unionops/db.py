"""PostgreSQL access: pools with start-up retry, JSON codecs; `migrate` (see unionops.migrate)."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

# What a query reads through: the pool (a connection per statement) or a connection a command
# or a longer read already holds.
Reader = asyncpg.Connection | asyncpg.Pool


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def connect(dsn: str, *, timeout: float = 30.0) -> asyncpg.Connection:
    """One connection (for LISTEN or leader locks), retried until the server answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = await asyncpg.connect(dsn)
            await _init_connection(conn)
            return conn
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if time.monotonic() > deadline:
                raise
            log.info("database not ready yet: %s", type(exc).__name__)
            await asyncio.sleep(0.5)


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 30.0) -> asyncpg.Pool:
    """A pool whose connections decode json/jsonb to Python objects; waits for the server."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if time.monotonic() > deadline:
                raise
            log.info("database not ready yet: %s", type(exc).__name__)
            await asyncio.sleep(0.5)


async def migrate(dsn: str, service_migrations: Path) -> list[str]:
    """Apply the shared plumbing tables, then the service's own migrations (unionops.migrate:
    checksummed, under an advisory lock); returns the versions applied."""
    from unionops import migrate as migrations  # migrate uses connect() from here

    return await migrations.apply(dsn, service_migrations)


async def ensure_database(admin_dsn: str, name: str) -> bool:
    """Create database `name` if it does not exist (local development and tests)."""
    conn = await connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
            return True
        return False
    finally:
        await conn.close()


async def update_row(conn: asyncpg.Connection, table: str, row_id, changes: dict, returning: str):
    """Set the given columns of one row (by `id`), stamp `updated_at`, return `returning` of it
    (None if there is no such row). `table`, the column names and `returning` come from code,
    never from input; with no changes the row is read as it is."""
    if not changes:
        return await conn.fetchrow(f"SELECT {returning} FROM {table} WHERE id = $1", row_id)
    cols = list(changes)
    sets = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(cols))
    return await conn.fetchrow(f"UPDATE {table} SET {sets}, updated_at = now() WHERE id = $1 RETURNING {returning}",
                               row_id, *[changes[c] for c in cols])
