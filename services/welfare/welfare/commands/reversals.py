"""Commands of reversals (冲正) of wrong payments: one officer asks with a reason, a second one
approves (四眼原则: never the one who asked) or rejects. Approval books the reversal entry
(welfare.commands.ledger.reverse: the money goes back to the fund's available balance, the
payment stays in the ledger beside it) and tells the household (AidReversed). A payment is
reversed at most once; a reversal is never reversed. The request row is the audit trail: who
asked, when and why; who decided, when, and the reversal entry."""
from __future__ import annotations

import uuid
from datetime import date

from opentelemetry import trace

from unionops.auth import Principal
from unionops.problems import RuleViolation
from unionops.unit_of_work import UnitOfWork, refusing_duplicates
from unionops.scope import row_in_scope
from welfare.commands import ledger
from welfare.domain import reversals as domain
from welfare.queries import reversals as queries


async def request(uow: UnitOfWork, entry_id: uuid.UUID, reason: str, actor: Principal) -> dict:
    """Ask for the reversal of a payment of a fund in the caller's subtree."""
    conn = uow.conn
    actor.require("write")
    domain.check_person(actor.role)
    entry = await row_in_scope(
        conn, actor, RuleViolation(domain.ENTRY_NOT_FOUND, field="entry_id", status=404, kind="unknown-entry"),
        "SELECT e.id, e.kind, e.fund_id, e.amount_fen, f.org_path FROM ledger_entries e"
        " JOIN funds f ON f.id = e.fund_id WHERE e.id = $1", entry_id)
    domain.check_reversible(entry["kind"])
    if await conn.fetchval("SELECT 1 FROM ledger_entries WHERE reverses_entry_id = $1", entry_id):
        raise RuleViolation("该笔支付已冲正", field="entry_id", status=409, kind="already-reversed")
    reversal_id = uuid.uuid4()
    # One live request per payment (a unique index): a second one, also a racing one, is refused.
    async with refusing_duplicates(conn, RuleViolation("该笔支付已有待审批的冲正申请", field="entry_id", status=409,
                                                       kind="reversal-pending")):
        await conn.execute("INSERT INTO payment_reversals (id, entry_id, fund_id, org_path, amount_fen, reason,"
                           " requested_by) SELECT $1, id, fund_id, $2, amount_fen, $3, $4 FROM ledger_entries"
                           " WHERE id = $5", reversal_id, entry["org_path"], reason, actor.subject, entry_id)
    trace.get_current_span().set_attribute("reversal.id", str(reversal_id))
    return await queries.reversal(conn, reversal_id, actor)


async def approve(uow: UnitOfWork, reversal_id: uuid.UUID, actor: Principal, *, note: str | None,
                  today: date) -> dict:
    """A second officer approves: the reversal is booked and the household told."""
    conn = uow.conn
    actor.require("write")
    domain.check_person(actor.role)
    r = await queries.load_reversal(conn, reversal_id, actor, lock=True)
    domain.check_decider(r["requested_by"], actor.subject, r["status"])
    entry = await conn.fetchrow("SELECT * FROM ledger_entries WHERE id = $1", r["entry_id"])
    payee = await queries.payee(conn, entry["id"])
    if payee is None:
        raise RuleViolation("无法确定该笔支付的收款人，不能冲正", field="entry_id", status=409, kind="unknown-payee")
    # The ledger entry says who asked (actor) and who approved (approver), and why.
    reversal_entry = await ledger.reverse(conn, entry["id"], reason=r["reason"], actor=r["requested_by"],
                                          approver=actor.subject)
    await conn.execute(
        "UPDATE payment_reversals SET status = 'approved', decided_by = $2, decided_at = now(), decision_note = $3,"
        " reversal_entry_id = $4 WHERE id = $1", reversal_id, actor.subject, note, reversal_entry)
    await uow.stage(domain.aid_reversed(payee=payee, entry=entry, reversal_entry_id=reversal_entry, on=today))
    return await queries.reversal(conn, reversal_id, actor)


async def reject(uow: UnitOfWork, reversal_id: uuid.UUID, actor: Principal, *, note: str | None) -> dict:
    """A second officer rejects: nothing is booked; the payment may be asked for again."""
    conn = uow.conn
    actor.require("write")
    domain.check_person(actor.role)
    r = await queries.load_reversal(conn, reversal_id, actor, lock=True)
    domain.check_decider(r["requested_by"], actor.subject, r["status"])
    await conn.execute("UPDATE payment_reversals SET status = 'rejected', decided_by = $2, decided_at = now(),"
                       " decision_note = $3 WHERE id = $1", reversal_id, actor.subject, note)
    return await queries.reversal(conn, reversal_id, actor)
