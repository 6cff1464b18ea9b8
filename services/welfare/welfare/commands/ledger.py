"""The fund ledger (专项帮扶资金): every movement of money is an append-only entry, and each fund's
balance row changes in the same transaction by a conditional UPDATE built from
`welfare.domain.money.EFFECTS`. Two transactions racing for the same yuan serialise on the balance row;
the loser sees the winner's balance and is refused — never a negative balance (the row's CHECK
backs this up).

Every function here is a step of a command (funds, cases, campaigns of this package) and runs on
its unit of work's connection (`uow.conn`, which must be in a transaction); none stages events:
the command stages what it means (CaseApproved, AidDisbursed …) in the same unit of work. These
signatures are stable; the case workflow (welfare.commands.cases) calls:

    commit(conn, fund_id, amount_fen, *, case_id=None, campaign_id=None, approver, actor) -> UUID
    release(conn, commitment_id, *, actor) -> UUID | None
    disburse(conn, commitment_id, amount_fen, *, actor) -> UUID
    reverse(conn, entry_id, *, reason, actor, approver=None) -> UUID

Refusals are `RuleViolation`s (→ problem+json): `insufficient-funds` (409, `InsufficientFunds`
with `.available_fen`), `unknown-fund` / `unknown-entry` (404), `commitment-settled`,
`over-commitment`, `already-reversed`, `not-reversible` (409), `invalid-amount` (422).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from unionops.problems import RuleViolation
from unionops.unit_of_work import refusing_duplicates
from welfare.domain.money import REVERSAL_EFFECTS, Delta, InsufficientFunds, check_amount, effect, yuan

_APPLY = """
UPDATE fund_balances
   SET allocated_fen = allocated_fen + $2, available_fen = available_fen + $3,
       committed_fen = committed_fen + $4, disbursed_fen = disbursed_fen + $5, updated_at = now()
 WHERE fund_id = $1
   AND allocated_fen + $2 >= 0 AND available_fen + $3 >= 0 AND committed_fen + $4 >= 0 AND disbursed_fen + $5 >= 0
RETURNING available_fen
"""

_INSERT = """
INSERT INTO ledger_entries (id, fund_id, kind, amount_fen, counterpart_fund_id, commitment_id, transfer_id, case_id,
                            campaign_id, reverses_entry_id, approver, actor, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""


@dataclass(frozen=True)
class Entry:
    id: uuid.UUID
    fund_id: uuid.UUID
    kind: str
    amount_fen: int
    counterpart_fund_id: uuid.UUID | None
    commitment_id: uuid.UUID | None
    transfer_id: uuid.UUID | None
    case_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    reverses_entry_id: uuid.UUID | None
    approver: str | None
    actor: str
    reason: str | None


def _in_transaction(conn: asyncpg.Connection) -> None:
    if not conn.is_in_transaction():
        raise RuntimeError("ledger functions must run inside the caller's transaction")


async def apply_delta(conn: asyncpg.Connection, fund_id: uuid.UUID, delta: Delta) -> int:
    """Change a fund's balance row, or refuse if a figure would go negative. Returns the new
    available balance. The row lock taken here serialises concurrent movements of one fund."""
    available = await conn.fetchval(_APPLY, fund_id, delta.allocated, delta.available, delta.committed,
                                    delta.disbursed)
    if available is not None:
        return available
    current = await conn.fetchval("SELECT available_fen FROM fund_balances WHERE fund_id = $1", fund_id)
    if current is None:
        raise RuleViolation("专项资金不存在", field="fund_id", status=404, kind="unknown-fund")
    raise InsufficientFunds(current, max(-delta.available, 0))


async def _book(conn: asyncpg.Connection, fund_id: uuid.UUID, kind: str, amount_fen: int, *, actor: str,
                reversed_kind: str | None = None, counterpart_fund_id=None, commitment_id=None, transfer_id=None,
                case_id=None, campaign_id=None, reverses_entry_id=None, approver=None, reason=None) -> uuid.UUID:
    _in_transaction(conn)
    await apply_delta(conn, fund_id, effect(kind, amount_fen, reversed_kind))
    entry_id = uuid.uuid4()
    await conn.execute(_INSERT, entry_id, fund_id, kind, amount_fen, counterpart_fund_id, commitment_id, transfer_id,
                       case_id, campaign_id, reverses_entry_id, approver, actor, reason)
    return entry_id


# ---- money coming in and flowing down ----------------------------------------------------------

async def credit_budget(conn: asyncpg.Connection, fund_id: uuid.UUID, amount_fen: int, *, actor: str,
                        reason: str | None = None) -> uuid.UUID:
    """Credit a root fund from the budget (an allocation_in with no counterpart). Only a fund
    without a parent is credited this way; the caller checks the admin role."""
    check_amount(amount_fen)
    parent = await conn.fetchrow("SELECT parent_fund_id FROM funds WHERE id = $1", fund_id)
    if parent is None:
        raise RuleViolation("专项资金不存在", field="fund_id", status=404, kind="unknown-fund")
    if parent["parent_fund_id"] is not None:
        raise RuleViolation("只有顶层资金可由预算注资；下级资金须由上级拨付", field="fund_id", status=409,
                            kind="not-a-root-fund")
    return await _book(conn, fund_id, "allocation_in", amount_fen, actor=actor, approver=actor,
                       reason=reason or "预算注资")


async def allocate(conn: asyncpg.Connection, from_fund_id: uuid.UUID, to_fund_id: uuid.UUID, amount_fen: int, *,
                   actor: str, reason: str | None = None) -> tuple[uuid.UUID, uuid.UUID]:
    """Move money from a fund to one of its child funds: allocation_out on the parent and
    allocation_in on the child, in the caller's transaction. Returns (out_entry, in_entry)."""
    check_amount(amount_fen)
    child = await conn.fetchrow("SELECT parent_fund_id FROM funds WHERE id = $1", to_fund_id)
    if child is None:
        raise RuleViolation("接收拨付的资金不存在", field="to_fund_id", status=404, kind="unknown-fund")
    if child["parent_fund_id"] != from_fund_id:
        raise RuleViolation("资金只能拨付给本资金的下级资金", field="to_fund_id", status=422, kind="not-a-child-fund")
    transfer = uuid.uuid4()
    out_id = await _book(conn, from_fund_id, "allocation_out", amount_fen, actor=actor, approver=actor,
                         counterpart_fund_id=to_fund_id, transfer_id=transfer, reason=reason)
    in_id = await _book(conn, to_fund_id, "allocation_in", amount_fen, actor=actor, approver=actor,
                        counterpart_fund_id=from_fund_id, transfer_id=transfer, reason=reason)
    return out_id, in_id


# ---- the case workflow's functions (stable) ----------------------------------------------------

async def commit(conn: asyncpg.Connection, fund_id: uuid.UUID, amount_fen: int, *, case_id: uuid.UUID | None = None,
                 campaign_id: uuid.UUID | None = None, approver: str, actor: str) -> uuid.UUID:
    """Reserve `amount_fen` of the fund's available money for an approved case or a launched
    campaign (a `commitment` entry). Returns the commitment's id, which `disburse` and `release`
    take. Raises `InsufficientFunds` (409, kind insufficient-funds, message naming the available
    amount in yuan) when the fund cannot cover it — also when another transaction took the money
    a moment earlier."""
    check_amount(amount_fen)
    entry_id = await _book(conn, fund_id, "commitment", amount_fen, actor=actor, approver=approver,
                           case_id=case_id, campaign_id=campaign_id)
    await conn.execute(
        "INSERT INTO fund_commitments (entry_id, fund_id, amount_fen, remaining_fen, case_id, campaign_id)"
        " VALUES ($1, $2, $3, $3, $4, $5)", entry_id, fund_id, amount_fen, case_id, campaign_id)
    return entry_id


async def _lock_commitment(conn: asyncpg.Connection, commitment_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT c.entry_id, c.fund_id, c.amount_fen, c.remaining_fen, c.case_id, c.campaign_id, c.settled, e.approver"
        " FROM fund_commitments c JOIN ledger_entries e ON e.id = c.entry_id WHERE c.entry_id = $1"
        " FOR UPDATE OF c", commitment_id)
    if row is None:
        raise RuleViolation("承诺（预留）记录不存在", field="commitment_id", status=404, kind="unknown-entry")
    return row


async def release(conn: asyncpg.Connection, commitment_id: uuid.UUID, *, actor: str) -> uuid.UUID | None:
    """Give back what is left of a commitment to the fund's available money (a rejected or
    withdrawn case, a closed campaign) and settle it. Returns the release entry's id, or None when
    nothing was left (already paid in full or released: calling twice is harmless)."""
    _in_transaction(conn)
    c = await _lock_commitment(conn, commitment_id)
    if c["settled"]:
        return None
    entry_id = None
    if c["remaining_fen"] > 0:
        entry_id = await _book(conn, c["fund_id"], "commitment_release", c["remaining_fen"], actor=actor,
                               approver=c["approver"], commitment_id=commitment_id, case_id=c["case_id"],
                               campaign_id=c["campaign_id"])
    await conn.execute("UPDATE fund_commitments SET remaining_fen = 0, settled = true WHERE entry_id = $1",
                       commitment_id)
    return entry_id


async def disburse(conn: asyncpg.Connection, commitment_id: uuid.UUID, amount_fen: int, *, actor: str,
                   settle: bool = True, case_id: uuid.UUID | None = None, reason: str | None = None) -> uuid.UUID:
    """Pay `amount_fen` (at most what the commitment still holds) as a `disbursement` entry
    traceable to the commitment's case, campaign and approver. With `settle` (the default: one
    payment per approved case) the remainder is released and the commitment is settled, so a
    second payment is refused with 409 commitment-settled. Returns the disbursement's id, which
    goes into AidDisbursed.ledger_entry_id. `reason`: what the audit report says it was for."""
    check_amount(amount_fen)
    _in_transaction(conn)
    c = await _lock_commitment(conn, commitment_id)
    if c["settled"]:
        raise RuleViolation("该笔预留资金已支付或已释放", field="commitment_id", status=409, kind="commitment-settled")
    if amount_fen > c["remaining_fen"]:
        raise RuleViolation(f"支付金额超过批准金额：尚余 {yuan(c['remaining_fen'])}，本次 {yuan(amount_fen)}",
                            field="amount_fen", status=409, kind="over-commitment")
    entry_id = await _book(conn, c["fund_id"], "disbursement", amount_fen, actor=actor, approver=c["approver"],
                           commitment_id=commitment_id, case_id=case_id or c["case_id"], campaign_id=c["campaign_id"],
                           reason=reason)
    remaining = c["remaining_fen"] - amount_fen
    await conn.execute("UPDATE fund_commitments SET remaining_fen = $2 WHERE entry_id = $1", commitment_id, remaining)
    if settle:
        await release(conn, commitment_id, actor=actor)
    return entry_id


async def reverse(conn: asyncpg.Connection, entry_id: uuid.UUID, *, reason: str, actor: str,
                  approver: str | None = None) -> uuid.UUID:
    """Undo a disbursement or an allocation with a `reversal` entry (the original stays; the
    ledger is append-only). A reversed disbursement returns its money to the fund's available
    balance; a reversed allocation returns it to the parent fund (both sides are reversed, and
    the child must still have it available). Each entry is reversed at most once. `approver`: who
    approved it when not the actor (a payment's 冲正, welfare.commands.reversals). Returns the
    reversal of `entry_id`."""
    _in_transaction(conn)
    if not reason or not reason.strip():
        raise RuleViolation("冲销须写明原因", field="reason", kind="reason-required")
    e = await conn.fetchrow("SELECT * FROM ledger_entries WHERE id = $1", entry_id)
    if e is None:
        raise RuleViolation("分录不存在", field="entry_id", status=404, kind="unknown-entry")
    if e["kind"] not in REVERSAL_EFFECTS:
        raise RuleViolation(f"{e['kind']} 类分录不能冲销（预留请用释放）", field="entry_id", status=409,
                            kind="not-reversible")
    # Lock the entry (both sides of an allocation, parent first): concurrent reversals of it queue
    # here and the later one sees the earlier one's reversal.
    if e["transfer_id"] is not None:
        sides = await conn.fetch("SELECT * FROM ledger_entries WHERE transfer_id = $1 ORDER BY kind DESC FOR UPDATE",
                                 e["transfer_id"])
    else:
        sides = await conn.fetch("SELECT * FROM ledger_entries WHERE id = $1 FOR UPDATE", entry_id)
    if await conn.fetchval("SELECT 1 FROM ledger_entries WHERE reverses_entry_id = ANY($1::uuid[])",
                           [side["id"] for side in sides]):
        raise RuleViolation("该分录已冲销", field="entry_id", status=409, kind="already-reversed")
    mine = None
    for side in sides:
        refusal = RuleViolation("该分录已冲销", field="entry_id", status=409, kind="already-reversed")
        async with refusing_duplicates(conn, refusal):
            rid = await _book(conn, side["fund_id"], "reversal", side["amount_fen"], actor=actor,
                              approver=approver or actor,
                              reversed_kind=side["kind"], reverses_entry_id=side["id"],
                              counterpart_fund_id=side["counterpart_fund_id"], transfer_id=side["transfer_id"],
                              commitment_id=side["commitment_id"], case_id=side["case_id"],
                              campaign_id=side["campaign_id"], reason=reason.strip())
        if side["id"] == entry_id:
            mine = rid
    return mine
