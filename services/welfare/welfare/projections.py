"""Welfare's projections of membership's events: the members it may aid and the organisation
tree (for funds, campaigns and hotline tickets). Each runs in the consumer's inbox transaction;
a replayed event changes nothing. Registered in welfare.consumers."""
from __future__ import annotations

import asyncpg

from contracts.events import MemberLeft, MemberStatusChanged, MemberTransferred, UnionEstablished, UnionMoved
from unionops.consumer import Received
from unionops.envelope import Envelope
from unionops.projections import follow_move, upsert_latest


async def members_joined(conn: asyncpg.Connection, batch: list[Received]) -> None:
    """Keep the members welfare may aid: one upsert for a batch of admissions (an import brings
    thousands), the latest event of a member winning. A member's status is not touched: it
    follows MemberStatusChanged and MemberLeft alone."""
    await upsert_latest(conn, "members", "member_id", [
        {"member_id": r.event.member_id, "union_id": r.event.union_id, "union_name": r.event.union_name,
         "org_path": r.event.org_path, "name": r.event.name, "gender": r.event.gender,
         "is_migrant_worker": r.event.is_migrant_worker, "joined_on": r.event.joined_on,
         "last_event_id": r.envelope.id}
        for r in batch])


async def member_transferred(conn: asyncpg.Connection, event: MemberTransferred, envelope: Envelope) -> None:
    """Membership follows employment: the member is now aided through the receiving union.
    Open cases stay with the union that opened them."""
    await conn.execute(
        "UPDATE members SET union_id = $2, union_name = $3, org_path = $4, status = 'active',"
        " last_event_id = $5, updated_at = now() WHERE member_id = $1",
        event.member_id, event.to_union_id, event.to_union_name, event.to_org_path, envelope.id)


async def member_status_changed(conn: asyncpg.Connection, event: MemberStatusChanged, envelope: Envelope) -> None:
    await conn.execute("UPDATE members SET status = $2, last_event_id = $3, updated_at = now() WHERE member_id = $1",
                       event.member_id, event.to_status, envelope.id)


async def member_left(conn: asyncpg.Connection, event: MemberLeft, envelope: Envelope) -> None:
    await conn.execute("UPDATE members SET status = 'left', last_event_id = $2, updated_at = now() WHERE member_id = $1",
                       event.member_id, envelope.id)


async def union_established(conn: asyncpg.Connection, event: UnionEstablished, envelope: Envelope) -> None:
    """Keep the unit, so funds and campaigns can be scoped to it. Upsert: replays are harmless."""
    await upsert_latest(conn, "org_units", "org_id", [
        {"org_id": event.org_id, "parent_id": event.parent_id, "org_path": event.org_path, "name": event.name,
         "level": event.level, "last_event_id": envelope.id}])


async def union_moved(conn: asyncpg.Connection, event: UnionMoved, envelope: Envelope) -> None:
    """Every organisation path of welfare under the moved unit follows it, in the same
    transaction, so scope checks stay right everywhere (the tables are found in the schema)."""
    await follow_move(conn, event.old_path, event.new_path)
