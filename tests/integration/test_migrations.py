"""Migrations against the real PostgreSQL: `python -m unionops.migrate status|apply <service>` as the
production Job runs it, checksums that catch a file edited after it was applied (by apply and by a
service starting), files run outside a transaction for `CREATE INDEX CONCURRENTLY`, one apply at a
time, and databases recorded before checksums existed adopted. Each test gets a database of its own."""
from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from devstack.config import REPO
from devstack.processes import ServiceProcess
from tests.support.processes import NO_TRACES
from tests.support.rows import query
from unionops import db, migrate

pytestmark = pytest.mark.integration

# The shared plumbing's files, in order: every service database gets them before its own.
PLUMBING = [f"plumbing/{p.name}" for p in sorted(migrate.PLUMBING_SQL.glob("*.sql"))]
TABLE_SQL = "CREATE TABLE ledgers (id int PRIMARY KEY, name text NOT NULL);\n"


@pytest.fixture
async def dsn(infra, stack_config):
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    await db.ensure_database(stack_config.dsn("postgres"), name)
    yield stack_config.dsn(name)
    conn = await db.connect(stack_config.dsn("postgres"))
    try:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "001_ledgers.sql").write_text(TABLE_SQL, encoding="utf-8")
    return tmp_path


def cli(stack_config, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "unionops.migrate", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": stack_config.pythonpath(args[1])})


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("service", ["membership", "welfare", "competitions", "notify"])
def test_a_fresh_database_gets_the_plumbing_and_every_migration_of_the_service_from_the_command(
        stack_config, dsn, service):
    before = cli(stack_config, "status", service, "--dsn", dsn)
    assert before.returncode == 1, before.stderr
    assert all(f"pending    {v}" in before.stdout for v in PLUMBING)
    assert "pending    service/001_" in before.stdout

    applied = cli(stack_config, "apply", service, "--dsn", dsn)
    assert applied.returncode == 0, applied.stderr

    after = cli(stack_config, "status", service, "--dsn", dsn)
    assert after.returncode == 0, after.stdout
    assert "pending    " not in after.stdout and "0 pending, 0 changed" in after.stdout
    folder = REPO / "services" / service / service / "migrations"
    rows = asyncio.run(query(dsn, "SELECT version, checksum FROM schema_migrations"))
    recorded = {r["version"]: r["checksum"] for r in rows}
    assert recorded == {**{f"plumbing/{p.name}": sha256(p) for p in migrate.PLUMBING_SQL.glob("*.sql")},
                        **{f"service/{p.name}": sha256(p) for p in folder.glob("*.sql")}}
    assert asyncio.run(query(dsn, "SELECT to_regclass('outbox') IS NOT NULL AS ok"))[0]["ok"]


def test_the_command_reads_the_database_from_the_service_setting(stack_config, dsn):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": stack_config.pythonpath("welfare"), "WELFARE_DATABASE_URL": dsn}
    done = subprocess.run([sys.executable, "-m", "unionops.migrate", "apply", "welfare"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert asyncio.run(query(dsn, "SELECT count(*) AS n FROM schema_migrations"))[0]["n"] > 1


async def test_status_reports_pending_files_until_they_are_applied(dsn, folder):
    state = await migrate.status(dsn, folder)
    assert [m.version for m in state.pending] == [*PLUMBING, "service/001_ledgers.sql"]
    assert not state.up_to_date

    assert await migrate.apply(dsn, folder) == [*PLUMBING, "service/001_ledgers.sql"]
    state = await migrate.status(dsn, folder)
    assert state.up_to_date and not state.pending and len(state.applied) == len(PLUMBING) + 1

    (folder / "002_ledger_notes.sql").write_text("ALTER TABLE ledgers ADD COLUMN note text;", encoding="utf-8")
    state = await migrate.status(dsn, folder)
    assert [m.version for m in state.pending] == ["service/002_ledger_notes.sql"]
    assert await migrate.apply(dsn, folder) == ["service/002_ledger_notes.sql"]
    assert await migrate.apply(dsn, folder) == []


async def test_an_applied_file_edited_afterwards_is_refused_and_nothing_is_applied(dsn, folder):
    await migrate.apply(dsn, folder)
    (folder / "001_ledgers.sql").write_text(TABLE_SQL + "ALTER TABLE ledgers ADD COLUMN owner text;\n",
                                            encoding="utf-8")
    (folder / "002_entries.sql").write_text("CREATE TABLE entries (id int);", encoding="utf-8")

    with pytest.raises(migrate.MigrationChanged, match="service/001_ledgers.sql"):
        await migrate.apply(dsn, folder)

    assert (await query(dsn, "SELECT to_regclass('entries') IS NULL AS absent"))[0]["absent"]
    assert [r["version"] for r in await query(dsn, "SELECT version FROM schema_migrations ORDER BY version")] == \
        [*PLUMBING, "service/001_ledgers.sql"]
    state = await migrate.status(dsn, folder)
    assert [m.version for m, _ in state.changed] == ["service/001_ledgers.sql"] and not state.up_to_date


def test_the_apply_command_refuses_an_edited_file_with_a_clear_message(stack_config, dsn):
    assert cli(stack_config, "apply", "competitions", "--dsn", dsn).returncode == 0
    asyncio.run(query(dsn, "UPDATE schema_migrations SET checksum = repeat('0', 64)"
                           " WHERE version = 'service/002_contests_and_teams.sql' RETURNING 1"))
    refused = cli(stack_config, "apply", "competitions", "--dsn", dsn)
    assert refused.returncode == 1
    assert "refusing to migrate" in refused.stderr and "service/002_contests_and_teams.sql" in refused.stderr
    status = cli(stack_config, "status", "competitions", "--dsn", dsn)
    assert status.returncode == 1 and "CHANGED    service/002_contests_and_teams.sql" in status.stdout


def _start_refused(stack_config, service: str, env: dict[str, str]) -> str:
    """Start the service, expect it to exit, return what it logged."""
    log_file = stack_config.state_dir / "logs" / f"{service}.log"
    offset = log_file.stat().st_size if log_file.exists() else 0
    process = ServiceProcess(stack_config, service, NO_TRACES | env)
    try:
        with pytest.raises(RuntimeError, match="exited"):
            process.start()
    finally:
        process.stop()
    return log_file.read_bytes()[offset:].decode(errors="replace")


@pytest.mark.parametrize("migrate_on_start", ["true", "false"])
def test_a_service_refuses_to_start_when_an_applied_migration_changed(stack_config, dsn, migrate_on_start):
    assert cli(stack_config, "apply", "welfare", "--dsn", dsn).returncode == 0
    asyncio.run(query(dsn, "UPDATE schema_migrations SET checksum = repeat('0', 64)"
                           " WHERE version = 'service/003_hardship_files.sql' RETURNING 1"))
    log = _start_refused(stack_config, "welfare", {"WELFARE_DATABASE_URL": dsn, "MIGRATE_ON_START": migrate_on_start})
    assert "refusing to start" in log and "service/003_hardship_files.sql" in log


def test_without_migrating_on_start_a_service_refuses_a_database_behind_its_code_and_starts_once_migrated(
        stack_config, dsn):
    env = {"WELFARE_DATABASE_URL": dsn, "MIGRATE_ON_START": "false"}
    log = _start_refused(stack_config, "welfare", env)
    assert "refusing to start" in log and "pending" in log and "unionops.migrate apply welfare" in log
    assert (asyncio.run(query(dsn, "SELECT to_regclass('schema_migrations') IS NULL AS absent")))[0]["absent"]

    assert cli(stack_config, "apply", "welfare", "--dsn", dsn).returncode == 0
    process = ServiceProcess(stack_config, "welfare", NO_TRACES | env)
    try:
        process.start()  # waits for /health/ready
    finally:
        process.stop()


INDEX_CONCURRENTLY = """-- unionops: no-transaction
-- A failed concurrent build leaves an INVALID index that IF NOT EXISTS would keep: drop it first.
DROP INDEX CONCURRENTLY IF EXISTS ledgers_name;
CREATE INDEX CONCURRENTLY IF NOT EXISTS ledgers_name ON ledgers (name);
"""


async def test_a_no_transaction_file_builds_an_index_concurrently(dsn, folder):
    (folder / "001_ledgers.sql").write_text(
        TABLE_SQL + "INSERT INTO ledgers SELECT g, 'ledger ' || g FROM generate_series(1, 1000) g;\n", encoding="utf-8")
    (folder / "002_ledger_name_index.sql").write_text(INDEX_CONCURRENTLY, encoding="utf-8")

    assert await migrate.apply(dsn, folder) == [*PLUMBING, "service/001_ledgers.sql",
                                                "service/002_ledger_name_index.sql"]
    index = await query(dsn, "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                             " WHERE c.relname = 'ledgers_name'")
    assert [r["indisvalid"] for r in index] == [True]
    recorded = await query(dsn, "SELECT no_transaction FROM schema_migrations WHERE version = $1",
                           "service/002_ledger_name_index.sql")
    assert [r["no_transaction"] for r in recorded] == [True]


async def test_create_index_concurrently_without_the_marker_fails_and_is_not_recorded(dsn, folder):
    (folder / "002_ledger_name_index.sql").write_text(INDEX_CONCURRENTLY.split("\n", 1)[1], encoding="utf-8")
    with pytest.raises(Exception, match="transaction block"):
        await migrate.apply(dsn, folder)
    assert [m.version for m in (await migrate.status(dsn, folder)).pending] == ["service/002_ledger_name_index.sql"]


async def test_a_no_transaction_file_failing_midway_is_not_recorded_and_runs_again_from_the_top(dsn, folder):
    broken = INDEX_CONCURRENTLY + "ALTER TABLE ledgers ADD COLUMN opened date NOT NULL DEFAULT 'not a date';\n"
    (folder / "002_ledger_name_index.sql").write_text(broken, encoding="utf-8")
    with pytest.raises(Exception, match="date"):
        await migrate.apply(dsn, folder)
    assert (await query(dsn, "SELECT count(*) AS n FROM pg_class WHERE relname = 'ledgers_name'"))[0]["n"] == 1
    assert [m.version for m in (await migrate.status(dsn, folder)).pending] == ["service/002_ledger_name_index.sql"]

    fixed = INDEX_CONCURRENTLY + "ALTER TABLE ledgers ADD COLUMN IF NOT EXISTS opened date;\n"
    (folder / "002_ledger_name_index.sql").write_text(fixed, encoding="utf-8")
    assert await migrate.apply(dsn, folder) == ["service/002_ledger_name_index.sql"]
    assert (await migrate.status(dsn, folder)).up_to_date


async def test_two_replicas_migrating_at_once_apply_each_file_once(dsn, folder):
    (folder / "002_runs.sql").write_text(
        "CREATE TABLE runs (n int); INSERT INTO runs VALUES (1); SELECT pg_sleep(0.5);", encoding="utf-8")

    first, second = await asyncio.gather(migrate.apply(dsn, folder), migrate.apply(dsn, folder))

    assert sorted([first, second], key=len) == [
        [], [*PLUMBING, "service/001_ledgers.sql", "service/002_runs.sql"]]
    assert (await query(dsn, "SELECT count(*) AS n FROM runs"))[0]["n"] == 1


async def test_versions_recorded_before_checksums_existed_are_adopted(dsn, folder):
    # A database migrated by the start-up code before checksums: version and applied_at only.
    conn = await db.connect(dsn)
    try:
        await conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY,"
                           " applied_at timestamptz NOT NULL DEFAULT now())")
        await conn.execute((migrate.PLUMBING_SQL / "001_plumbing.sql").read_text(encoding="utf-8"))
        await conn.execute(TABLE_SQL)
        await conn.execute("INSERT INTO schema_migrations(version) VALUES"
                           " ('plumbing/001_plumbing.sql'), ('service/001_ledgers.sql')")
    finally:
        await conn.close()
    (folder / "002_entries.sql").write_text("CREATE TABLE entries (id int);", encoding="utf-8")

    state = await migrate.status(dsn, folder)
    assert [m.version for m in state.unrecorded] == ["plumbing/001_plumbing.sql", "service/001_ledgers.sql"]
    # Plumbing added since then is pending like the service's new file.
    assert [m.version for m in state.pending] == [*PLUMBING[1:], "service/002_entries.sql"] and not state.up_to_date

    assert await migrate.apply(dsn, folder) == [*PLUMBING[1:], "service/002_entries.sql"]
    recorded = {r["version"]: r["checksum"] for r in await query(dsn, "SELECT version, checksum FROM schema_migrations")}
    assert recorded == {**{f"plumbing/{p.name}": sha256(p) for p in migrate.PLUMBING_SQL.glob("*.sql")},
                        "service/001_ledgers.sql": sha256(folder / "001_ledgers.sql"),
                        "service/002_entries.sql": sha256(folder / "002_entries.sql")}
    assert (await migrate.status(dsn, folder)).up_to_date

    (folder / "001_ledgers.sql").write_text(TABLE_SQL + "-- edited\n", encoding="utf-8")
    with pytest.raises(migrate.MigrationChanged):
        await migrate.apply(dsn, folder)


async def test_a_replica_waiting_for_the_lock_does_not_hold_up_a_concurrent_index_build(dsn, folder):
    # A replica blocked inside `SELECT pg_advisory_lock()` would hold a snapshot that CREATE INDEX
    # CONCURRENTLY waits for, while it waits for the lock the index build's session holds.
    (folder / "002_ledger_name_index.sql").write_text(
        INDEX_CONCURRENTLY.replace("DROP INDEX", "SELECT pg_sleep(1);\nDROP INDEX"), encoding="utf-8")

    first, second = await asyncio.wait_for(
        asyncio.gather(migrate.apply(dsn, folder), migrate.apply(dsn, folder)), 30)

    assert sorted([first, second], key=len) == [
        [], [*PLUMBING, "service/001_ledgers.sql", "service/002_ledger_name_index.sql"]]
    index = await query(dsn, "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                             " WHERE c.relname = 'ledgers_name'")
    assert [r["indisvalid"] for r in index] == [True]
