"""Group-chat robots of a unit (rules in domain.bots): registered and changed by staff of the
unit's subtree. URL and secret arrive already in their stored form (encrypted)."""
from __future__ import annotations

import uuid

import asyncpg

from notify import queries
from unionops import db
from unionops.auth import Principal
from unionops.problems import Problem
from unionops.unit_of_work import UnitOfWork
from unionops.scope import row_in_scope


async def register(uow: UnitOfWork, *, name: str, org_unit_id: uuid.UUID, officer_group: str | None, flavour: str,
                   url_enc: bytes, url_masked: str, secret_enc: bytes | None, notice_kinds: list[str],
                   principal: Principal):
    path = await queries.unit_path_in_scope(uow.conn, org_unit_id, principal, "org_unit_id")
    try:
        return await uow.conn.fetchrow(
            "INSERT INTO webhook_bots (id, name, org_unit_id, org_path, officer_group, flavour, url_enc, url_masked,"
            " secret_enc, notice_kinds, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            f" RETURNING {queries.BOT_COLUMNS}",
            uuid.uuid4(), name, org_unit_id, path, officer_group, flavour, url_enc, url_masked, secret_enc,
            notice_kinds, principal.subject)
    except asyncpg.UniqueViolationError:  # one bot per unit and officer group
        raise Problem(409, "该组织（工作组）已登记群机器人", type_="/problems/duplicate") from None


async def change(uow: UnitOfWork, bot_id: uuid.UUID, changes: dict, principal: Principal):
    """Apply the given column changes (names from code, never from input) to a bot in scope."""
    await row_in_scope(uow.conn, principal, queries.bot_not_found(),
                       "SELECT org_path FROM webhook_bots WHERE id = $1 FOR UPDATE", bot_id)
    return await db.update_row(uow.conn, "webhook_bots", bot_id, changes, queries.BOT_COLUMNS)
