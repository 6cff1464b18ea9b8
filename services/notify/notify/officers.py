"""The officers directory: staff who receive work items and copies, by role and unit.

Resolution rule (domain.nearest_holders): for a notice about a unit, the officers holding the
role at the nearest unit upward on its path — the unit itself, then its street union, its
district, the city — that has at least one active holder. Everyone holding the role at that
unit is addressed; higher units are not. A named assignee (a hotline ticket's 承办人) is
addressed directly when the directory knows their in-app account.

An officer's e-mail address and phone are personal data: kept encrypted with the vault (fields
"officer_email", "phone") beside a masked copy for display; only the dispatcher decrypts the
address, to send. Nothing looks officers up by address, so no keyed hash is kept."""
from __future__ import annotations

import uuid

import asyncpg

from notify import domain
from unionops import db
from unionops.pii import mask_email, mask_phone

OFFICER_COLUMNS = ("id, name, org_id, org_path, roles, email_masked, phone_masked, inapp_user_id, active, created_by,"
                   " created_at, updated_at")
EMAIL_FIELD = "officer_email"  # the vault's field (its AAD): an officer's address opens only as one


def email_columns(vault, email: str | None) -> dict:
    """The stored form of an officer's e-mail address (None clears it)."""
    if not email:
        return {"email_enc": None, "email_masked": None}
    return {"email_enc": vault.encrypt(EMAIL_FIELD, email), "email_masked": mask_email(email)}


def phone_columns(vault, phone: str | None) -> dict:
    """The stored form of an officer's phone (None clears it)."""
    if not phone:
        return {"phone_enc": None, "phone_masked": None}
    return {"phone_enc": vault.encrypt("phone", phone), "phone_masked": mask_phone(phone)}


def _officer(row) -> domain.Officer:
    return domain.Officer(id=row["id"], org_id=row["org_id"], has_email=row["has_email"],
                          inapp_user_id=row["inapp_user_id"])


async def resolve(conn: asyncpg.Connection, notice: domain.OfficerNotice) -> list[domain.Officer]:
    """The officers a notice goes to (one statement; a handful of rows)."""
    rows = await conn.fetch(
        "SELECT id, org_id, email_enc IS NOT NULL AS has_email, inapp_user_id, inapp_user_id = $3 AS assigned"
        " FROM officers"
        " WHERE active AND ((org_id = ANY($1::uuid[]) AND $2 = ANY(roles)) OR inapp_user_id = $3)",
        notice.search_path, notice.role, notice.assignee,
    )
    assigned = [_officer(r) for r in rows if r["assigned"]]
    if assigned:
        return assigned
    return domain.nearest_holders(notice.search_path, [_officer(r) for r in rows])


async def create(conn: asyncpg.Connection, vault, *, name: str, org_id: uuid.UUID, org_path: list[uuid.UUID],
                 roles: list[str], email: str | None, phone: str | None, inapp_user_id: str | None, created_by: str):
    e, p = email_columns(vault, email), phone_columns(vault, phone)
    return await conn.fetchrow(
        "INSERT INTO officers (id, name, org_id, org_path, roles, email_enc, email_masked, phone_enc, phone_masked,"
        " inapp_user_id, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        f" RETURNING {OFFICER_COLUMNS}",
        uuid.uuid4(), name, org_id, org_path, roles, e["email_enc"], e["email_masked"], p["phone_enc"],
        p["phone_masked"], inapp_user_id, created_by,
    )


async def encrypt_stored_emails(conn: asyncpg.Connection, vault) -> int:
    """Start-up: addresses kept in clear before migration 009 are encrypted once, the clear column emptied."""
    rows = await conn.fetch("SELECT id, email FROM officers WHERE email IS NOT NULL FOR UPDATE")
    for r in rows:
        cols = email_columns(vault, r["email"])
        await conn.execute("UPDATE officers SET email_enc = $2, email_masked = $3, email = NULL WHERE id = $1",
                           r["id"], cols["email_enc"], cols["email_masked"])
    return len(rows)


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
