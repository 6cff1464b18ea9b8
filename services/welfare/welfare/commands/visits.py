"""Commands of visits (走访慰问, "五必访"): recorded against the member. The notes hold health and
family circumstances and are encrypted; scope follows the member's current union
(members.org_path), so a member's visit history goes with them when they transfer or their union
moves.

A gift (慰问金, `gift_fen`) comes out of a fund like any other aid: committed and disbursed in the
visit's unit of work (ledger entries carrying the visit's id as their case), so the fund's balance
covers it or the visit is refused (409 insufficient-funds) and nothing is written; and it is
announced like any other payment (AidDisbursed with `visit_id`)."""
from __future__ import annotations

import uuid
from datetime import date

from opentelemetry import trace

from contracts.events import AidDisbursed

from unionops.auth import Principal
from unionops.backdating import check_dated
from unionops.pii import Vault
from unionops.problems import RuleViolation
from unionops.unit_of_work import UnitOfWork
from welfare.commands import ledger
from welfare.domain.visits import VISIT_KINDS, check_gift
from welfare.queries import visits as queries
from welfare.queries.funds import load_fund


async def record_visit(uow: UnitOfWork, *, member_id: uuid.UUID, kind: str, visited_on: date,
                       visitors: list[str], notes: str, gift_fen: int | None, actor: Principal, vault: Vault,
                       today: date, max_backdate_days: int | None = None, fund_id: uuid.UUID | None = None) -> dict:
    """Record a visit to a member of the caller's subtree. Returns no notes (the Idempotency-Key
    table keeps this body). A visit is entered on the day or up to `max_backdate_days` later; the
    row keeps who entered it and when (recorded_by, recorded_at) beside the day of the visit."""
    conn = uow.conn
    member = await queries.member_in_scope(conn, member_id, actor, writing=True)
    if kind not in VISIT_KINDS:
        raise RuleViolation(f"走访类型须为 {'、'.join(VISIT_KINDS)} 之一", field="kind")
    check_dated(visited_on, today, field="visited_on", what="走访日期", max_backdate_days=max_backdate_days)
    visit_id = uuid.uuid4()
    entry_id = None
    if check_gift(gift_fen, fund_id):
        fund = await load_fund(conn, fund_id, actor)
        if fund["org_id"] not in member["org_path"]:
            raise RuleViolation("慰问金只能从会员所属工会或其上级工会的专项资金支出", field="fund_id",
                                kind="fund-out-of-reach")
        commitment = await ledger.commit(conn, fund["id"], gift_fen, case_id=visit_id, approver=actor.subject,
                                         actor=actor.subject)
        entry_id = await ledger.disburse(conn, commitment, gift_fen, actor=actor.subject,
                                         reason=f"走访慰问金（{VISIT_KINDS[kind]}，{visited_on.isoformat()}）")
    row = await conn.fetchrow(
        "INSERT INTO visits (id, member_id, union_id, kind, visited_on, visitors, notes_enc, gift_fen, recorded_by,"
        " fund_id, ledger_entry_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " RETURNING id, member_id, union_id, kind, visited_on, visitors, gift_fen, fund_id, ledger_entry_id,"
        " recorded_by, recorded_at",
        visit_id, member_id, member["union_id"], kind, visited_on, visitors, vault.encrypt("visit_notes", notes),
        gift_fen, actor.subject, fund_id if entry_id else None, entry_id)
    if entry_id:
        # A gift is aid paid like any other: announced as a payment, so the household is told and
        # every reader of payments (dashboards, audits) sees the fund's money go out.
        await uow.stage(AidDisbursed(case_id=visit_id, visit_id=visit_id, member_id=member_id,
                                     union_id=member["union_id"], org_path=member["org_path"], kind="living",
                                     amount_fen=gift_fen, fund_id=fund["id"], ledger_entry_id=entry_id,
                                     paid_on=visited_on))
    trace.get_current_span().set_attribute("visit.id", str(visit_id))
    return dict(row) | {"kind_label": VISIT_KINDS[kind]}
