"""The officers directory: staff who receive work items and copies, by role and unit (whom a
notice reaches: queries.recipients). Addresses arrive already in their stored form
(domain.officers: encrypted and masked)."""
from __future__ import annotations

import uuid

import asyncpg

from notify import queries
from unionops import db
from unionops.auth import Principal
from unionops.problems import Problem
from unionops.unit_of_work import UnitOfWork
from unionops.scope import row_in_scope


def _duplicate() -> Problem:
    return Problem(409, "该系统账号已登记为其他工作人员", type_="/problems/duplicate")


async def add(uow: UnitOfWork, *, name: str, org_id: uuid.UUID, roles: list[str], email: dict, phone: dict,
              inapp_user_id: str | None, principal: Principal) -> dict:
    """`email` / `phone`: the stored columns (domain.officers.email_columns / phone_columns)."""
    path = await queries.unit_path_in_scope(uow.conn, org_id, principal, "org_id")
    try:
        row = await uow.conn.fetchrow(
            "INSERT INTO officers (id, name, org_id, org_path, roles, email_enc, email_masked, phone_enc,"
            " phone_masked, inapp_user_id, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            f" RETURNING {queries.OFFICER_COLUMNS}",
            uuid.uuid4(), name, org_id, path, roles, email["email_enc"], email["email_masked"], phone["phone_enc"],
            phone["phone_masked"], inapp_user_id, principal.subject)
    except asyncpg.UniqueViolationError:  # the unique in-app account
        raise _duplicate() from None
    return dict(row)


async def change(uow: UnitOfWork, officer_id: uuid.UUID, changes: dict, principal: Principal) -> dict:
    """Apply the given column changes (names from code, never from input) to an officer in scope."""
    await row_in_scope(uow.conn, principal, queries.officer_not_found(),
                       "SELECT org_path FROM officers WHERE id = $1 FOR UPDATE", officer_id)
    try:
        return dict(await db.update_row(uow.conn, "officers", officer_id, changes, queries.OFFICER_COLUMNS))
    except asyncpg.UniqueViolationError:
        raise _duplicate() from None
