"""Commands and projections of the competitions service. Each runs in the caller's transaction; a
command stages its events in the outbox of that same transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

import asyncpg
from opentelemetry import trace

from competitions.domain import (
    UNKNOWN_MEMBER, UNKNOWN_UNIT, check_contest_kind, check_eligible, format_points, judge_score,
)
from contracts.events import (
    ContestantRegistered,
    ContestCreated,
    ContestScored,
    MemberJoined,
    MemberLeft,
    MemberTransferred,
    UnionEstablished,
    UnionMoved,
)
from unionops import outbox
from unionops.auth import Principal
from unionops.envelope import Envelope
from unionops.problems import Problem, RuleViolation
from unionops.projections import rewrite_path_prefix


@dataclass(frozen=True)
class CreateContest:
    name: str
    kind: str
    org_id: uuid.UUID
    starts_on: date | None
    place: str | None


@dataclass(frozen=True)
class RegisterContestant:
    contest_id: uuid.UUID
    member_id: uuid.UUID


@dataclass(frozen=True)
class ScoreEntry:
    contest_id: uuid.UUID
    entry_id: uuid.UUID
    judge_id: str
    criterion: str
    score: Decimal
    max_score: Decimal


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


async def project_member_joined(conn: asyncpg.Connection, event: MemberJoined, envelope: Envelope) -> None:
    """Keep the members who may enter contests. Upsert: replays are harmless."""
    await conn.execute(
        "INSERT INTO members (member_id, union_id, union_name, org_path, name, gender, joined_on, last_event_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (member_id) DO UPDATE SET union_id = EXCLUDED.union_id, union_name = EXCLUDED.union_name,"
        " org_path = EXCLUDED.org_path, name = EXCLUDED.name, gender = EXCLUDED.gender,"
        " joined_on = EXCLUDED.joined_on, last_event_id = EXCLUDED.last_event_id, updated_at = now()",
        event.member_id, event.union_id, event.union_name, event.org_path, event.name, event.gender,
        event.joined_on, envelope.id,
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


async def project_union_moved(conn: asyncpg.Connection, event: UnionMoved, envelope: Envelope) -> None:
    """A unit moved in the tree: every path held here follows, so scope checks stay right."""
    for table in ("org_units", "members", "contests", "contest_entries"):
        await rewrite_path_prefix(conn, table, "org_path", event.old_path, event.new_path)


# ---- commands -----------------------------------------------------------------------------------

async def load_contest(conn: asyncpg.Connection, contest_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT id, name, kind, org_id, org_path FROM contests WHERE id = $1", contest_id)
    if row is None:
        raise Problem(404, "竞赛不存在或不在您的管辖范围内")
    return row


async def create_contest(conn: asyncpg.Connection, cmd: CreateContest, actor: Principal) -> dict:
    """A contest is organised by a known unit of the caller's subtree."""
    check_contest_kind(cmd.kind)
    unit = await conn.fetchrow("SELECT org_id, org_path, name FROM org_units WHERE org_id = $1", cmd.org_id)
    if unit is None:
        raise RuleViolation(UNKNOWN_UNIT, field="org_id", kind="unknown-unit")
    actor.require_scope(unit["org_path"])
    contest_id = uuid.uuid4()
    created_at = await conn.fetchval(
        "INSERT INTO contests (id, name, kind, org_id, org_path, starts_on, place, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING created_at",
        contest_id, cmd.name, cmd.kind, unit["org_id"], unit["org_path"], cmd.starts_on, cmd.place, actor.subject,
    )
    await outbox.record(conn, ContestCreated(contest_id=contest_id, name=cmd.name, kind=cmd.kind, org_id=unit["org_id"],
                                             starts_on=cmd.starts_on))
    trace.get_current_span().set_attribute("contest.id", str(contest_id))
    return {"id": contest_id, "name": cmd.name, "kind": cmd.kind, "org_id": unit["org_id"], "org_name": unit["name"],
            "starts_on": cmd.starts_on, "place": cmd.place, "created_at": created_at, "created_by": actor.subject}


async def register_contestant(conn: asyncpg.Connection, cmd: RegisterContestant, actor: Principal) -> dict:
    """报名: a member of the caller's subtree enters a contest of their own unit or one above it."""
    contest = await load_contest(conn, cmd.contest_id)
    member = await conn.fetchrow(
        "SELECT member_id, union_id, union_name, org_path, name, gender FROM members WHERE member_id = $1",
        cmd.member_id)
    if member is None:
        raise RuleViolation(UNKNOWN_MEMBER, field="member_id", kind="unknown-member")
    actor.require_scope(member["org_path"])
    check_eligible(contest["org_id"], member["org_path"])
    entry_id = uuid.uuid4()
    # One entry per member per contest; ON CONFLICT also settles two registrations racing.
    registered_at = await conn.fetchval(
        "INSERT INTO contest_entries (id, contest_id, member_id, member_name, gender, union_id, union_name, org_path,"
        " registered_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (contest_id, member_id) DO NOTHING RETURNING registered_at",
        entry_id, contest["id"], member["member_id"], member["name"], member["gender"], member["union_id"],
        member["union_name"], member["org_path"], actor.subject,
    )
    if registered_at is None:
        raise RuleViolation("该会员已报名本竞赛", field="member_id", status=409, kind="already-registered")
    await outbox.record(conn, ContestantRegistered(contest_id=contest["id"], contest_name=contest["name"],
                                                   entry_id=entry_id, member_id=member["member_id"]))
    trace.get_current_span().set_attribute("contest.entry.id", str(entry_id))
    return {"id": entry_id, "contest_id": contest["id"], "member_id": member["member_id"],
            "member_name": member["name"], "union_id": member["union_id"], "union_name": member["union_name"],
            "registered_at": registered_at, "registered_by": actor.subject}


async def score_entry(conn: asyncpg.Connection, cmd: ScoreEntry, actor: Principal) -> dict:
    """评分: one judge, one criterion, one entry, once; judging belongs to the organisers."""
    contest = await load_contest(conn, cmd.contest_id)
    actor.require_scope(contest["org_path"])
    score_cp, max_cp = judge_score(cmd.score, cmd.max_score)
    entry = await conn.fetchrow("SELECT id, member_id FROM contest_entries WHERE id = $1 AND contest_id = $2",
                                cmd.entry_id, contest["id"])
    if entry is None:
        raise RuleViolation("本竞赛无此参赛报名", field="entry_id", kind="unknown-entry")
    score_id, scored_at = uuid.uuid4(), datetime.now(timezone.utc)
    inserted = await conn.fetchval(
        "INSERT INTO judge_scores (id, contest_id, entry_id, judge_id, criterion, score_centipoints, max_centipoints,"
        " scored_at, scored_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (entry_id, judge_id, criterion) DO NOTHING RETURNING 1",
        score_id, contest["id"], entry["id"], cmd.judge_id, cmd.criterion, score_cp, max_cp, scored_at, actor.subject,
    )
    if inserted is None:
        raise RuleViolation("该评委已为此参赛者的该评分项打分", field="criterion", status=409, kind="already-scored")
    await outbox.record(conn, ContestScored(
        contest_id=contest["id"], contest_name=contest["name"], entry_id=entry["id"], member_id=entry["member_id"],
        judge_id=cmd.judge_id, criterion=cmd.criterion, score_centipoints=score_cp, max_centipoints=max_cp,
        scored_at=scored_at,
    ))
    return {"id": score_id, "contest_id": contest["id"], "entry_id": entry["id"], "member_id": entry["member_id"],
            "judge_id": cmd.judge_id, "criterion": cmd.criterion, "score": format_points(score_cp),
            "max_score": format_points(max_cp), "score_centipoints": score_cp, "max_centipoints": max_cp,
            "scored_at": scored_at, "scored_by": actor.subject}
