"""The plumbing every service's commands and projections share, on the real PostgreSQL (no
broker needed): the unit of work, the Idempotency-Key claim, set-based staging checked against
the contract, the latest-wins upsert, paths following a move, and retention of the plumbing
tables."""
from __future__ import annotations

import uuid

import pytest

from contracts.events import MemberJoined, UnionEstablished
from unionops import db, outbox, projections
from unionops.clock import local_today
from unionops.relay import OutboxRelay
from unionops.unit_of_work import Commands, UnitOfWork

pytestmark = pytest.mark.integration

SCHEMA = """
CREATE TABLE people (member_id uuid PRIMARY KEY, name text NOT NULL, org_path uuid[] NOT NULL, joined_on date,
                     is_migrant_worker boolean NOT NULL DEFAULT false, union_id uuid, union_name text,
                     gender text, birth_year int, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE tickets (id uuid PRIMARY KEY, org_path uuid[] NOT NULL);
CREATE TABLE notes (id uuid PRIMARY KEY, org_path uuid[]);
CREATE TABLE unrelated (id uuid PRIMARY KEY, path uuid[] NOT NULL);
CREATE VIEW people_view AS SELECT member_id, org_path FROM people;
"""


@pytest.fixture(scope="module")
async def pool(infra, stack_config, tmp_path_factory):
    await db.ensure_database(stack_config.dsn("postgres"), "plumbing_commands")
    migrations = tmp_path_factory.mktemp("plumbing-commands-migrations")
    (migrations / "001_tables.sql").write_text(SCHEMA)
    dsn = stack_config.dsn("plumbing_commands")
    await db.migrate(dsn, migrations)
    pool = await db.create_pool(dsn)
    yield pool
    await pool.close()


@pytest.fixture
async def conn(pool):
    """A connection inside a transaction that is rolled back after the test."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        yield conn
        await tx.rollback()


def joined(name: str, path: list[uuid.UUID], member_id: uuid.UUID | None = None) -> MemberJoined:
    return MemberJoined(member_id=member_id or uuid.uuid4(), union_id=path[-1], union_name="一厂工会", org_path=path,
                        name=name, gender="female", birth_year=1990, joined_on=local_today())


async def test_a_command_that_fails_leaves_neither_its_rows_nor_its_events(pool):
    member = uuid.uuid4()
    commands = Commands(pool, "POST", "/people")

    async def admit(uow: UnitOfWork):
        await uow.conn.execute("INSERT INTO people (member_id, name, org_path) VALUES ($1, '甲', '{}')", member)
        await uow.stage(joined("甲", [uuid.uuid4()], member))
        raise RuntimeError("a rule refused it after the writes")

    with pytest.raises(RuntimeError):
        await commands.run(admit)
    assert await pool.fetchval("SELECT count(*) FROM people WHERE member_id = $1", member) == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", str(member)) == 0


async def test_the_same_idempotency_key_replays_the_first_answer_and_creates_nothing_more(pool):
    commands = Commands(pool, "POST", "/people")
    created = []

    async def admit(uow: UnitOfWork):
        member = uuid.uuid4()
        created.append(member)
        await uow.conn.execute("INSERT INTO people (member_id, name, org_path) VALUES ($1, '乙', '{}')", member)
        await uow.stage(joined("乙", [uuid.uuid4()], member))
        return {"id": member}

    key = f"k-{uuid.uuid4()}"
    first = await commands.create(admit, subject="staff-1", key=key, payload={"name": "乙"})
    again = await commands.create(admit, subject="staff-1", key=key, payload={"name": "乙"})
    assert first.status_code == again.status_code == 201
    assert again.body == first.body and again.headers["Idempotent-Replayed"] == "true"
    assert len(created) == 1
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", str(created[0])) == 1


async def test_the_same_key_with_another_body_is_refused_without_running_the_command(pool):
    from unionops.problems import Problem

    commands = Commands(pool, "POST", "/people")
    runs = []

    async def admit(uow: UnitOfWork):
        runs.append(1)
        return {"ok": True}

    key = f"k-{uuid.uuid4()}"
    await commands.create(admit, subject="staff-2", key=key, payload={"name": "丁"})
    with pytest.raises(Problem) as refused:
        await commands.create(admit, subject="staff-2", key=key, payload={"name": "戊"})
    assert refused.value.status == 422 and runs == [1]


async def test_set_based_staging_writes_one_contract_valid_event_per_row_in_order(conn):
    path = [uuid.uuid4(), uuid.uuid4()]
    ids = [uuid.uuid4() for _ in range(3)]
    for n, member in enumerate(ids):
        await conn.execute("INSERT INTO people (member_id, name, org_path, joined_on, union_id, union_name, gender,"
                           " birth_year) VALUES ($1, $2, $3, $4, $5, '一厂工会', 'male', 1980)",
                           member, f"会员{n}", path, local_today(), path[-1])
    staged = await UnitOfWork(conn).stage_select(
        MemberJoined,
        "SELECT member_id, union_id, union_name, org_path, name, gender, birth_year, is_migrant_worker, joined_on,"
        " NULL::int AS rejoined_after_days, name AS _order FROM people WHERE union_id = $1",
        path[-1], order_by=["_order"])
    assert staged == 3
    rows = await conn.fetch("SELECT key, event_type, topic, payload FROM outbox WHERE key = ANY($1::text[]) ORDER BY id",
                            [str(m) for m in ids])
    assert [r["key"] for r in rows] == [str(m) for m in ids]
    assert {r["event_type"] for r in rows} == {"MemberJoined"} and {r["topic"] for r in rows} == {MemberJoined.topic}
    events = [MemberJoined.model_validate(r["payload"]) for r in rows]
    assert [e.org_path for e in events] == [path] * 3 and "_order" not in rows[0]["payload"]
    # The same payload the event model would write for one event staged one at a time.
    assert rows[0]["payload"] == events[0].model_dump(mode="json")


async def test_set_based_staging_refuses_a_query_that_drifted_from_the_contract(conn):
    with pytest.raises(outbox.EventShapeError, match="missing"):
        await outbox.record_select(conn, MemberJoined, "SELECT member_id, name FROM people")
    with pytest.raises(outbox.EventShapeError, match="unknown"):
        await outbox.record_select(conn, UnionEstablished,
                                   "SELECT gen_random_uuid() AS org_id, NULL::uuid AS parent_id, '{}'::uuid[] AS org_path,"
                                   " 'x' AS name, 'street' AS level, 'x' AS kind, '510100' AS region_code,"
                                   " '2026-01-01'::date AS established_on, 1 AS surprise")


async def test_a_staged_payload_of_the_wrong_type_fails_the_transaction(conn):
    with pytest.raises(outbox.EventShapeError, match="does not match"):
        await outbox.record_select(conn, UnionEstablished,
                                   "SELECT gen_random_uuid() AS org_id, NULL::uuid AS parent_id, '{}'::uuid[] AS org_path,"
                                   " 'x' AS name, 'planet' AS level, 'x' AS kind, '510100' AS region_code,"
                                   " '2026-01-01'::date AS established_on")


async def test_the_latest_row_of_a_key_wins_in_a_batch_upsert(conn):
    member, other = uuid.uuid4(), uuid.uuid4()
    short, long = [uuid.uuid4()], [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()]
    changed = await projections.upsert_latest(conn, "people", "member_id", [
        {"member_id": member, "name": "先", "org_path": short, "joined_on": local_today()},
        {"member_id": other, "name": "他", "org_path": long, "joined_on": None},
        {"member_id": member, "name": "后", "org_path": long, "joined_on": local_today()},
    ])
    assert changed == 2
    rows = {r["member_id"]: r for r in await conn.fetch("SELECT member_id, name, org_path FROM people")}
    assert rows[member]["name"] == "后" and rows[member]["org_path"] == long
    assert rows[other]["org_path"] == long
    await projections.upsert_latest(conn, "people", "member_id", [{"member_id": member, "name": "再", "org_path": short}],
                                    update=["org_path"])
    row = await conn.fetchrow("SELECT name, org_path FROM people WHERE member_id = $1", member)
    assert row["name"] == "后" and row["org_path"] == short  # only the columns named in `update`


async def test_a_move_rewrites_every_org_path_column_found_in_the_schema(conn):
    city, old_district, new_district, street = (uuid.uuid4() for _ in range(4))
    old, new = [city, old_district, street], [city, new_district, street]
    person = uuid.uuid4()
    await conn.execute("INSERT INTO people (member_id, name, org_path) VALUES ($1, '甲', $2)", person, old + [uuid.uuid4()])
    await conn.execute("INSERT INTO tickets (id, org_path) VALUES ($1, $2)", uuid.uuid4(), old)
    await conn.execute("INSERT INTO notes (id, org_path) VALUES ($1, $2)", uuid.uuid4(), [city, old_district])
    await conn.execute("INSERT INTO unrelated (id, path) VALUES ($1, $2)", uuid.uuid4(), old)
    assert await projections.path_columns(conn) == [("notes", "org_path"), ("people", "org_path"),
                                                    ("tickets", "org_path")]
    assert await projections.follow_move(conn, old, new) == 2
    assert (await conn.fetchval("SELECT org_path FROM people WHERE member_id = $1", person))[:3] == new
    assert await conn.fetchval("SELECT org_path FROM tickets") == new
    assert await conn.fetchval("SELECT org_path FROM notes") == [city, old_district]  # above the moved unit
    assert await conn.fetchval("SELECT path FROM unrelated") == old  # not an organisation path


async def test_retention_purges_old_applied_inbox_rows_and_idempotency_answers_only(pool):
    async with pool.acquire() as conn:
        old, fresh, dead = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await conn.execute(
            "INSERT INTO inbox (consumer, event_id, event_type, topic, status, received_at) VALUES"
            " ('c', $1, 'E', 't', 'applied', now() - interval '40 days'),"
            " ('c', $2, 'E', 't', 'applied', now() - interval '2 days'),"
            " ('c', $3, 'E', 't', 'dead_lettered', now() - interval '40 days')", old, fresh, dead)
        await conn.execute(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES"
            " ('s', 'old', 'f', now() - interval '8 days'), ('s', 'fresh', 'f', now())")
        relay = OutboxRelay("unused", None, source="test", retention_days=7, inbox_retention_days=30,
                            idempotency_retention_days=7)
        purged = await relay.purge_expired(conn)
        assert purged["inbox"] >= 1 and purged["idempotency_keys"] >= 1
        assert {r["event_id"] for r in await conn.fetch("SELECT event_id FROM inbox WHERE consumer = 'c'")} == {fresh, dead}
        assert {r["key"] for r in await conn.fetch("SELECT key FROM idempotency_keys WHERE scope = 's'")} == {"fresh"}
