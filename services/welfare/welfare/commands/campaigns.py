"""Commands of seasonal campaigns (送温暖, 金秋助学, 中秋国庆慰问, 送清凉): a unit launches one
with a budget committed from its fund; a run pays every eligible hardship file of the unit's
subtree at once; closing gives back what is left.

A budget short of the need is said before any money moves: the launch (and its preview,
welfare.queries.campaigns.preview) gives the eligible households, what they need and the
shortfall, and is refused (409 budget-shortfall, with the figures) unless the office chose how to
share it (`allocation`). A run facing a shortfall (files opened since the launch) is refused the
same way unless the campaign or the run names a rule. The rules:
- by_level: files are paid in a fixed order (深度困难, 意外致困, 相对困难; then the earliest opened
  file; then file id) and the run stops at the first that no longer fits — every later file is
  reported `budget_exhausted`;
- pro_rata: every household gets the same share budget ÷ need of its amount, in whole fen rounded
  down; the fen left over go one each to the largest remainders (ties in the by_level order), so
  the run pays exactly the budget, never more; households paid less are listed `pro_rata_share`;
- cap: no household gets more than `household_cap_fen` (listed `household_cap` when cut); should
  the capped amounts still exceed the budget, the by_level order decides who is paid.
The run records the rule in force (NULL: none chosen, the budget covered everyone) with the
need and the budget it faced; its unpaid list holds every file not paid in full, with what it
wanted and got.

A run is set-based: the plan (who is paid how much, who is not and why) is one SELECT into a
temporary table; ledger entries, payments and skips are each one INSERT … SELECT from it, and
the AidDisbursed events one `uow.stage_select` of it; the campaign's commitment and the fund's
balance change once by the run's total. Rules it applies, in SQL:
- eligible: an open hardship file in the subtree whose review is not overdue and whose member is
  active in welfare's member projection;
- a file is paid at most once per campaign (unique (campaign_id, file_id)), so a second run pays
  only files that became eligible since (a household paid pro rata or capped is not topped up);
- amount = the campaign's amount for the file's level, at most the per-payment cap and what is
  left of the member's per-person-per-year cap (welfare.queries.campaigns.WANTED), then shared by
  the rule above, never beyond what is left of the budget.
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
from welfare.domain.campaigns import LEVEL_ORDER, BudgetShortfall, LaunchCampaign, Need, check_allocation
from welfare.domain.money import EFFECTS, money
from welfare.queries import campaigns as queries


async def launch(uow: UnitOfWork, cmd: LaunchCampaign, actor: Principal, *, today: date) -> dict:
    """Launch a campaign for a unit of the caller's subtree, drawing on a fund whose unit covers
    it; the whole budget is committed from the fund now (409 insufficient-funds if it cannot be).
    A budget short of what the eligible households need is refused (409 budget-shortfall) unless
    `cmd.allocation` says how to share it; the answer carries the need at launch."""
    conn = uow.conn
    terms = await queries.launch_terms(conn, cmd, actor)
    unit, fund = terms["unit"], terms["fund"]
    per_payment, per_person = terms["per_payment_cap_fen"], terms["per_person_year_cap_fen"]
    need = await queries.launch_need(conn, cmd, terms, today=today)
    if need.shortfall_fen and cmd.allocation is None:
        raise BudgetShortfall(need)
    campaign_id = uuid.uuid4()
    commitment_id = await ledger.commit(conn, fund["id"], cmd.budget_fen, campaign_id=campaign_id,
                                        approver=actor.subject, actor=actor.subject)
    await conn.execute(
        "INSERT INTO campaigns (id, name, kind, org_id, org_path, fund_id, commitment_id, year, budget_fen,"
        " per_payment_cap_fen, per_person_year_cap_fen, level_amounts, starts_on, ends_on, launched_by, allocation,"
        " household_cap_fen)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        campaign_id, cmd.name, cmd.kind, unit["org_id"], unit["org_path"], fund["id"], commitment_id,
        cmd.starts_on.year, cmd.budget_fen, per_payment, per_person, dict(cmd.level_amounts), cmd.starts_on,
        cmd.ends_on, actor.subject, cmd.allocation, cmd.household_cap_fen)
    await uow.stage(CampaignLaunched(
        campaign_id=campaign_id, name=cmd.name, kind=cmd.kind, org_id=unit["org_id"], org_path=unit["org_path"],
        fund_id=fund["id"], budget_fen=cmd.budget_fen, per_payment_cap_fen=per_payment,
        per_person_year_cap_fen=per_person, starts_on=cmd.starts_on, ends_on=cmd.ends_on,
        levels=[level for level in LEVEL_ORDER if level in cmd.level_amounts]))  # whom notify tells
    trace.get_current_span().set_attribute("campaign.id", str(campaign_id))
    return await queries.campaign_view(conn, campaign_id) | {"need_at_launch": need.view()}


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

# Every open, not yet paid file of the subtree with the reason it is not paid (NULL: to be paid),
# its amount (`wanted`: what it would get in full) and what it is paid (`amount`), shared by the
# allocation rule; `cut` says why a paid file got less. $1 campaign, $2 run date, $3 level order,
# $4 budget left, $5 rule (NULL: none), $6 household cap.
_PLAN = """
CREATE TEMP TABLE campaign_plan ON COMMIT DROP AS
WITH c AS (SELECT * FROM campaigns WHERE id = $1),
""" + queries.WANTED + """,
ruled AS (    -- what each eligible household may get under the rule before the budget is shared
    SELECT *, CASE WHEN reason IS NULL AND amount > 0 THEN
                   CASE WHEN $5::text = 'cap' THEN least(amount, $6::bigint) ELSE amount END END AS granted
      FROM capped
),
needed AS (
    SELECT *, sum(granted) OVER () AS need FROM ruled
),
shared AS (   -- pro rata: the same share budget/need of each amount, whole fen rounded down
    SELECT *, CASE WHEN $5::text = 'pro_rata' AND need > $4::bigint
                   THEN floor(granted::numeric * $4::bigint / need)::bigint ELSE granted END AS base,
              CASE WHEN $5::text = 'pro_rata' AND need > $4::bigint
                   THEN granted::numeric * $4::bigint % need ELSE 0 END AS remainder
      FROM needed
),
ranked AS (   -- the fen left over go one each to the largest remainders
    SELECT *, $4::bigint - sum(base) OVER () AS leftover,
              row_number() OVER (ORDER BY granted IS NULL, remainder DESC, priority, opened_on, file_id) AS place
      FROM shared
),
final AS (
    SELECT *, base + CASE WHEN granted IS NOT NULL AND remainder > 0 AND place <= leftover THEN 1 ELSE 0 END
                  AS share
      FROM ranked
),
ordered AS (  -- windows only, no join between intermediate results: the plan stays linear
    SELECT *, sum(share) FILTER (WHERE share > 0) OVER (
                  ORDER BY priority, opened_on, file_id ROWS UNBOUNDED PRECEDING) AS running_total
      FROM final
)
SELECT file_id, member_id, union_id, org_path, level, priority, opened_on,
       CASE WHEN reason IS NOT NULL THEN reason
            WHEN amount = 0 THEN 'person_year_cap_reached'
            WHEN share = 0 OR running_total > $4::bigint THEN 'budget_exhausted'
       END AS reason,
       CASE WHEN reason IS NULL AND share > 0 AND running_total <= $4::bigint AND share < amount
            THEN CASE WHEN $5::text = 'pro_rata' THEN 'pro_rata_share' ELSE 'household_cap' END
       END AS cut,
       amount AS wanted, share AS amount, gen_random_uuid() AS payment_id, gen_random_uuid() AS entry_id
  FROM ordered
"""

# A file is eligible when paid or cut off by the budget; not paid in full when it has a reason or a cut.
_TOTALS = """
SELECT count(*) FILTER (WHERE reason IS NULL) AS paid_count,
       coalesce(sum(amount) FILTER (WHERE reason IS NULL), 0)::bigint AS paid_fen,
       count(*) FILTER (WHERE reason IS NOT NULL OR cut IS NOT NULL) AS not_paid,
       count(*) FILTER (WHERE reason IS NULL OR reason = 'budget_exhausted') AS households,
       coalesce(sum(wanted) FILTER (WHERE reason IS NULL OR reason = 'budget_exhausted'), 0)::bigint AS need_fen
  FROM campaign_plan
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
INSERT INTO campaign_run_skips (run_id, file_id, member_id, reason, wanted_fen, paid_fen)
SELECT $1, file_id, member_id, coalesce(reason, cut), wanted, CASE WHEN reason IS NULL THEN amount ELSE 0 END
  FROM campaign_plan WHERE reason IS NOT NULL OR cut IS NOT NULL
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
              max_backdate_days: int, report_limit: int = 1000, allocation: str | None = None,
              household_cap_fen: int | None = None) -> dict:
    """Pay every eligible file of the campaign's subtree at once (see the module's rules). Runs in
    its unit of work; two runs of one campaign serialise on the campaign row. The payment
    date is today or, for a payment entered late, at most `max_backdate_days` before: members are
    told the money was paid on it. A back-dated run says so in every ledger entry it books (the
    run row keeps who ran it and when). `allocation` (with `household_cap_fen` for cap) is the rule
    this run shares a short budget by, instead of the campaign's; with neither, a shortfall is
    refused (409 budget-shortfall) and nothing is paid."""
    conn = uow.conn
    if allocation is not None or household_cap_fen is not None:
        check_allocation(allocation, household_cap_fen)
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
    if allocation is None:
        allocation, household_cap_fen = c["allocation"], c["household_cap_fen"]
    budget = commitment["remaining_fen"]
    await conn.execute(_PLAN, campaign_id, run_on, list(LEVEL_ORDER), budget, allocation, household_cap_fen)
    totals = await conn.fetchrow(_TOTALS)
    need = Need(as_of=run_on, households=totals["households"], need_fen=totals["need_fen"], budget_fen=budget)
    if need.shortfall_fen and allocation is None:
        raise BudgetShortfall(need)
    run_id = uuid.uuid4()
    await conn.execute("INSERT INTO campaign_runs (id, campaign_id, run_on, run_by, paid_count, paid_fen, not_paid,"
                       " allocation, need_fen, budget_fen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                       run_id, campaign_id, run_on, actor.subject, totals["paid_count"], totals["paid_fen"],
                       totals["not_paid"], allocation, need.need_fen, budget)
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
    by_reason = await conn.fetch("SELECT coalesce(reason, cut) AS reason, count(*) AS n FROM campaign_plan"
                                 " WHERE reason IS NOT NULL OR cut IS NOT NULL GROUP BY 1 ORDER BY 1")
    trace.get_current_span().set_attribute("campaign.id", str(campaign_id))
    return {
        "run_id": run_id, "campaign_id": campaign_id, "run_on": run_on,
        "paid_count": totals["paid_count"], "paid": money(paid_fen),
        "not_paid_count": totals["not_paid"],
        "not_paid_by_reason": {r["reason"]: r["n"] for r in by_reason},
        # The first `report_limit` files not paid in full, in payment order, names masked (the answer is kept
        # under its Idempotency-Key); all, with names, at GET …/runs/{run_id}/not-paid.
        "not_paid": await queries.not_paid_of_run(conn, run_id, limit=report_limit),
        "budget_left": money(budget - paid_fen),
        "allocation": allocation, "need": need.view(),
    }
