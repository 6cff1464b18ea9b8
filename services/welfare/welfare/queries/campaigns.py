"""Reads of seasonal campaigns: the kinds and their default caps, a campaign of the caller's
subtree with its budget, payments and what is left, the campaigns of the subtree with their
progress, the files a run did not pay in full and why (names as the caller may read them); the
terms of a launch and what its eligible households need against its budget (launch and preview)."""
from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from unionops.auth import Principal
from unionops.pii import mask_name
from unionops.problems import Problem, RuleViolation
from unionops.scope import row_in_scope
from welfare.domain.campaigns import LEVEL_ORDER, LEVELS, NOT_FOUND, NOT_PAID_REASONS, LaunchCampaign, Need, check_launch
from welfare.domain.funds import UNKNOWN_UNIT
from welfare.domain.money import money
from welfare.queries.funds import load_fund
from welfare.queries.members import shown_name
from unionops.paging import page


async def kind_defaults(conn: asyncpg.Connection) -> dict[str, asyncpg.Record]:
    return {r["kind"]: r for r in await conn.fetch("SELECT * FROM campaign_kind_defaults ORDER BY kind")}


async def load_campaign(conn: asyncpg.Connection, campaign_id: uuid.UUID, principal: Principal, *,
                        lock: bool = False) -> asyncpg.Record:
    return await row_in_scope(conn, principal, Problem(404, NOT_FOUND),
                              "SELECT * FROM campaigns WHERE id = $1" + (" FOR UPDATE" if lock else ""), campaign_id)


# What a campaign `c` paid out (gross: the budget it used) and what of it was reversed since (冲正:
# that money went back to the fund's available balance, not to the campaign's budget).
PAID_FIGURES = (
    "(SELECT coalesce(sum(amount_fen), 0) FROM campaign_payments p WHERE p.campaign_id = c.id) AS paid_fen,"
    " (SELECT count(*) FROM campaign_payments p WHERE p.campaign_id = c.id) AS paid_count,"
    " (SELECT coalesce(sum(p.amount_fen), 0) FROM campaign_payments p JOIN ledger_entries r"
    "   ON r.reverses_entry_id = p.ledger_entry_id WHERE p.campaign_id = c.id) AS reversed_fen,"
    " (SELECT count(*) FROM campaign_payments p JOIN ledger_entries r"
    "   ON r.reverses_entry_id = p.ledger_entry_id WHERE p.campaign_id = c.id) AS reversed_count")


async def campaign_view(conn: asyncpg.Connection, campaign_id: uuid.UUID) -> dict:
    c = await conn.fetchrow(
        "SELECT c.*, d.label AS kind_label, fc.remaining_fen,"
        f" {PAID_FIGURES}"
        " FROM campaigns c JOIN campaign_kind_defaults d ON d.kind = c.kind"
        " JOIN fund_commitments fc ON fc.entry_id = c.commitment_id WHERE c.id = $1", campaign_id)
    return {
        "id": c["id"], "name": c["name"], "kind": c["kind"], "kind_label": c["kind_label"], "org_id": c["org_id"],
        "fund_id": c["fund_id"], "commitment_id": c["commitment_id"], "year": c["year"],
        "budget": money(c["budget_fen"]), "per_payment_cap": money(c["per_payment_cap_fen"]),
        "per_person_year_cap": money(c["per_person_year_cap_fen"]),
        "level_amounts": {k: money(v) for k, v in c["level_amounts"].items()},
        "starts_on": c["starts_on"], "ends_on": c["ends_on"], "status": c["status"],
        "launched_by": c["launched_by"], "launched_at": c["launched_at"],
        "closed_by": c["closed_by"], "closed_at": c["closed_at"],
        "paid": money(c["paid_fen"]), "paid_count": c["paid_count"],
        "reversed": money(c["reversed_fen"]), "reversed_count": c["reversed_count"],
        "budget_left": money(c["remaining_fen"]),
        "allocation": c["allocation"],
        "household_cap": money(c["household_cap_fen"]) if c["household_cap_fen"] is not None else None,
    }


async def campaign(conn: asyncpg.Connection, campaign_id: uuid.UUID, principal: Principal) -> dict:
    await load_campaign(conn, campaign_id, principal)
    return await campaign_view(conn, campaign_id)


async def campaign_kinds(conn: asyncpg.Connection) -> list[dict]:
    return [{"kind": r["kind"], "label": r["label"], "usual_month": r["usual_month"],
             "per_payment_cap": money(r["per_payment_cap_fen"]),
             "per_person_year_cap": money(r["per_person_year_cap_fen"])}
            for r in (await kind_defaults(conn)).values()]


# ---- what eligible households need ---------------------------------------------------------------

# Every open file of the subtree not yet paid by the campaign `c` (a CTE the statement starts
# with), with the reason it is not paid (NULL: to be paid) and its amount within the per-payment
# cap and what is left of the member's per-person-per-year cap (that year's earlier payments of
# campaigns of the same kind, reversed ones not counted). $2 the day, $3 the level order.
WANTED = """
candidates AS (
    SELECT f.id AS file_id, f.member_id, f.union_id, f.org_path, f.level, f.opened_on,
           array_position($3::text[], f.level) AS priority,
           CASE WHEN m.member_id IS NULL THEN 'member_unknown'
                WHEN m.status <> 'active' THEN 'member_not_active'
                WHEN f.review_overdue OR f.review_due_on < $2 THEN 'review_overdue'
                WHEN NOT c.level_amounts ? f.level THEN 'no_amount_for_level'
           END AS reason,
           least((c.level_amounts ->> f.level)::bigint, c.per_payment_cap_fen) AS wanted,
           c.per_person_year_cap_fen - coalesce((
               SELECT sum(p.amount_fen) FROM campaign_payments p
                WHERE p.member_id = f.member_id AND p.year = c.year AND p.campaign_kind = c.kind
                  AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = p.ledger_entry_id)
           ), 0) AS person_room
      FROM c
      JOIN hardship_files f ON f.org_path @> ARRAY[c.org_id] AND f.status = 'open'
      LEFT JOIN members m ON m.member_id = f.member_id
     WHERE NOT EXISTS (SELECT 1 FROM campaign_payments p WHERE p.campaign_id = c.id AND p.file_id = f.id)
),
capped AS (   -- two files of one member in one run share the member's yearly room
    SELECT *, CASE WHEN reason IS NULL THEN greatest(0, least(wanted, person_room - coalesce(
                  sum(wanted) FILTER (WHERE reason IS NULL) OVER (
                      PARTITION BY member_id ORDER BY priority, opened_on, file_id
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) END AS amount
      FROM candidates
)
"""

# A launch's need: the campaign is not stored yet, its terms are parameters ($1 unit, $4 kind,
# $5 year, $6 level amounts, $7 per-payment cap, $8 per-person-year cap).
_NEED = """
WITH c AS (SELECT NULL::uuid AS id, $1::uuid AS org_id, $4::text AS kind, $5::int AS year,
                  $6::jsonb AS level_amounts, $7::bigint AS per_payment_cap_fen,
                  $8::bigint AS per_person_year_cap_fen),
""" + WANTED + """
SELECT count(*) FILTER (WHERE reason IS NULL AND amount > 0) AS households,
       coalesce(sum(amount) FILTER (WHERE reason IS NULL), 0)::bigint AS need_fen
  FROM capped
"""


async def launch_terms(conn: asyncpg.Connection, cmd: LaunchCampaign, actor: Principal) -> dict:
    """What a launch checks before it writes anything: the kind, the unit in the caller's
    subtree, the fund on the unit's path, the period, caps and amounts. Returns the unit, the
    fund and the caps in force."""
    defaults = (await kind_defaults(conn)).get(cmd.kind)
    if defaults is None:
        raise RuleViolation("未知的帮扶活动类型", field="kind", kind="unknown-campaign-kind")
    unit = await conn.fetchrow("SELECT org_id, org_path FROM org_units WHERE org_id = $1", cmd.org_id)
    if unit is None or not actor.covers(unit["org_path"]):  # out of scope: exactly as unknown
        raise RuleViolation(UNKNOWN_UNIT, field="org_id", kind="unknown-unit")
    fund = await load_fund(conn, cmd.fund_id, actor)
    if fund["org_id"] not in unit["org_path"]:
        raise RuleViolation("活动资金须来自本单位或其上级单位的专项资金", field="fund_id", kind="fund-outside-scope")
    per_payment, per_person = check_launch(cmd, default_per_payment_fen=defaults["per_payment_cap_fen"],
                                           default_per_person_year_fen=defaults["per_person_year_cap_fen"])
    return {"unit": unit, "fund": fund, "per_payment_cap_fen": per_payment, "per_person_year_cap_fen": per_person}


async def launch_need(conn: asyncpg.Connection, cmd: LaunchCampaign, terms: dict, *, today: date) -> Need:
    """What the households eligible on the campaign's first possible run day (its start, or
    today when it has started) need, against the budget."""
    as_of = max(today, cmd.starts_on)
    row = await conn.fetchrow(_NEED, cmd.org_id, as_of, list(LEVEL_ORDER), cmd.kind, cmd.starts_on.year,
                              dict(cmd.level_amounts), terms["per_payment_cap_fen"],
                              terms["per_person_year_cap_fen"])
    return Need(as_of=as_of, households=row["households"], need_fen=row["need_fen"], budget_fen=cmd.budget_fen)


async def preview(db, cmd: LaunchCampaign, principal: Principal, *, today: date) -> dict:
    """The launch's checks and its need against the budget, writing nothing."""
    async with db.acquire() as conn:
        terms = await launch_terms(conn, cmd, principal)
        return (await launch_need(conn, cmd, terms, today=today)).view()


# Files some run of the campaign reported not paid and no later run paid.
_UNPAID = ("(SELECT count(DISTINCT s.file_id) FROM campaign_run_skips s JOIN campaign_runs r ON r.id = s.run_id"
           " WHERE r.campaign_id = c.id AND NOT EXISTS (SELECT 1 FROM campaign_payments p"
           " WHERE p.campaign_id = c.id AND p.file_id = s.file_id))")

CAMPAIGN_ORDERS = {
    "-starts_on": "c.starts_on DESC, c.launched_at DESC, c.id",
    "starts_on": "c.starts_on, c.launched_at, c.id",
    "name": "c.name, c.id",
}


async def list_campaigns(conn: asyncpg.Connection, principal: Principal, *, year: int | None, status: str | None,
                         kind: str | None, unit: uuid.UUID | None, sort: str, limit: int, offset: int) -> dict:
    """The campaigns of the caller's subtree and their progress: households paid and not paid,
    the amount paid against the budget planned, what is left."""
    from_where = (
        "FROM campaigns c JOIN campaign_kind_defaults d ON d.kind = c.kind"
        " JOIN fund_commitments fc ON fc.entry_id = c.commitment_id LEFT JOIN org_units u ON u.org_id = c.org_id"
        " WHERE $1 = ANY(c.org_path) AND ($2::int IS NULL OR c.year = $2) AND ($3::text IS NULL OR c.status = $3)"
        " AND ($4::text IS NULL OR c.kind = $4) AND ($5::uuid IS NULL OR $5 = ANY(c.org_path))")
    select = (
        "c.id, c.name, c.kind, d.label AS kind_label, c.org_id, u.name AS org_name, c.year, c.status, c.starts_on,"
        " c.ends_on, c.budget_fen, fc.remaining_fen,"
        f" {PAID_FIGURES}, {_UNPAID} AS unpaid_count")

    def row(r) -> dict:
        return {k: r[k] for k in ("id", "name", "kind", "kind_label", "org_id", "org_name", "year", "status",
                                  "starts_on", "ends_on", "paid_count", "unpaid_count", "reversed_count")} | {
            "budget": money(r["budget_fen"]), "paid": money(r["paid_fen"]), "budget_left": money(r["remaining_fen"]),
            "reversed": money(r["reversed_fen"]),
            # per mille of the budget paid out, as an integer (no float in money figures)
            "paid_permille": r["paid_fen"] * 1000 // r["budget_fen"]}
    return await page(conn, select, from_where, CAMPAIGN_ORDERS[sort], [principal.org_id, year, status, kind, unit],
                      limit=limit, offset=offset, row=row)


def not_paid_row(r: asyncpg.Record, principal: Principal | None) -> dict:
    """A file a run did not pay: whose, of which unit, and why in Chinese. Without a principal
    (what a run's answer keeps under its Idempotency-Key) the name is masked."""
    name = r["member_name"] or ""
    return {"file_id": r["file_id"], "member_id": r["member_id"],
            "member_name": shown_name(name, principal) if principal else mask_name(name),
            "union_id": r["union_id"], "union_name": r["union_name"], "level": r["level"],
            "level_label": LEVELS.get(r["level"], r["level"]), "reason": r["reason"],
            "reason_text": NOT_PAID_REASONS[r["reason"]], "wanted_fen": r["wanted_fen"], "paid_fen": r["paid_fen"]}


_NOT_PAID_FROM = (
    "FROM campaign_run_skips s JOIN hardship_files f ON f.id = s.file_id"
    " LEFT JOIN members m ON m.member_id = s.member_id LEFT JOIN org_units u ON u.org_id = f.union_id"
    " WHERE s.run_id = $1 AND ($2::text IS NULL OR s.reason = $2)")
_NOT_PAID_SELECT = ("s.file_id, s.member_id, m.name AS member_name, f.union_id,"
                    " coalesce(u.name, f.union_name) AS union_name, f.level, s.reason, s.wanted_fen, s.paid_fen")
# The run's payment order: 深度困难, 意外致困, 相对困难; then the oldest file.
_NOT_PAID_ORDER = f"array_position(ARRAY{list(LEVEL_ORDER)}::text[], f.level), f.opened_on, f.id"


async def not_paid_of_run(conn: asyncpg.Connection, run_id: uuid.UUID, *, limit: int) -> list[dict]:
    """The first `limit` files a run did not pay, in payment order, names masked (a run's answer)."""
    rows = await conn.fetch(f"SELECT {_NOT_PAID_SELECT} {_NOT_PAID_FROM} ORDER BY {_NOT_PAID_ORDER} LIMIT $3",
                            run_id, None, limit)
    return [not_paid_row(r, None) for r in rows]


async def load_run(conn: asyncpg.Connection, campaign_id: uuid.UUID, run_id: uuid.UUID,
                   principal: Principal) -> asyncpg.Record:
    """A run of a campaign of the caller's subtree; 404 as for an unknown campaign otherwise."""
    await load_campaign(conn, campaign_id, principal)
    run = await conn.fetchrow("SELECT * FROM campaign_runs WHERE id = $1 AND campaign_id = $2", run_id, campaign_id)
    if run is None:
        raise Problem(404, NOT_FOUND)
    return run


async def run_not_paid(conn: asyncpg.Connection, campaign_id: uuid.UUID, run_id: uuid.UUID, principal: Principal,
                       *, reason: str | None, limit: int, offset: int) -> dict:
    """Every file the run did not pay, paged, with names as the caller may read them."""
    await load_run(conn, campaign_id, run_id, principal)
    return await page(conn, _NOT_PAID_SELECT, _NOT_PAID_FROM, _NOT_PAID_ORDER, [run_id, reason],
                      limit=limit, offset=offset, row=lambda r: not_paid_row(r, principal))
