"""Reads of 12351 hotline tickets: a ticket as the caller may read it, the tickets of the
caller's subtree by deadline, a unit's path from welfare's copy of the tree."""
from __future__ import annotations

import uuid

import asyncpg

from unionops.auth import ROLES, Principal
from unionops.pii import Vault
from unionops.problems import Problem
from welfare.domain.hotline import CATEGORIES, NOT_FOUND
from welfare.queries.members import shown_name


async def unit_path(conn: asyncpg.Connection, org_id: uuid.UUID) -> list[uuid.UUID] | None:
    """A unit's path from welfare's copy of the tree, else read off a member below it."""
    path = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", org_id)
    if path is None:
        path = await conn.fetchval(
            "SELECT org_path[1:array_position(org_path, $1)] FROM members WHERE org_path @> ARRAY[$1]::uuid[] LIMIT 1",
            org_id)
    return list(path) if path else None


async def load_ticket(conn: asyncpg.Connection, ticket_id: uuid.UUID, actor: Principal, *,
                      lock: bool = False) -> asyncpg.Record:
    """The ticket (locked for a command) if the caller covers its unit — or, for a member, if it
    is their call; else 404."""
    row = await conn.fetchrow("SELECT * FROM hotline_tickets WHERE id = $1" + (" FOR UPDATE" if lock else ""),
                              ticket_id)
    if row is None or not (actor.covers(row["org_path"])
                           or (row["member_id"] is not None and actor.is_member(row["member_id"]))):
        raise Problem(404, NOT_FOUND)
    return row


# Late is late even between two runs of the check: `overdue` does not wait for the marking.
_OVERDUE = "(overdue_at IS NOT NULL OR (status <> 'resolved' AND due_at < now()))"
_VIEW = ("SELECT id, org_id, member_id, category, status, opened_by, opened_at, due_at, assignee, assigned_at,"
         f" resolved_by, resolved_at, satisfaction, rated_at, overdue_at, case_id, {_OVERDUE} AS overdue"
         " FROM hotline_tickets")


def _view(row: asyncpg.Record) -> dict:
    d = dict(row)
    return d | {"category_label": CATEGORIES[d["category"]]}


async def ticket_view(conn: asyncpg.Connection, ticket_id: uuid.UUID, vault: Vault | None = None) -> dict:
    """The ticket without what the caller said; with `vault`, the summary and resolution too."""
    row = await conn.fetchrow(f"{_VIEW} WHERE id = $1", ticket_id)
    view = _view(row)
    if vault is not None:
        texts = await conn.fetchrow("SELECT summary_enc, resolution_enc FROM hotline_tickets WHERE id = $1", ticket_id)
        view["summary"] = vault.decrypt("hotline_summary", texts["summary_enc"])
        view["resolution"] = (vault.decrypt("hotline_resolution", texts["resolution_enc"])
                              if texts["resolution_enc"] is not None else None)
    return view


async def list_tickets(conn: asyncpg.Connection, actor: Principal, *, overdue: bool | None, status: str | None,
                       category: str | None = None, unit: uuid.UUID | None = None, limit: int,
                       offset: int = 0) -> list[dict]:
    """The tickets of the caller's subtree by deadline: those still to handle first, overdue
    ones before the rest, then the earliest due; with the unit's name and the caller's name
    (masked for auditors). A `unit` outside the subtree matches nothing."""
    rows = await conn.fetch(
        f"SELECT t.*, u.name AS org_name, m.name AS member_name FROM ({_VIEW}) t"
        " LEFT JOIN org_units u ON u.org_id = t.org_id LEFT JOIN members m ON m.member_id = t.member_id"
        " WHERE t.id IN (SELECT id FROM hotline_tickets WHERE $1 = ANY(org_path)"
        "   AND ($5::uuid IS NULL OR $5 = ANY(org_path)))"
        " AND ($2::boolean IS NULL OR t.overdue = $2) AND ($3::text IS NULL OR t.status = $3)"
        " AND ($4::text IS NULL OR t.category = $4)"
        " ORDER BY (t.status <> 'resolved') DESC, t.overdue DESC, t.due_at, t.id LIMIT $6 OFFSET $7",
        actor.org_id, overdue, status, category, unit, limit, offset)
    return [_view(r) | {"member_name": shown_name(r["member_name"], actor) if r["member_name"] else None}
            for r in rows]


async def ticket_detail(conn: asyncpg.Connection, ticket_id: uuid.UUID, principal: Principal, vault: Vault) -> dict:
    await load_ticket(conn, ticket_id, principal)
    # What the caller told the hotline is for those who handle it; auditors read the ticket
    # without it, as they read cases and hardship files.
    handles = "write" in ROLES.get(principal.role, ())
    return await ticket_view(conn, ticket_id, vault if handles else None)
