"""The officers directory: staff who receive work items and copies, by role and unit.

Resolution rule (domain.nearest_holders): for a notice about a unit, the officers holding the
role at the nearest unit upward on its path — the unit itself, then its street union, its
district, the city — that has at least one active holder. Everyone holding the role at that
unit is addressed; higher units are not. A named assignee (a hotline ticket's 承办人) is
addressed directly when the directory knows their in-app account."""
from __future__ import annotations

import uuid

import asyncpg

from notify import domain
from unionops import db

OFFICER_COLUMNS = ("id, name, org_id, org_path, roles, email, phone_masked, inapp_user_id, active, created_by,"
                   " created_at, updated_at")


def _officer(row) -> domain.Officer:
    return domain.Officer(id=row["id"], org_id=row["org_id"], email=row["email"], inapp_user_id=row["inapp_user_id"])


async def resolve(conn: asyncpg.Connection, notice: domain.OfficerNotice) -> list[domain.Officer]:
    """The officers a notice goes to (one statement; a handful of rows)."""
    rows = await conn.fetch(
        "SELECT id, org_id, email, inapp_user_id, inapp_user_id = $3 AS assigned FROM officers"
        " WHERE active AND ((org_id = ANY($1::uuid[]) AND $2 = ANY(roles)) OR inapp_user_id = $3)",
        notice.search_path, notice.role, notice.assignee,
    )
    assigned = [_officer(r) for r in rows if r["assigned"]]
    if assigned:
        return assigned
    return domain.nearest_holders(notice.search_path, [_officer(r) for r in rows])


async def create(conn: asyncpg.Connection, *, name: str, org_id: uuid.UUID, org_path: list[uuid.UUID],
                 roles: list[str], email: str | None, phone_enc: bytes | None, phone_masked: str | None,
                 inapp_user_id: str | None, created_by: str):
    return await conn.fetchrow(
        "INSERT INTO officers (id, name, org_id, org_path, roles, email, phone_enc, phone_masked, inapp_user_id,"
        f" created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {OFFICER_COLUMNS}",
        uuid.uuid4(), name, org_id, org_path, roles, email, phone_enc, phone_masked, inapp_user_id, created_by,
    )


async def get(conn, officer_id: uuid.UUID):
    return await conn.fetchrow(f"SELECT {OFFICER_COLUMNS} FROM officers WHERE id = $1", officer_id)


async def list_in(conn, org_id: uuid.UUID, *, role: str | None, unit: uuid.UUID | None, limit: int):
    """Officers in the subtree of `org_id` (the caller's scope)."""
    return await conn.fetch(
        f"SELECT {OFFICER_COLUMNS} FROM officers WHERE org_path @> ARRAY[$1]::uuid[]"
        " AND ($2::text IS NULL OR $2 = ANY(roles)) AND ($3::uuid IS NULL OR org_id = $3)"
        " ORDER BY org_path, name, id LIMIT $4", org_id, role, unit, limit)


async def update(conn, officer_id: uuid.UUID, changes: dict):
    """Apply the given column changes (names from code, never from input)."""
    return await db.update_row(conn, "officers", officer_id, changes, OFFICER_COLUMNS)
