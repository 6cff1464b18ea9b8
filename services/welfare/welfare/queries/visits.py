"""Reads of visits (走访慰问): a member's visits, and the member a visit is for, in scope."""
from __future__ import annotations

import uuid

import asyncpg

from unionops.auth import ROLES, Principal
from unionops.pii import Vault
from unionops.problems import Problem, RuleViolation
from welfare.domain.visits import VISIT_KINDS


async def member_in_scope(conn: asyncpg.Connection, member_id: uuid.UUID, actor: Principal, *, writing: bool):
    row = await conn.fetchrow("SELECT member_id, union_id, org_path, status FROM members WHERE member_id = $1",
                              member_id)
    if writing:
        if row is None or not actor.covers(row["org_path"]):  # out of scope: exactly as unknown
            raise RuleViolation("会员不存在：尚未入会或尚未同步", field="member_id", kind="unknown-member")
    elif row is None or not actor.covers(row["org_path"]):
        raise Problem(404, "会员不存在或不在您的管辖范围内")
    return row


async def member_visits(conn: asyncpg.Connection, member_id: uuid.UUID, actor: Principal, vault: Vault) -> list[dict]:
    """A member's visits, newest first. Notes only for roles with write permission (as for
    hardship files' health notes); auditors see who, when, what kind and the gift."""
    await member_in_scope(conn, member_id, actor, writing=False)
    with_notes = "write" in ROLES.get(actor.role, ())
    rows = await conn.fetch(
        "SELECT id, member_id, union_id, kind, visited_on, visitors, notes_enc, gift_fen, fund_id, ledger_entry_id,"
        " recorded_by, recorded_at"
        " FROM visits WHERE member_id = $1 ORDER BY visited_on DESC, recorded_at DESC", member_id)
    return [{k: r[k] for k in r.keys() if k != "notes_enc"}
            | {"kind_label": VISIT_KINDS[r["kind"]],
               "notes": vault.decrypt("visit_notes", r["notes_enc"]) if with_notes else None}
            for r in rows]
