"""Commands of funds (专项帮扶资金): creating a fund under a parent fund, crediting a root fund
from the budget, allocating down the tree. The movements themselves are welfare.commands.ledger."""
from __future__ import annotations

import uuid
from datetime import date

from opentelemetry import trace

from unionops.auth import Principal
from unionops.problems import RuleViolation
from unionops.unit_of_work import UnitOfWork, refusing_duplicates
from welfare.commands import ledger
from welfare.domain.funds import UNKNOWN_UNIT, CreateFund, fund_allocated
from welfare.queries import funds as queries


async def create_fund(uow: UnitOfWork, cmd: CreateFund, actor: Principal) -> dict:
    """A fund belongs to a known unit of the caller's subtree. A root fund (no parent) is the
    federation's to create; a child fund's unit lies in its parent fund's unit's subtree, and both
    are for the same year."""
    conn = uow.conn
    unit = await conn.fetchrow("SELECT org_id, org_path, name FROM org_units WHERE org_id = $1", cmd.org_id)
    if unit is None or not actor.covers(unit["org_path"]):  # out of scope: exactly as unknown
        raise RuleViolation(UNKNOWN_UNIT, field="org_id", kind="unknown-unit")
    if cmd.parent_fund_id is None:
        actor.require("admin")
    else:
        # Staff of a district may open their fund under the city's: the parent need not be in
        # their scope, only on their unit's path (and its unit's subtree is all that is said).
        parent = await conn.fetchrow("SELECT org_id, year FROM funds WHERE id = $1", cmd.parent_fund_id)
        if parent is None or parent["org_id"] not in unit["org_path"]:
            raise RuleViolation("下级资金须属于上级资金所属组织的下级单位", field="org_id", kind="outside-parent-subtree")
        if parent["year"] != cmd.year:
            raise RuleViolation(f"下级资金年度须与上级资金一致（{parent['year']}）", field="year", kind="year-mismatch")
    fund_id = uuid.uuid4()
    refusal = RuleViolation("该单位本年度已有同名专项资金", field="name", status=409, kind="duplicate-fund")
    async with refusing_duplicates(conn, refusal):
        await conn.execute(
            "INSERT INTO funds (id, org_id, org_path, name, year, parent_fund_id, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            fund_id, unit["org_id"], unit["org_path"], cmd.name, cmd.year, cmd.parent_fund_id, actor.subject)
    await conn.execute("INSERT INTO fund_balances (fund_id) VALUES ($1)", fund_id)
    trace.get_current_span().set_attribute("fund.id", str(fund_id))
    return await queries.fund_view(conn, fund_id)


async def credit_budget(uow: UnitOfWork, fund_id: uuid.UUID, amount_fen: int, actor: Principal, reason: str | None,
                        today: date) -> dict:
    """Budget money enters the tree at a root fund; FundAllocated with no source fund."""
    conn = uow.conn
    fund = await queries.load_fund(conn, fund_id, actor)
    actor.require("admin")
    entry_id = await ledger.credit_budget(conn, fund["id"], amount_fen, actor=actor.subject, reason=reason)
    await uow.stage(fund_allocated(fund_id=fund["id"], from_fund_id=None, org_id=fund["org_id"],
                                   org_path=fund["org_path"], amount_fen=amount_fen, entry_id=entry_id,
                                   by=actor.subject, on=today))
    return {"entry_id": entry_id, "fund": await queries.fund_view(conn, fund["id"])}


async def allocate(uow: UnitOfWork, fund_id: uuid.UUID, to_fund_id: uuid.UUID, amount_fen: int, actor: Principal,
                   reason: str | None, today: date) -> dict:
    """Allocate (拨付) from a fund of the caller's subtree to one of its child funds."""
    conn = uow.conn
    fund = await queries.load_fund(conn, fund_id, actor)
    actor.require_scope(fund["org_path"])
    child = await queries.load_fund(conn, to_fund_id, actor, field="to_fund_id")
    out_id, in_id = await ledger.allocate(conn, fund["id"], child["id"], amount_fen, actor=actor.subject,
                                          reason=reason)
    await uow.stage(fund_allocated(fund_id=child["id"], from_fund_id=fund["id"], org_id=child["org_id"],
                                   org_path=child["org_path"], amount_fen=amount_fen, entry_id=in_id,
                                   by=actor.subject, on=today))
    return {"out_entry_id": out_id, "in_entry_id": in_id, "from_fund": await queries.fund_view(conn, fund["id"]),
            "to_fund": await queries.fund_view(conn, child["id"])}
