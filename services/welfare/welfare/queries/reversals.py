"""Reads of reversals (冲正): a request in the caller's subtree, and who a payment went to."""
from __future__ import annotations

import uuid

import asyncpg

from unionops.auth import Principal
from unionops.problems import Problem
from unionops.scope import row_in_scope
from welfare.domain.money import money
from welfare.domain.reversals import NOT_FOUND, STATUS_LABELS

# Who a disbursement paid: a campaign payment, an assistance case, or a visit's gift. $1 the entry.
_PAYEE = """
SELECT p.member_id, p.union_id, p.org_path, k.case_kind AS kind, p.paid_on, NULL::uuid AS visit_id
  FROM campaign_payments p JOIN campaign_kind_defaults k ON k.kind = p.campaign_kind WHERE p.ledger_entry_id = $1
UNION ALL
SELECT c.member_id, c.union_id, c.org_path, c.kind, c.paid_on, NULL FROM assistance_cases c WHERE c.disbursement_id = $1
UNION ALL
SELECT v.member_id, v.union_id, m.org_path, 'living', v.visited_on, v.id
  FROM visits v JOIN members m ON m.member_id = v.member_id WHERE v.ledger_entry_id = $1
"""


async def payee(conn: asyncpg.Connection, entry_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(_PAYEE, entry_id)


async def load_reversal(conn: asyncpg.Connection, reversal_id: uuid.UUID, principal: Principal, *,
                        lock: bool = False) -> asyncpg.Record:
    return await row_in_scope(conn, principal, Problem(404, NOT_FOUND),
                              "SELECT * FROM payment_reversals WHERE id = $1" + (" FOR UPDATE" if lock else ""),
                              reversal_id)


def reversal_view(row: asyncpg.Record) -> dict:
    out = {k: row[k] for k in ("id", "entry_id", "fund_id", "reason", "status", "requested_by", "requested_at",
                               "decided_by", "decided_at", "decision_note", "reversal_entry_id")}
    return out | {"amount": money(row["amount_fen"]), "status_label": STATUS_LABELS[row["status"]]}


async def reversal(conn: asyncpg.Connection, reversal_id: uuid.UUID, principal: Principal) -> dict:
    return reversal_view(await load_reversal(conn, reversal_id, principal))
