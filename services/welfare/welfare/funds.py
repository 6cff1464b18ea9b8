"""Funds (专项帮扶资金) as units hold them: the organisation tree welfare keeps from membership's
events, creating funds under a parent fund, allocating down the tree, and the audit (经审)
report of a fund over a period. Ledger movements themselves are in `welfare.ledger`."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg
from opentelemetry import trace

from contracts.events import FundAllocated, UnionEstablished
from unionops import outbox
from unionops.auth import Principal
from unionops.clock import FEDERATION_TIMEZONE, day_start, local_time, local_today
from unionops.envelope import Envelope
from unionops.problems import Problem, RuleViolation
from welfare import ledger
from welfare.money import ENTRY_KINDS, money

UNKNOWN_UNIT = "组织不存在：尚未建立或尚未同步"
NOT_FOUND = "专项资金不存在或不在您的管辖范围内"


# ---- the organisation tree (projection) ----------------------------------------------------------

async def project_union_established(conn: asyncpg.Connection, event: UnionEstablished, envelope: Envelope) -> None:
    """Keep the unit, so funds and campaigns can be scoped to it. Upsert: replays are harmless."""
    await conn.execute(
        "INSERT INTO org_units (org_id, parent_id, org_path, name, level, last_event_id)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (org_id) DO UPDATE SET parent_id = EXCLUDED.parent_id, org_path = EXCLUDED.org_path,"
        " name = EXCLUDED.name, level = EXCLUDED.level, last_event_id = EXCLUDED.last_event_id, updated_at = now()",
        event.org_id, event.parent_id, event.org_path, event.name, event.level, envelope.id)


# ---- funds ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CreateFund:
    org_id: uuid.UUID
    name: str
    year: int
    parent_fund_id: uuid.UUID | None


async def load_fund(conn: asyncpg.Connection, fund_id: uuid.UUID, principal: Principal,
                    field: str = "fund_id") -> asyncpg.Record:
    """The fund, if the caller's subtree holds it; otherwise 404 (existence does not leak)."""
    row = await conn.fetchrow("SELECT * FROM funds WHERE id = $1", fund_id)
    if row is None or not principal.covers(row["org_path"]):
        raise Problem(404, NOT_FOUND, errors=[{"field": field, "message": NOT_FOUND}])
    return row


async def create_fund(conn: asyncpg.Connection, cmd: CreateFund, actor: Principal) -> dict:
    """A fund belongs to a known unit of the caller's subtree. A root fund (no parent) is the
    federation's to create; a child fund's unit lies in its parent fund's unit's subtree, and both
    are for the same year."""
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
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO funds (id, org_id, org_path, name, year, parent_fund_id, created_by)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                fund_id, unit["org_id"], unit["org_path"], cmd.name, cmd.year, cmd.parent_fund_id, actor.subject)
    except asyncpg.UniqueViolationError:
        raise RuleViolation("该单位本年度已有同名专项资金", field="name", status=409, kind="duplicate-fund") from None
    await conn.execute("INSERT INTO fund_balances (fund_id) VALUES ($1)", fund_id)
    trace.get_current_span().set_attribute("fund.id", str(fund_id))
    return await fund_view(conn, fund_id)


async def fund_view(conn: asyncpg.Connection, fund_id: uuid.UUID) -> dict:
    row = await conn.fetchrow(
        "SELECT f.id, f.org_id, u.name AS org_name, f.name, f.year, f.parent_fund_id, f.created_by, f.created_at,"
        " b.allocated_fen, b.available_fen, b.committed_fen, b.disbursed_fen"
        " FROM funds f JOIN fund_balances b ON b.fund_id = f.id LEFT JOIN org_units u ON u.org_id = f.org_id"
        " WHERE f.id = $1", fund_id)
    out = {k: row[k] for k in ("id", "org_id", "org_name", "name", "year", "parent_fund_id", "created_by",
                               "created_at")}
    out["balance"] = {k.removesuffix("_fen"): money(row[k])
                      for k in ("allocated_fen", "available_fen", "committed_fen", "disbursed_fen")}
    return out


async def credit_budget(conn: asyncpg.Connection, fund: asyncpg.Record, amount_fen: int, actor: Principal,
                        reason: str | None) -> dict:
    """Budget money enters the tree at a root fund; FundAllocated with no source fund."""
    actor.require("admin")
    entry_id = await ledger.credit_budget(conn, fund["id"], amount_fen, actor=actor.subject, reason=reason)
    await outbox.record(conn, FundAllocated(
        fund_id=fund["id"], from_fund_id=None, org_id=fund["org_id"], org_path=fund["org_path"], amount_fen=amount_fen,
        ledger_entry_id=entry_id, allocated_by=actor.subject, allocated_on=local_today()))
    return {"entry_id": entry_id, "fund": await fund_view(conn, fund["id"])}


async def allocate(conn: asyncpg.Connection, fund: asyncpg.Record, to_fund_id: uuid.UUID, amount_fen: int,
                   actor: Principal, reason: str | None) -> dict:
    """Allocate (拨付) from a fund of the caller's subtree to one of its child funds."""
    actor.require_scope(fund["org_path"])
    child = await load_fund(conn, to_fund_id, actor, field="to_fund_id")
    out_id, in_id = await ledger.allocate(conn, fund["id"], child["id"], amount_fen, actor=actor.subject,
                                          reason=reason)
    await outbox.record(conn, FundAllocated(
        fund_id=child["id"], from_fund_id=fund["id"], org_id=child["org_id"], org_path=child["org_path"],
        amount_fen=amount_fen, ledger_entry_id=in_id, allocated_by=actor.subject, allocated_on=local_today()))
    return {"out_entry_id": out_id, "in_entry_id": in_id, "from_fund": await fund_view(conn, fund["id"]),
            "to_fund": await fund_view(conn, child["id"])}


# ---- the ledger and the audit (经审) -------------------------------------------------------------

_ENTRY_COLUMNS = """
e.id, e.seq, e.kind, e.amount_fen, e.counterpart_fund_id, cf.name AS counterpart_fund_name, e.commitment_id,
e.case_id, e.campaign_id, c.name AS campaign_name, e.reverses_entry_id, r.kind AS reversed_kind, e.approver,
e.actor, e.reason, e.created_at
"""
_ENTRY_FROM = """
FROM ledger_entries e
LEFT JOIN funds cf ON cf.id = e.counterpart_fund_id
LEFT JOIN campaigns c ON c.id = e.campaign_id
LEFT JOIN ledger_entries r ON r.id = e.reverses_entry_id
"""


def entry_view(row: asyncpg.Record) -> dict:
    out = dict(row)
    out["amount"] = money(row["amount_fen"])
    return out


async def ledger_page(conn: asyncpg.Connection, fund_id: uuid.UUID, *, after_seq: int, limit: int) -> list[dict]:
    rows = await conn.fetch(f"SELECT {_ENTRY_COLUMNS} {_ENTRY_FROM} WHERE e.fund_id = $1 AND e.seq > $2"
                            " ORDER BY e.seq LIMIT $3", fund_id, after_seq, limit)
    return [entry_view(r) for r in rows]


async def audit_report(conn: asyncpg.Connection, fund: asyncpg.Record, start: date, end: date,
                       tz: str = FEDERATION_TIMEZONE) -> dict:
    """Every movement of the fund from `start` to `end` (inclusive) with its case, campaign and
    approver; totals per kind; the balance at the opening and at the close of the period, both
    recomputed from the ledger (not read from the balance row). Days are the federation's (`tz`),
    whatever zone the server runs in: 07:30 Beijing on 1 January belongs to the new year; the
    movements' times are shown in that zone too."""
    if end < start:
        raise RuleViolation("结束日期不能早于开始日期", field="to", kind="period")
    t0, t1 = day_start(start, tz), day_start(end + timedelta(days=1), tz)
    async with conn.transaction(isolation="repeatable_read", readonly=True):  # one snapshot for every figure
        opening = (await ledger.sums_from_entries(conn, [fund["id"]], t0)).get(fund["id"])
        closing = (await ledger.sums_from_entries(conn, [fund["id"]], t1)).get(fund["id"])
        rows = await conn.fetch(f"SELECT {_ENTRY_COLUMNS} {_ENTRY_FROM} WHERE e.fund_id = $1 AND e.created_at >= $2"
                                " AND e.created_at < $3 ORDER BY e.seq", fund["id"], t0, t1)
    zero = {"allocated_fen": 0, "available_fen": 0, "committed_fen": 0, "disbursed_fen": 0}
    totals = {k: 0 for k in ENTRY_KINDS}
    for r in rows:
        totals[r["kind"]] += r["amount_fen"]

    def figures(sums):
        return {k.removesuffix("_fen"): money(v) for k, v in (sums or zero).items()}

    return {
        "fund": {"id": fund["id"], "name": fund["name"], "org_id": fund["org_id"], "year": fund["year"]},
        "from": start, "to": end,
        "opening_balance": figures(opening), "closing_balance": figures(closing),
        "totals": {k: money(v) for k, v in totals.items()},
        "movement_count": len(rows),
        "movements": [entry_view(r) | {"created_at": local_time(r["created_at"], tz)} for r in rows],
    }


AUDIT_CSV_COLUMNS = ("seq", "created_at", "kind", "amount_fen", "amount_yuan", "case_id", "campaign_id",
                     "campaign_name", "approver", "actor", "counterpart_fund_id", "reverses_entry_id", "reason", "id")


def audit_csv_rows(report: dict) -> list[list]:
    rows = []
    for m in report["movements"]:
        rows.append([m["seq"], m["created_at"].isoformat(), m["kind"], m["amount_fen"], m["amount"]["yuan"],
                     m["case_id"] or "", m["campaign_id"] or "", m["campaign_name"] or "", m["approver"] or "",
                     m["actor"], m["counterpart_fund_id"] or "", m["reverses_entry_id"] or "", m["reason"] or "",
                     m["id"]])
    return rows
