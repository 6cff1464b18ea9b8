"""Reads of seasonal campaigns: the kinds and their default caps, a campaign of the caller's
subtree with its budget, payments and what is left."""
from __future__ import annotations

import uuid

import asyncpg

from unionops.auth import Principal
from unionops.problems import Problem
from unionops.scope import row_in_scope
from welfare.domain.campaigns import NOT_FOUND
from welfare.domain.money import money


async def kind_defaults(conn: asyncpg.Connection) -> dict[str, asyncpg.Record]:
    return {r["kind"]: r for r in await conn.fetch("SELECT * FROM campaign_kind_defaults ORDER BY kind")}


async def load_campaign(conn: asyncpg.Connection, campaign_id: uuid.UUID, principal: Principal, *,
                        lock: bool = False) -> asyncpg.Record:
    return await row_in_scope(conn, principal, Problem(404, NOT_FOUND),
                              "SELECT * FROM campaigns WHERE id = $1" + (" FOR UPDATE" if lock else ""), campaign_id)


async def campaign_view(conn: asyncpg.Connection, campaign_id: uuid.UUID) -> dict:
    c = await conn.fetchrow(
        "SELECT c.*, d.label AS kind_label, fc.remaining_fen,"
        " (SELECT coalesce(sum(amount_fen), 0) FROM campaign_payments p WHERE p.campaign_id = c.id) AS paid_fen,"
        " (SELECT count(*) FROM campaign_payments p WHERE p.campaign_id = c.id) AS paid_count"
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
        "budget_left": money(c["remaining_fen"]),
    }


async def campaign(conn: asyncpg.Connection, campaign_id: uuid.UUID, principal: Principal) -> dict:
    await load_campaign(conn, campaign_id, principal)
    return await campaign_view(conn, campaign_id)


async def campaign_kinds(conn: asyncpg.Connection) -> list[dict]:
    return [{"kind": r["kind"], "label": r["label"], "usual_month": r["usual_month"],
             "per_payment_cap": money(r["per_payment_cap_fen"]),
             "per_person_year_cap": money(r["per_person_year_cap_fen"])}
            for r in (await kind_defaults(conn)).values()]
