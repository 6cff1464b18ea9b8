"""Reads of rationalisation proposals: one with its history, and listings (staff: their
subtree's; a member: their own). A proposal outside the caller's reach does not exist."""
from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from competitions.domain.proposals import NOT_FOUND, as_uuid, is_overdue
from unionops.auth import Principal
from unionops.problems import Problem

_SELECT = "SELECT p.*, o.org_path, o.name AS union_name FROM proposals p JOIN org_units o ON o.org_id = p.union_id"


async def load(conn: asyncpg.Connection, proposal_id: uuid.UUID, actor: Principal, *, lock: bool = False):
    """The proposal, if the caller's subtree holds its union, or it is the caller's own."""
    row = await conn.fetchrow(f"{_SELECT} WHERE p.id = $1{' FOR UPDATE OF p' if lock else ''}", proposal_id)
    if row is None or not (actor.covers(row["org_path"]) or actor.is_member(row["member_id"])):
        raise Problem(404, NOT_FOUND)
    return row


def proposal_out(r: asyncpg.Record, today: date) -> dict:
    keys = ("id", "member_id", "member_name", "union_id", "union_name", "title", "content", "major", "status",
            "submitted_on", "submitted_by", "submitted_via", "submitted_at", "answer_due_on", "assignee",
            "assignee_unit", "assigned_by", "assigned_at", "outcome", "answer", "first_answered_on", "answered_on",
            "answered_by", "answered_late", "implemented_on", "implementation_note", "implemented_by", "effect",
            "award_grade", "reward_fen", "rewarded_by", "rewarded_at")
    return {k: r[k] for k in keys} | {"overdue": is_overdue(r["first_answered_on"], r["answer_due_on"], today)}


async def view(conn: asyncpg.Connection, proposal_id: uuid.UUID, actor: Principal, today: date) -> dict:
    r = await load(conn, proposal_id, actor)
    history = await conn.fetch("SELECT action, actor, at, detail FROM proposal_history WHERE proposal_id = $1"
                               " ORDER BY id", proposal_id)
    return proposal_out(r, today) | {"history": [dict(h) for h in history]}


async def proposals(conn, actor: Principal, today: date, *, overdue: bool | None,
                  status: str | None, limit: int) -> list[dict]:
    """Staff: proposals of their subtree; a member: their own. `overdue=true`: unanswered past
    the due date, most overdue first."""
    if actor.role == "member":
        scope, arg = "p.member_id = $1", as_uuid(actor.subject)
    else:
        actor.require("read")
        scope, arg = "$1 = ANY(o.org_path)", actor.org_id
    order = "p.answer_due_on, p.id" if overdue else "p.submitted_on DESC, p.submitted_at DESC, p.id"
    rows = await conn.fetch(
        f"{_SELECT} WHERE {scope} AND ($2::bool IS NULL OR (p.first_answered_on IS NULL AND p.answer_due_on < $3) = $2)"
        f" AND ($4::text IS NULL OR p.status = $4) ORDER BY {order} LIMIT $5",
        arg, overdue, today, status, limit)
    return [proposal_out(r, today) for r in rows]
