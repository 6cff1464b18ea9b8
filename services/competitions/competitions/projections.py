"""Projections of membership's events: the organisation tree and the members who may enter
contests. Each runs in the consumer's inbox transaction; replays are harmless (upserts, and
updates to the same values)."""
from __future__ import annotations

import asyncpg

from contracts.events import MemberLeft, MemberStatusChanged, MemberTransferred, UnionEstablished, UnionMoved
from unionops import projections
from unionops.consumer import Received
from unionops.envelope import Envelope


async def union_established(conn: asyncpg.Connection, event: UnionEstablished, envelope: Envelope) -> None:
    """Keep the organisation tree, so contests can be scoped to a subtree."""
    await projections.upsert_latest(conn, "org_units", "org_id", [{
        "org_id": event.org_id, "parent_id": event.parent_id, "org_path": event.org_path, "name": event.name,
        "level": event.level, "last_event_id": envelope.id}])


async def members_joined(conn: asyncpg.Connection, batch: list[Received]) -> None:
    """Keep the members who may enter contests: one upsert for a batch of admissions, the
    latest event of a member winning."""
    await projections.upsert_latest(conn, "members", "member_id", [{
        "member_id": r.event.member_id, "union_id": r.event.union_id, "union_name": r.event.union_name,
        "org_path": r.event.org_path, "name": r.event.name, "gender": r.event.gender,
        "joined_on": r.event.joined_on, "last_event_id": r.envelope.id,
        "is_migrant_worker": r.event.is_migrant_worker} for r in batch])


async def member_transferred(conn: asyncpg.Connection, event: MemberTransferred, envelope: Envelope) -> None:
    """The member now enters contests for the receiving union; existing entries keep the unit
    they were registered for."""
    await conn.execute(
        "UPDATE members SET union_id = $2, union_name = $3, org_path = $4, last_event_id = $5, updated_at = now()"
        " WHERE member_id = $1",
        event.member_id, event.to_union_id, event.to_union_name, event.to_org_path, envelope.id)


async def member_left(conn: asyncpg.Connection, event: MemberLeft, envelope: Envelope) -> None:
    """A member who left can no longer be entered (the projection forgets them; entries stay)."""
    await conn.execute("DELETE FROM members WHERE member_id = $1", event.member_id)


async def member_status_changed(conn: asyncpg.Connection, event: MemberStatusChanged,
                                        envelope: Envelope) -> None:
    """Only active members are fielded in a team; retained (会籍保留) ones are not. The reason is
    kept for training: a member retained as unemployed may take 就业培训."""
    await conn.execute("UPDATE members SET status = $2, status_reason = $4, last_event_id = $3, updated_at = now()"
                       " WHERE member_id = $1", event.member_id, event.to_status, envelope.id, event.reason)


async def union_moved(conn: asyncpg.Connection, event: UnionMoved, envelope: Envelope) -> None:
    """A unit moved in the tree: every organisation path held here follows (the tables are found
    in the schema), so scope checks stay right."""
    await projections.follow_move(conn, event.old_path, event.new_path)
