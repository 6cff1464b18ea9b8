"""What notify keeps of the organisation tree follows it: when a unit moves (UnionMoved), every
organisation path notify holds gets the new prefix in the same transaction — the in-app messages
of the unit's members too, not only the tables someone remembered to list. Called on the real
PostgreSQL through the consumer's own registration, inside a rolled-back transaction (no broker)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from contracts.events import UnionMoved
from notify.consumers import consumer
from unionops import db
from unionops.clock import local_today
from unionops.envelope import Envelope

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__import__("notify").__file__).parent / "migrations"


@pytest.fixture(scope="module")
async def pool(infra, stack_config):
    await db.ensure_database(stack_config.dsn("postgres"), "notify_projections")
    dsn = stack_config.dsn("notify_projections")
    await db.migrate(dsn, MIGRATIONS)
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


async def apply(conn, event) -> None:
    """The event through the handler notify's consumer registered for it."""
    env = Envelope(id=uuid.uuid4(), type=event.event_type(), source="membership", time=datetime.now(timezone.utc),
                   data=event.model_dump(mode="json"), topic=event.topic)
    await consumer.handlers[event.event_type()](conn, event, env)


async def test_a_members_in_app_messages_move_with_their_unit(conn):
    city, district_a, district_b, street, union = (uuid.uuid4() for _ in range(5))
    old, new = [city, district_a, street, union], [city, district_b, street, union]
    member, delivery = uuid.uuid4(), uuid.uuid4()
    await conn.execute("INSERT INTO members (member_id, union_id, union_name, org_path, joined_on)"
                       " VALUES ($1, $2, '一厂工会', $3, $4)", member, union, old, local_today())
    await conn.execute(
        "INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, recipient_kind, recipient_id,"
        " org_path, channel, template, template_version, context, status, delivered_at)"
        " VALUES ($1, $2, 'MemberJoined', $3, 'member', $3, $4, 'inapp', 'member_joined', 1, '{}', 'delivered', now())",
        delivery, uuid.uuid4(), member, old)
    await conn.execute(
        "INSERT INTO inbox_messages (id, recipient_kind, member_id, org_path, source_event_type, template, subject, body)"
        " VALUES ($1, 'member', $2, $3, 'MemberJoined', 'member_joined', '欢迎入会', '欢迎')", delivery, member, old)

    await apply(conn, UnionMoved(org_id=street, old_path=[city, district_a, street],
                                 new_path=[city, district_b, street], moved_on=local_today()))

    # The district the street now belongs to holds the member, their deliveries and their messages.
    assert await conn.fetchval("SELECT org_path FROM members WHERE member_id = $1", member) == new
    assert await conn.fetchval("SELECT org_path FROM deliveries WHERE id = $1", delivery) == new
    assert await conn.fetchval("SELECT org_path FROM inbox_messages WHERE id = $1", delivery) == new
