"""Commands and projections of the competitions service. Each runs in the caller's transaction; a
command stages its events in the outbox of that same transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from competitions.judging import ScoreLine, record_scores
from contracts.events import (
    MemberLeft,
    MemberStatusChanged,
    MemberTransferred,
    UnionEstablished,
    UnionMoved,
)
from unionops.auth import Principal
from unionops.consumer import Received, last_per
from unionops.envelope import Envelope
from unionops.projections import pg_path, rewrite_path_prefix


@dataclass(frozen=True)
class ScoreEntry:
    contest_id: uuid.UUID
    entry_id: uuid.UUID
    judge_id: str | None          # None: the caller is the judge (their token's subject)
    criterion: str
    score: Decimal
    max_score: Decimal | None     # when given, must be the criterion's full marks


# ---- projections of other services' events -----------------------------------------------------

async def project_union_established(conn: asyncpg.Connection, event: UnionEstablished, envelope: Envelope) -> None:
    """Keep the organisation tree, so contests can be scoped to a subtree. Upsert: replays are harmless."""
    await conn.execute(
        "INSERT INTO org_units (org_id, parent_id, org_path, name, level, last_event_id)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (org_id) DO UPDATE SET parent_id = EXCLUDED.parent_id, org_path = EXCLUDED.org_path,"
        " name = EXCLUDED.name, level = EXCLUDED.level, last_event_id = EXCLUDED.last_event_id, updated_at = now()",
        event.org_id, event.parent_id, event.org_path, event.name, event.level, envelope.id,
    )


async def project_members_joined(conn: asyncpg.Connection, batch: list[Received]) -> None:
    """Keep the members who may enter contests: one upsert for a batch of admissions, the
    latest event of a member winning. Replays are harmless."""
    rows = [(r.event, r.envelope.id) for r in last_per(batch, lambda r: r.event.member_id)]
    await conn.execute(
        "INSERT INTO members (member_id, union_id, union_name, org_path, name, gender, joined_on, last_event_id,"
        " is_migrant_worker)"
        " SELECT m, u, un, p::uuid[], n, g, j, e, mig FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[],"
        " $5::text[], $6::text[], $7::date[], $8::uuid[], $9::bool[]) AS t(m, u, un, p, n, g, j, e, mig)"
        " ON CONFLICT (member_id) DO UPDATE SET union_id = EXCLUDED.union_id, union_name = EXCLUDED.union_name,"
        " org_path = EXCLUDED.org_path, name = EXCLUDED.name, gender = EXCLUDED.gender,"
        " joined_on = EXCLUDED.joined_on, last_event_id = EXCLUDED.last_event_id,"
        " is_migrant_worker = EXCLUDED.is_migrant_worker, updated_at = now()",
        [e.member_id for e, _ in rows], [e.union_id for e, _ in rows], [e.union_name for e, _ in rows],
        [pg_path(e.org_path) for e, _ in rows], [e.name for e, _ in rows], [e.gender for e, _ in rows],
        [e.joined_on for e, _ in rows], [i for _, i in rows], [e.is_migrant_worker for e, _ in rows],
    )


async def project_member_transferred(conn: asyncpg.Connection, event: MemberTransferred, envelope: Envelope) -> None:
    """The member now enters contests for the receiving union; existing entries keep the unit
    they were registered for."""
    await conn.execute(
        "UPDATE members SET union_id = $2, union_name = $3, org_path = $4, last_event_id = $5, updated_at = now()"
        " WHERE member_id = $1",
        event.member_id, event.to_union_id, event.to_union_name, event.to_org_path, envelope.id)


async def project_member_left(conn: asyncpg.Connection, event: MemberLeft, envelope: Envelope) -> None:
    """A member who left can no longer be entered (the projection forgets them; entries stay)."""
    await conn.execute("DELETE FROM members WHERE member_id = $1", event.member_id)


async def project_member_status_changed(conn: asyncpg.Connection, event: MemberStatusChanged,
                                        envelope: Envelope) -> None:
    """Only active members are fielded in a team; retained (会籍保留) ones are not."""
    await conn.execute("UPDATE members SET status = $2, last_event_id = $3, updated_at = now() WHERE member_id = $1",
                       event.member_id, event.to_status, envelope.id)


async def project_union_moved(conn: asyncpg.Connection, event: UnionMoved, envelope: Envelope) -> None:
    """A unit moved in the tree: every path held here follows, so scope checks stay right."""
    for table in ("org_units", "members", "contests", "contest_entries", "contest_teams", "contest_team_members"):
        await rewrite_path_prefix(conn, table, "org_path", event.old_path, event.new_path)


# ---- commands -----------------------------------------------------------------------------------

async def score_entry(conn: asyncpg.Connection, cmd: ScoreEntry, actor: Principal) -> dict:
    """评分: one judge, one criterion, one entry, once — a score sheet of one line (see
    competitions.judging.record_scores for who may record it and the rules it obeys)."""
    [score] = await record_scores(conn, cmd.contest_id, cmd.judge_id, [
        ScoreLine(entry_id=cmd.entry_id, criterion=cmd.criterion, score=cmd.score, max_score=cmd.max_score)], actor)
    return score
