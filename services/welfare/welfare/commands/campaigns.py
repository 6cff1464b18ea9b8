"""Commands of seasonal campaigns (送温暖, 金秋助学, 中秋国庆慰问, 送清凉): a unit launches one
with a budget committed from its fund; a run pays every eligible hardship file of the unit's
subtree at once; closing gives back what is left.

A run is set-based: the plan (who is paid how much, who is not and why) is one SELECT into a
temporary table; ledger entries, payments and skips are each one INSERT … SELECT from it, and
the AidDisbursed events one `uow.stage_select` of it; the campaign's commitment and the fund's
balance change once by the run's total. Rules it applies, in SQL:
- eligible: an open hardship file in the subtree whose review is not overdue and whose member is
  active in welfare's member projection;
- a file is paid at most once per campaign (unique (campaign_id, file_id)), so a second run pays
  only files that became eligible since;
- amount = the campaign's amount for the file's level, at most the per-payment cap and what is
  left of the member's per-person-per-year cap (that year's earlier payments of campaigns of the
  same kind, reversed ones not counted);
- never beyond what is left of the budget: files are paid in a fixed order (深度困难, 意外致困,
  相对困难; then the earliest opened file; then file id) and the run stops at the first that no
  longer fits — every later file is reported `budget_exhausted`.
"""
from __future__ import annotations

import uuid
from datetime import date

from opentelemetry import trace

from contracts.events import AidDisbursed, CampaignLaunched
from unionops.auth import Principal
from unionops.backdating import backdating, check_dated
from unionops.problems import RuleViolation
from unionops.unit_of_work import UnitOfWork
from welfare.commands import ledger
from welfare.domain.campaigns import LEVEL_ORDER, NOT_PAID_REASONS, LaunchCampaign, check_launch
from welfare.domain.funds import UNKNOWN_UNIT
from welfare.domain.money import EFFECTS, money
from welfare.queries import campaigns as queries
from welfare.queries.funds import load_fund


async def launch(uow: UnitOfWork, cmd: LaunchCampaign, actor: Principal) -> dict:
    """Launch a campaign for a unit of the caller's subtree, drawing on a fund whose unit covers
    it; the whole budget is committed from the fund now (409 insufficient-funds if it cannot be)."""
    conn = uow.conn
    defaults = (await queries.kind_defaults(conn)).get(cmd.kind)
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
    campaign_id = uuid.uuid4()
    commitment_id = await ledger.commit(conn, fund["id"], cmd.budget_fen, campaign_id=campaign_id,
                                        approver=actor.subject, actor=actor.subject)
    await conn.execute(
        "INSERT INTO campaigns (id, name, kind, org_id, org_path, fund_id, commitment_id, year, budget_fen,"
        " per_payment_cap_fen, per_person_year_cap_fen, level_amounts, starts_on, ends_on, launched_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        campaign_id, cmd.name, cmd.kind, unit["org_id"], unit["org_path"], fund["id"], commitment_id,
        cmd.starts_on.year, cmd.budget_fen, per_payment, per_person, dict(cmd.level_amounts), cmd.starts_on,
        cmd.ends_on, actor.subject)
    await uow.stage(CampaignLaunched(
        campaign_id=campaign_id, name=cmd.name, kind=cmd.kind, org_id=unit["org_id"], org_path=unit["org_path"],
        fund_id=fund["id"], budget_fen=cmd.budget_fen, per_payment_cap_fen=per_payment,
        per_person_year_cap_fen=per_person, starts_on=cmd.starts_on, ends_on=cmd.ends_on,
        levels=[level for level in LEVEL_ORDER if level in cmd.level_amounts]))  # whom notify tells
    trace.get_current_span().set_attribute("campaign.id", str(campaign_id))
    return await queries.campaign_view(conn, campaign_id)


async def close(uow: UnitOfWork, campaign_id: uuid.UUID, actor: Principal) -> dict:
    """Close the campaign: no more runs; what is left of the budget goes back to the fund."""
    conn = uow.conn
    c = await queries.load_campaign(conn, campaign_id, actor, lock=True)
    actor.require_scope(c["org_path"])
    if c["status"] == "closed":
        raise RuleViolation("帮扶活动已结束", status=409, kind="campaign-closed")
    released = await ledger.release(conn, c["commitment_id"], actor=actor.subject)
    await conn.execute("UPDATE campaigns SET status = 'closed', closed_by = $2, closed_at = now() WHERE id = $1",
                       campaign_id, actor.subject)
    return await queries.campaign_view(conn, campaign_id) | {"release_entry_id": released}


# ---- the batch run --------------------------------------------------------------------------------

# Every open, not yet paid file of the subtree with the reason it is not paid (NULL: to be paid)
# and its amount. $1 campaign, $2 run date, $3 budget left.
_PLAN = """
CREATE TEMP TABLE campaign_plan ON COMMIT DROP AS
WITH c AS (SELECT * FROM campaigns WHERE id = $1),
candidates AS (
    SELECT f.id AS file_id, f.member_id, f.union_id, f.org_path, f.level, f.opened_on,
           array_position($4::text[], f.level) AS priority,
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
),
ordered AS (  -- windows only, no join between intermediate results: the plan stays linear
    SELECT *, sum(amount) FILTER (WHERE reason IS NULL AND amount > 0) OVER (
                  ORDER BY priority, opened_on, file_id ROWS UNBOUNDED PRECEDING) AS running_total
      FROM capped
)
SELECT file_id, member_id, union_id, org_path, level, priority, opened_on,
       CASE WHEN reason IS NOT NULL THEN reason
            WHEN amount = 0 THEN 'person_year_cap_reached'
            WHEN running_total > $3 THEN 'budget_exhausted'
       END AS reason,
       amount, gen_random_uuid() AS payment_id, gen_random_uuid() AS entry_id
  FROM ordered
"""

_INSERT_ENTRIES = """
INSERT INTO ledger_entries (id, fund_id, kind, amount_fen, commitment_id, case_id, campaign_id, approver, actor,
                            reason)
SELECT entry_id, $1, 'disbursement', amount, $2, payment_id, $3, $4, $5, $6
  FROM campaign_plan WHERE reason IS NULL ORDER BY priority, opened_on, file_id
"""

_INSERT_PAYMENTS = """
INSERT INTO campaign_payments (id, campaign_id, campaign_kind, year, run_id, file_id, member_id, union_id, org_path,
                               level, amount_fen, ledger_entry_id, paid_on)
SELECT payment_id, $1, $2, $3, $4, file_id, member_id, union_id, org_path, level, amount, entry_id, $5
  FROM campaign_plan WHERE reason IS NULL
"""

_INSERT_SKIPS = """
INSERT INTO campaign_run_skips (run_id, file_id, member_id, reason)
SELECT $1, file_id, member_id, reason FROM campaign_plan WHERE reason IS NOT NULL
"""

# AidDisbursed for every payment: the event's fields, checked against the model by
# `uow.stage_select`; staged in payment order. $1 case kind, $2 fund, $3 campaign, $4 payment date,
# $5 the campaign's name (the member's notice names it).
_DISBURSED = """
SELECT payment_id AS case_id, member_id, union_id, org_path, $1::text AS kind, amount AS amount_fen,
       $2::uuid AS fund_id, $3::uuid AS campaign_id, entry_id AS ledger_entry_id, $4::date AS paid_on,
       $5::text AS campaign_name,
       priority AS _priority, opened_on AS _opened_on, file_id AS _file_id
  FROM campaign_plan WHERE reason IS NULL
"""


async def run(uow: UnitOfWork, campaign_id: uuid.UUID, actor: Principal, *, run_on: date, today: date,
              max_backdate_days: int, report_limit: int = 1000) -> dict:
    """Pay every eligible file of the campaign's subtree at once (see the module's rules). Runs in
    its unit of work; two runs of one campaign serialise on the campaign row. The payment
    date is today or, for a payment entered late, at most `max_backdate_days` before: members are
    told the money was paid on it. A back-dated run says so in every ledger entry it books (the
    run row keeps who ran it and when)."""
    conn = uow.conn
    c = await queries.load_campaign(conn, campaign_id, actor, lock=True)
    actor.require_scope(c["org_path"])
    check_dated(run_on, today, field="run_on", what="发放日期", max_backdate_days=max_backdate_days)
    late = backdating(run_on, today, actor.subject)
    entry_reason = (f"补录发放：发放日期{run_on.isoformat()}，{today.isoformat()}由{actor.subject}补录"
                    f"（补录{late['backdated_days']}天）") if late else None
    if c["status"] != "open":
        raise RuleViolation("帮扶活动已结束，不能再发放", status=409, kind="campaign-closed")
    if not c["starts_on"] <= run_on <= c["ends_on"]:
        raise RuleViolation(f"不在活动期内（{c['starts_on']} 至 {c['ends_on']}）", status=409, kind="outside-period")
    commitment = await conn.fetchrow("SELECT remaining_fen, settled FROM fund_commitments WHERE entry_id = $1"
                                     " FOR UPDATE", c["commitment_id"])
    case_kind = await conn.fetchval("SELECT case_kind FROM campaign_kind_defaults WHERE kind = $1", c["kind"])
    await conn.execute(_PLAN, campaign_id, run_on, commitment["remaining_fen"], list(LEVEL_ORDER))
    totals = await conn.fetchrow("SELECT count(*) FILTER (WHERE reason IS NULL) AS paid_count,"
                                 " coalesce(sum(amount) FILTER (WHERE reason IS NULL), 0)::bigint AS paid_fen,"
                                 " count(*) FILTER (WHERE reason IS NOT NULL) AS not_paid FROM campaign_plan")
    run_id = uuid.uuid4()
    await conn.execute("INSERT INTO campaign_runs (id, campaign_id, run_on, run_by, paid_count, paid_fen, not_paid)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7)", run_id, campaign_id, run_on, actor.subject,
                       totals["paid_count"], totals["paid_fen"], totals["not_paid"])
    paid_fen = totals["paid_fen"]
    if paid_fen:
        # The commitment and the fund's balance change once, by the run's total; the conditional
        # updates refuse (and roll the run back) should anything have drawn on them meanwhile.
        left = await conn.fetchval(
            "UPDATE fund_commitments SET remaining_fen = remaining_fen - $2 WHERE entry_id = $1"
            " AND NOT settled AND remaining_fen >= $2 RETURNING remaining_fen", c["commitment_id"], paid_fen)
        if left is None:
            raise RuleViolation("活动预算不足", status=409, kind="insufficient-funds")
        await ledger.apply_delta(conn, c["fund_id"], EFFECTS["disbursement"] * paid_fen)
        await conn.execute(_INSERT_ENTRIES, c["fund_id"], c["commitment_id"], campaign_id, c["launched_by"],
                           actor.subject, entry_reason)
        await conn.execute(_INSERT_PAYMENTS, campaign_id, c["kind"], c["year"], run_id, run_on)
        await uow.stage_select(AidDisbursed, _DISBURSED, case_kind, c["fund_id"], campaign_id, run_on, c["name"],
                               order_by=["_priority", "_opened_on", "_file_id"])
    await conn.execute(_INSERT_SKIPS, run_id)
    not_paid = await conn.fetch(
        "SELECT file_id, member_id, level, reason FROM campaign_plan WHERE reason IS NOT NULL"
        " ORDER BY priority, opened_on, file_id LIMIT $1", report_limit)
    by_reason = await conn.fetch("SELECT reason, count(*) AS n FROM campaign_plan WHERE reason IS NOT NULL"
                                 " GROUP BY reason ORDER BY reason")
    trace.get_current_span().set_attribute("campaign.id", str(campaign_id))
    return {
        "run_id": run_id, "campaign_id": campaign_id, "run_on": run_on,
        "paid_count": totals["paid_count"], "paid": money(paid_fen),
        "not_paid_count": totals["not_paid"],
        "not_paid_by_reason": {r["reason"]: r["n"] for r in by_reason},
        # The first `report_limit` files not paid, in payment order; all are kept in campaign_run_skips.
        "not_paid": [dict(r) | {"reason_text": NOT_PAID_REASONS[r["reason"]]} for r in not_paid],
        "budget_left": money(commitment["remaining_fen"] - paid_fen),
    }
