"""Ordered SQL migrations: the shared plumbing tables (libs/unionops/sql), then a service's own
`migrations/NNN_*.sql`, each file applied once and recorded in `schema_migrations` with the
sha256 of its text, so a file edited after it was applied is caught instead of silently skipped.

    python -m unionops.migrate status <service> [--dsn DSN]   # exit 1 if anything is pending/changed
    python -m unionops.migrate apply <service> [--dsn DSN]    # exit 1 (nothing applied) if a file changed

The DSN is the service's `<SERVICE>_DATABASE_URL` (read by its settings class) unless `--dsn`
is given. A file is applied in one transaction together with its record, unless its first line
is `-- unionops: no-transaction`: then its statements run one by one outside a transaction
(for `CREATE INDEX CONCURRENTLY` on a large table) and the file is recorded after the last one
succeeded. A crash midway leaves such a file partly applied and unrecorded, so the next run
starts it again from the top: it must be idempotent (`IF NOT EXISTS`; for an index,
`DROP INDEX CONCURRENTLY IF EXISTS` first, because a failed concurrent build leaves an INVALID
index behind that `IF NOT EXISTS` would keep).

One run holds a session advisory lock (per database) from first read to last record, so
replicas starting together, or the Job and a replica, apply each file once. Versions recorded
before checksums existed are adopted: the first apply records the checksum of the file as it is.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from unionops import db

log = logging.getLogger(__name__)

PLUMBING_SQL = Path(__file__).parent / "sql"
NO_TRANSACTION = "-- unionops: no-transaction"
SERVICES = ("membership", "welfare", "competitions", "notify")
_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtext('unionops.migrate'))"


@dataclass(frozen=True)
class Migration:
    version: str  # "plumbing/001_plumbing.sql" or "service/003_imports.sql"
    path: Path
    checksum: str  # sha256 hex of the file's bytes

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def no_transaction(self) -> bool:
        first = self.sql.lstrip("\ufeff").split("\n", 1)[0].strip()
        return first == NO_TRANSACTION


@dataclass
class Status:
    applied: list[Migration] = field(default_factory=list)
    pending: list[Migration] = field(default_factory=list)
    # (file as it is now, checksum recorded when it was applied)
    changed: list[tuple[Migration, str]] = field(default_factory=list)
    # recorded before checksums existed; the next apply records the file's checksum
    unrecorded: list[Migration] = field(default_factory=list)
    # recorded but no such file (a newer image's migration seen by an older one after a rollback):
    # reported, never a reason to refuse
    unknown: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not (self.pending or self.changed or self.unrecorded)

    def describe(self) -> str:
        """One line saying what is out of date (for a refusal message)."""
        parts = []
        if self.changed:
            parts.append("changed after they were applied: " + ", ".join(m.version for m, _ in self.changed))
        if self.pending:
            parts.append("pending: " + ", ".join(m.version for m in self.pending))
        if self.unrecorded:
            parts.append("applied without a checksum: " + ", ".join(m.version for m in self.unrecorded))
        return "; ".join(parts) or "up to date"


class MigrationChanged(RuntimeError):
    """An applied migration file no longer has the text it was applied with."""


class MigrationsOutOfDate(RuntimeError):
    """Start-up without migrating found the database behind its code (or a file changed)."""


def migration_files(service_migrations: Path) -> list[Migration]:
    files = []
    for prefix, folder in (("plumbing", PLUMBING_SQL), ("service", service_migrations)):
        for path in sorted(folder.glob("*.sql")):
            files.append(Migration(f"{prefix}/{path.name}", path, hashlib.sha256(path.read_bytes()).hexdigest()))
    return files


async def _ensure_table(conn) -> None:
    # Idempotent: databases migrated before checksums existed gain the columns here.
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
        "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text;"
        "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS no_transaction boolean NOT NULL DEFAULT false;"
    )


async def _recorded(conn) -> dict[str, str | None] | None:
    """version -> checksum (None before checksums); None when the table does not exist yet."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return None
    has_checksum = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = 'schema_migrations' AND column_name = 'checksum')")
    query = "SELECT version, checksum FROM schema_migrations" if has_checksum else \
        "SELECT version, NULL::text AS checksum FROM schema_migrations"
    return {r["version"]: r["checksum"] for r in await conn.fetch(query)}


def _compare(files: list[Migration], recorded: dict[str, str | None]) -> Status:
    status = Status()
    for m in files:
        if m.version not in recorded:
            status.pending.append(m)
        elif recorded[m.version] is None:
            status.unrecorded.append(m)
        elif recorded[m.version] != m.checksum:
            status.changed.append((m, recorded[m.version]))
        else:
            status.applied.append(m)
    known = {m.version for m in files}
    status.unknown = sorted(v for v in recorded if v not in known)
    return status


async def _lock(conn, poll: float = 0.2) -> None:
    """Take the session lock (not a transaction lock: it spans the no-transaction files too).
    Polled rather than awaited: a backend blocked inside `pg_advisory_lock()` holds a snapshot,
    and the CREATE INDEX CONCURRENTLY of the run holding the lock would wait for that snapshot
    while the waiter waits for it: a deadlock."""
    waited = False
    while not await conn.fetchval(_TRY_LOCK):
        if not waited:
            log.info("another migration run holds the lock; waiting")
            waited = True
        await asyncio.sleep(poll)


async def status(dsn: str, service_migrations: Path) -> Status:
    """Compare the files with what the database recorded; reads only, takes no lock."""
    conn = await db.connect(dsn)
    try:
        return _compare(migration_files(service_migrations), await _recorded(conn) or {})
    finally:
        await conn.close()


async def apply(dsn: str, service_migrations: Path) -> list[str]:
    """Apply every pending file in order and return their versions. Raises MigrationChanged,
    having applied nothing, when an applied file's checksum differs from the recorded one."""
    conn = await db.connect(dsn)
    applied: list[str] = []
    try:
        await _lock(conn)
        await _ensure_table(conn)
        state = _compare(migration_files(service_migrations), await _recorded(conn))
        if state.changed:
            raise MigrationChanged(
                "; ".join(
                    f"{m.version} was applied with sha256 {old} but the file now has {m.checksum}"
                    for m, old in state.changed)
                + " (restore the file and put the change in a new migration)")
        for m in state.unrecorded:
            await conn.execute("UPDATE schema_migrations SET checksum = $2 WHERE version = $1 AND checksum IS NULL",
                               m.version, m.checksum)
            log.info("migration checksum adopted", extra={"migration": m.version})
        for m in state.pending:
            if m.no_transaction:
                for statement in split_statements(m.sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations(version, checksum, no_transaction) VALUES ($1, $2, true)",
                    m.version, m.checksum)
            else:
                async with conn.transaction():
                    await conn.execute(m.sql)
                    await conn.execute("INSERT INTO schema_migrations(version, checksum) VALUES ($1, $2)",
                                       m.version, m.checksum)
            applied.append(m.version)
            log.info("migration applied", extra={"migration": m.version})
    finally:
        await conn.close()  # also releases the advisory lock
    return applied


async def on_start(dsn: str, service_migrations: Path, *, migrate: bool, service: str = "<service>") -> None:
    """What a service does before it takes traffic: migrate (MIGRATE_ON_START, the local stack),
    or, where a Job migrates, only check and refuse to run against a database behind its code."""
    if migrate:
        try:
            await apply(dsn, service_migrations)
        except MigrationChanged as exc:
            log.error("refusing to start: an applied migration file changed: %s", exc)
            raise
        return
    state = await status(dsn, service_migrations)
    if not state.up_to_date:
        message = (f"refusing to start: the database is not migrated ({state.describe()}); run "
                   f"`python -m unionops.migrate apply {service}` (MIGRATE_ON_START is false)")
        log.error(message)
        raise MigrationsOutOfDate(message)


def split_statements(sql: str) -> list[str]:
    """Split a script at top-level semicolons, keeping quoted strings, quoted identifiers,
    dollar-quoted bodies and comments intact; statements that are only comments are dropped."""
    statements: list[str] = []
    start = i = 0
    n = len(sql)
    meaningful = False  # the current statement has something besides comments and blanks
    while i < n:
        c = sql[i]
        if c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == "/" and sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            continue
        if c in "'\"":
            meaningful = True
            i += 1
            while i < n:
                if sql[i] == c:
                    if i + 1 < n and sql[i + 1] == c:  # doubled quote inside
                        i += 2
                        continue
                    break
                i += 1
            i += 1
            continue
        if c == "$":
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            if j < n and sql[j] == "$" and not sql[i + 1:j][:1].isdigit():  # $tag$ (not $1)
                tag = sql[i:j + 1]
                end = sql.find(tag, j + 1)
                meaningful = True
                i = n if end < 0 else end + len(tag)
                continue
        if c == ";":
            if meaningful:
                statements.append(sql[start:i].strip())
            start, meaningful = i + 1, False
            i += 1
            continue
        if not c.isspace():
            meaningful = True
        i += 1
    if meaningful:
        statements.append(sql[start:].strip())
    return statements


def service_target(service: str, dsn: str | None) -> tuple[str, Path]:
    """The DSN (from the service's settings, i.e. <SERVICE>_DATABASE_URL, unless given) and the
    migrations folder of one service; its settings module alone is imported, not its app."""
    settings_module = importlib.import_module(f"{service}.settings")
    migrations = Path(settings_module.__file__).parent / "migrations"
    return dsn or settings_module.Settings().database_url, migrations


def _print_status(state: Status) -> None:
    for m in state.applied:
        print(f"applied    {m.version}  sha256:{m.checksum}")
    for m in state.unrecorded:
        print(f"applied    {m.version}  sha256:{m.checksum}  (no checksum recorded; apply adopts it)")
    for m, old in state.changed:
        print(f"CHANGED    {m.version}  sha256:{m.checksum}  (applied with sha256:{old})")
    for m in state.pending:
        kind = "  (no transaction)" if m.no_transaction else ""
        print(f"pending    {m.version}  sha256:{m.checksum}{kind}")
    for version in state.unknown:
        print(f"unknown    {version}  (recorded, no such file here)")
    print(f"{len(state.applied) + len(state.unrecorded)} applied, {len(state.pending)} pending, "
          f"{len(state.changed)} changed" + ("" if state.up_to_date else f" — {state.describe()}"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m unionops.migrate",
                                     description="Status and application of a service's SQL migrations.")
    parser.add_argument("command", choices=("status", "apply"))
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--dsn", help="database URL (default: <SERVICE>_DATABASE_URL)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    dsn, migrations = service_target(args.service, args.dsn)
    try:
        if args.command == "status":
            state = asyncio.run(status(dsn, migrations))
            _print_status(state)
            return 0 if state.up_to_date else 1
        done = asyncio.run(apply(dsn, migrations))
    except MigrationChanged as exc:
        print(f"refusing to migrate: {exc}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # No DSN in the message: it may carry a password.
        print(f"{args.command} {args.service} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for version in done:
        print(f"applied    {version}")
    print(f"{len(done)} applied; {args.service} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
