"""What welfare, competitions and notify keep of membership's events (their projections), tested
in process: membership's commands stage the events in a rolled-back transaction of its database,
the loopback hands them to each consumer in a rolled-back transaction of that service's database
— the same inbox dedupe and handlers as behind the broker, without a broker or a process."""
from __future__ import annotations

import uuid

import pytest

from tests.support.inprocess import admit, branch, loopback, merge, move, open_case, staff, transfer
from unionops.problems import RuleViolation

pytestmark = pytest.mark.integration

CONSUMING = ["welfare", "competitions", "notify"]


@pytest.mark.parametrize("service", CONSUMING)
async def test_a_member_joined_is_projected_with_its_union_path_and_what_the_consumer_keeps_of_them(rolled_back,
                                                                                                 service):
    membership, consumer = await rolled_back("membership"), await rolled_back(service)
    path = await branch(membership, "锦江")
    member = await admit(membership, path[-1], "王秀英", female=True, is_migrant_worker=True)
    await loopback(membership, service, consumer)
    row = await consumer.fetchrow("SELECT * FROM members WHERE member_id = $1", member)
    assert row is not None, f"{service} did not project MemberJoined"
    assert row["union_id"] == path[-1] and list(row["org_path"])[-3:] == path
    kept = {"name": "王秀英", "gender": "female", "is_migrant_worker": True}
    assert {k: row[k] for k in kept if k in row} == {k: v for k, v in kept.items() if k in row}


@pytest.mark.parametrize("service", CONSUMING)
async def test_a_member_transferred_moves_the_member_to_the_new_union_and_path(rolled_back, service):
    membership, consumer = await rolled_back("membership"), await rolled_back(service)
    east, west = await branch(membership, "锦江"), await branch(membership, "青羊")
    member = await admit(membership, east[-1], "刘桂兰")
    await loopback(membership, service, consumer)
    await transfer(membership, member, west[-1])
    await loopback(membership, service, consumer)
    row = await consumer.fetchrow("SELECT union_id, org_path FROM members WHERE member_id = $1", member)
    assert row["union_id"] == west[-1] and list(row["org_path"])[-3:] == west


@pytest.mark.parametrize("service", CONSUMING)
async def test_a_union_merged_away_takes_its_members_to_the_union_it_merged_into(rolled_back, service):
    membership, consumer = await rolled_back("membership"), await rolled_back(service)
    east, west = await branch(membership, "锦江"), await branch(membership, "青羊")
    member = await admit(membership, east[-1], "张伟")
    await merge(membership, east[-1], west[-1])
    await loopback(membership, service, consumer)
    row = await consumer.fetchrow("SELECT union_id, org_path FROM members WHERE member_id = $1", member)
    assert row["union_id"] == west[-1] and list(row["org_path"])[-3:] == west


async def test_welfare_scope_follows_a_merge_and_a_move_of_the_members_union(rolled_back):
    """Who may open a case for a member is decided on welfare's copy of the member's path: after
    a merge the staff of the old district see an unknown member, after a move of the street the
    staff of the district it moved under see them — and the case opened before moved too."""
    membership, welfare = await rolled_back("membership"), await rolled_back("welfare")
    a, b = await branch(membership, "锦江"), await branch(membership, "青羊")
    member = await admit(membership, a[-1], "王秀英")
    await merge(membership, a[-1], b[-1])
    await loopback(membership, "welfare", welfare)
    with pytest.raises(RuleViolation):
        await open_case(welfare, member, staff(a[0]))
    case = await open_case(welfare, member, staff(b[0]))

    await move(membership, b[1], a[0])  # b's street, with the union, under district a
    await loopback(membership, "welfare", welfare)
    await open_case(welfare, member, staff(a[0]))
    with pytest.raises(RuleViolation):
        await open_case(welfare, member, staff(b[0]))
    assert list(await welfare.fetchval("SELECT org_path FROM assistance_cases WHERE id = $1", case["id"]))[-3:] == \
        [a[0], b[1], b[2]]


@pytest.mark.parametrize("service", CONSUMING)
async def test_the_union_tree_is_projected_from_union_established(rolled_back, service):
    membership, consumer = await rolled_back("membership"), await rolled_back(service)
    path = await branch(membership, "金牛")
    await loopback(membership, service, consumer)
    rows = {r["org_id"]: r for r in await consumer.fetch("SELECT * FROM org_units WHERE org_id = ANY($1)", path)}
    assert {unit: list(rows[unit]["org_path"])[-(i + 1):] for i, unit in enumerate(path) if unit in rows} == \
        {unit: path[:i + 1] for i, unit in enumerate(path)}
    levels = {unit: rows[unit]["level"] for unit in path if "level" in rows[unit]}
    assert levels in ({}, dict(zip(path, ("district", "street", "grassroots"))))


async def test_an_event_handed_over_again_is_applied_once(rolled_back):
    """The consumer's entry for events without a broker (IdempotentConsumer.apply) dedupes on the
    inbox exactly as `process` does: a redelivery changes nothing and counts as not fresh."""
    membership, welfare = await rolled_back("membership"), await rolled_back("welfare")
    path = await branch(membership, "武侯")
    await admit(membership, path[-1], "赵强")
    first = await loopback(membership, "welfare", welfare)
    writes = await welfare.fetchval("SELECT count(*) FROM inbox")
    assert first >= 4  # three units, one member
    assert await loopback(membership, "welfare", welfare) == 0
    assert await welfare.fetchval("SELECT count(*) FROM inbox") == writes


# ---- a unit moved: every org_path column follows ---------------------------------------------------

async def path_columns(conn) -> list[tuple[str, str]]:
    """Every (table, column) of the database holding an org path, from the schema itself."""
    rows = await conn.fetch(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
        "   AND (c.column_name = 'org_path' OR c.column_name LIKE '%\\_org\\_path')"
        " ORDER BY 1, 2")
    return [(r["table_name"], r["column_name"]) for r in rows]


async def a_row_with_path(conn, table: str, column: str, path: list[uuid.UUID]) -> None:
    """A row of `table` whose `column` is `path`, whatever else the table asks for. Built from the
    schema so a new table is covered without touching this test: inside the test's rolled-back
    transaction, foreign keys and triggers are off (session_replication_role) and the table's
    CHECK and NOT NULL constraints are dropped, so only the primary key needs values."""
    await conn.execute("SET LOCAL session_replication_role = replica")
    for con in await conn.fetch("SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'",
                                table):
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{con["conname"]}"')
    key = {r["attname"] for r in await conn.fetch(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = $1::regclass AND i.indisprimary", table)}
    values = {}
    for c in await conn.fetch(
            "SELECT column_name, is_nullable, column_default, udt_name, is_generated, is_identity"
            " FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1", table):
        name = c["column_name"]
        if name == column or c["column_default"] is not None or c["is_generated"] == "ALWAYS" \
                or c["is_identity"] == "YES" or c["is_nullable"] == "YES":
            continue
        if name not in key:
            await conn.execute(f'ALTER TABLE {table} ALTER COLUMN "{name}" DROP NOT NULL')
            continue
        values[name] = _any_value(c["udt_name"])
    quoted = ", ".join(f'"{n}"' for n in [column, *values])
    await conn.execute(f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['$1', *values.values()])})", path)


def _any_value(udt: str) -> str:
    if udt == "uuid":
        return "gen_random_uuid()"
    if udt in ("text", "varchar", "bpchar", "citext"):
        return "gen_random_uuid()::text"
    if udt in ("int2", "int4", "int8", "numeric"):
        return "(random() * 1e9)::int"
    if udt == "date":
        return "(now() AT TIME ZONE 'Asia/Shanghai')::date"
    if udt in ("timestamptz", "timestamp"):
        return "clock_timestamp()"
    if udt == "bool":
        return "false"
    raise AssertionError(f"no value for a primary key column of type {udt}: extend _any_value")


@pytest.mark.parametrize("service", ["welfare", "competitions", "notify"])
async def test_a_union_moved_rewrites_every_org_path_column_of_the_consumers_database(rolled_back, service):
    membership, consumer = await rolled_back("membership"), await rolled_back(service)
    east, west = await branch(membership, "锦江"), await branch(membership, "青羊")
    await loopback(membership, service, consumer)
    district_path = list(await consumer.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", east[0]))
    rows = {}  # (table, column) → the path below the moving street that marks its row
    for table, column in await path_columns(consumer):
        below = [*east[1:], uuid.uuid4()]  # street, union, a unit of this row's own
        await a_row_with_path(consumer, table, column, district_path + below)
        rows[table, column] = below
    assert ("members", "org_path") in rows and ("org_units", "org_path") in rows

    await move(membership, east[1], west[0])  # the street, with its union, under the other district
    await loopback(membership, service, consumer)

    new_prefix = list(await consumer.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", east[1]))
    assert new_prefix[-2:] == [west[0], east[1]]
    not_rewritten = []
    for (table, column), below in rows.items():
        now = await consumer.fetchval(f'SELECT "{column}" FROM {table} WHERE $1 = ANY("{column}")', below[-1])
        if list(now) != new_prefix + below[1:]:
            not_rewritten.append(f"{table}.{column}")
    assert not_rewritten == [], f"UnionMoved left these org_path columns of {service} as they were: {not_rewritten}"
