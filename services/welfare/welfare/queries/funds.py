"""Reads of funds (专项帮扶资金): a fund in the caller's subtree and its balances, the funds of the
subtree with their balances, a fund's ledger, the audit (经审) report of a period, and each fund's
balance recomputed from its ledger entries."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta

import asyncpg

from unionops.auth import Principal
from unionops.clock import FEDERATION_TIMEZONE, day_start, local_time
from unionops.problems import Problem, RuleViolation
from unionops.scope import row_in_scope
from welfare.domain.funds import NOT_FOUND
from welfare.domain.money import EFFECTS, ENTRY_KINDS, REVERSAL_EFFECTS, money
from unionops.paging import page


async def load_fund(conn: asyncpg.Connection, fund_id: uuid.UUID, principal: Principal,
                    field: str = "fund_id") -> asyncpg.Record:
    """The fund, if the caller's subtree holds it; otherwise 404 (existence does not leak)."""
    return await row_in_scope(conn, principal, Problem(404, NOT_FOUND, errors=[{"field": field, "message": NOT_FOUND}]),
                              "SELECT * FROM funds WHERE id = $1", fund_id)


_FUND_SELECT = ("f.id, f.org_id, u.name AS org_name, f.name, f.year, f.parent_fund_id, f.created_by, f.created_at,"
                " b.allocated_fen, b.available_fen, b.committed_fen, b.disbursed_fen")
_FUND_FROM = "FROM funds f JOIN fund_balances b ON b.fund_id = f.id LEFT JOIN org_units u ON u.org_id = f.org_id"


def _fund_row(row: asyncpg.Record) -> dict:
    out = {k: row[k] for k in ("id", "org_id", "org_name", "name", "year", "parent_fund_id", "created_by",
                               "created_at")}
    out["balance"] = {k.removesuffix("_fen"): money(row[k])
                      for k in ("allocated_fen", "available_fen", "committed_fen", "disbursed_fen")}
    return out


async def fund_view(conn: asyncpg.Connection, fund_id: uuid.UUID) -> dict:
    return _fund_row(await conn.fetchrow(f"SELECT {_FUND_SELECT} {_FUND_FROM} WHERE f.id = $1", fund_id))


FUND_ORDERS = {
    "-year": "f.year DESC, u.name, f.name, f.id",
    "unit": "u.name, f.year DESC, f.name, f.id",
    "-available": "b.available_fen DESC, f.id",
}


async def list_funds(conn: asyncpg.Connection, principal: Principal, *, year: int | None, unit: uuid.UUID | None,
                     sort: str, limit: int, offset: int) -> dict:
    """The funds of the caller's subtree with their balances and their unit's name."""
    from_where = (_FUND_FROM + " WHERE $1 = ANY(f.org_path) AND ($2::int IS NULL OR f.year = $2)"
                  " AND ($3::uuid IS NULL OR $3 = ANY(f.org_path))")
    return await page(conn, _FUND_SELECT, from_where, FUND_ORDERS[sort], [principal.org_id, year, unit],
                      limit=limit, offset=offset, row=_fund_row)


def _effects_table() -> tuple[list, list, list, list, list, list]:
    """EFFECTS as SQL arrays, so that sums over the ledger use the same arithmetic as the writes."""
    rows = [(k, None, d) for k, d in EFFECTS.items()] + [("reversal", k, d) for k, d in REVERSAL_EFFECTS.items()]
    return ([r[0] for r in rows], [r[1] for r in rows], [r[2].allocated for r in rows],
            [r[2].available for r in rows], [r[2].committed for r in rows], [r[2].disbursed for r in rows])


LEDGER_SUMS = """
WITH fx (kind, reversed_kind, a, v, c, d) AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::int[], $6::int[]))
SELECT e.fund_id,
       coalesce(sum(e.amount_fen * fx.a), 0)::bigint AS allocated_fen,
       coalesce(sum(e.amount_fen * fx.v), 0)::bigint AS available_fen,
       coalesce(sum(e.amount_fen * fx.c), 0)::bigint AS committed_fen,
       coalesce(sum(e.amount_fen * fx.d), 0)::bigint AS disbursed_fen
  FROM ledger_entries e
  LEFT JOIN ledger_entries r ON r.id = e.reverses_entry_id
  JOIN fx ON fx.kind = e.kind AND fx.reversed_kind IS NOT DISTINCT FROM r.kind
 WHERE ($7::uuid[] IS NULL OR e.fund_id = ANY($7::uuid[]))
   AND ($8::timestamptz IS NULL OR e.created_at < $8::timestamptz)
 GROUP BY e.fund_id
"""


async def sums_from_entries(conn: asyncpg.Connection, fund_ids: list[uuid.UUID] | None = None,
                            before=None) -> dict[uuid.UUID, dict[str, int]]:
    """Each fund's balance recomputed from its ledger entries alone (optionally only those booked
    before `before`): what the balance row must equal, and the audit's opening/closing figures."""
    rows = await conn.fetch(LEDGER_SUMS, *_effects_table(), fund_ids, before)
    return {r["fund_id"]: {k: r[k] for k in ("allocated_fen", "available_fen", "committed_fen", "disbursed_fen")}
            for r in rows}


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
        raise RuleViolation("结束日期不能早于开始日期", field="query.to", kind="period")
    t0, t1 = day_start(start, tz), day_start(end + timedelta(days=1), tz)
    async with conn.transaction(isolation="repeatable_read", readonly=True):  # one snapshot for every figure
        opening = (await sums_from_entries(conn, [fund["id"]], t0)).get(fund["id"])
        closing = (await sums_from_entries(conn, [fund["id"]], t1)).get(fund["id"])
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


def audit_csv(report: dict) -> str:
    """The report as the CSV auditors open in a spreadsheet: the movements, then the opening and
    closing available balance and the totals per kind. Starts with a BOM so that spreadsheet
    programs read the Chinese text as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_CSV_COLUMNS)
    writer.writerows(audit_csv_rows(report))
    writer.writerow([])
    writer.writerow(["期初可用", report["opening_balance"]["available"]["yuan"], "期末可用",
                     report["closing_balance"]["available"]["yuan"]])
    for kind, total in report["totals"].items():
        writer.writerow(["合计", kind, total["fen"], total["yuan"]])
    return "\ufeff" + out.getvalue()


async def fund(conn: asyncpg.Connection, fund_id: uuid.UUID, principal: Principal) -> dict:
    """A fund of the caller's subtree and its balances."""
    await load_fund(conn, fund_id, principal)
    return await fund_view(conn, fund_id)


async def fund_ledger(conn: asyncpg.Connection, fund_id: uuid.UUID, principal: Principal, *, after_seq: int,
                      limit: int) -> list[dict]:
    await load_fund(conn, fund_id, principal)
    return await ledger_page(conn, fund_id, after_seq=after_seq, limit=limit)


async def fund_audit(db: asyncpg.Pool, fund_id: uuid.UUID, principal: Principal, start: date, end: date,
                     tz: str) -> dict:
    """The audit report on a connection of its own: its figures come from one snapshot."""
    async with db.acquire() as conn:
        return await audit_report(conn, await load_fund(conn, fund_id, principal), start, end, tz)
