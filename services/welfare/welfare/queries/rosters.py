"""The data of the payee rosters (发放花名册) an office prints for signatures: a campaign run's
payees, and a unit's 金秋助学 grants of a year — with real names, since a signed paper needs them.

Who may read them: the officers of the unit that runs the payment — staff or a federation admin
whose own unit is the campaign's organising unit (for 金秋助学, the unit asked for) — because
they hand the money over and collect the signatures. Auditors, service accounts and the staff of
units above or below read the lists (names masked for auditors) but not the roster (403, no
detail); outside the caller's subtree the campaign does not exist (404)."""
from __future__ import annotations

import uuid

import asyncpg

from unionops.auth import Principal
from unionops.pii import Vault
from unionops.problems import Problem
from welfare.domain.campaigns import LEVEL_ORDER, LEVELS
from welfare.domain.golden_autumn import SCHOOL_LEVELS
from welfare.queries.campaigns import load_campaign, load_run
from welfare.queries.hardship import unit_in_scope

ROSTER_ROLES = frozenset({"staff", "federation_admin"})
NOT_THE_ORGANISER = "发放花名册含实名信息，仅限主办单位的工作人员下载"


def check_roster_officer(principal: Principal, org_id: uuid.UUID) -> None:
    if principal.role not in ROSTER_ROLES or principal.org_id != org_id:
        raise Problem(403, NOT_THE_ORGANISER, type_="/problems/forbidden-role")


async def campaign_run_roster(conn: asyncpg.Connection, campaign_id: uuid.UUID, run_id: uuid.UUID,
                              principal: Principal) -> dict:
    """A run's payees grouped by unit (then level, then name) with what each was paid; a payment
    reversed since (冲正) is no longer on the paper."""
    run = await load_run(conn, campaign_id, run_id, principal)
    campaign = await load_campaign(conn, campaign_id, principal)
    check_roster_officer(principal, campaign["org_id"])
    head = await conn.fetchrow(
        "SELECT d.label AS kind_label, u.name AS org_name, f.name AS fund_name FROM campaigns c"
        " JOIN campaign_kind_defaults d ON d.kind = c.kind JOIN funds f ON f.id = c.fund_id"
        " LEFT JOIN org_units u ON u.org_id = c.org_id WHERE c.id = $1", campaign_id)
    rows = await conn.fetch(
        "SELECT p.id, p.union_id, coalesce(u.name, h.union_name) AS unit, m.name, h.household_size, p.level,"
        " p.amount_fen, p.ledger_entry_id FROM campaign_payments p JOIN hardship_files h ON h.id = p.file_id"
        " JOIN members m ON m.member_id = p.member_id LEFT JOIN org_units u ON u.org_id = p.union_id"
        " WHERE p.run_id = $1 AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = p.ledger_entry_id)"
        " ORDER BY unit, p.union_id, array_position($2::text[], p.level), m.name, p.id",
        run_id, list(LEVEL_ORDER))
    return {
        "campaign": dict(campaign) | dict(head), "run": dict(run),
        "rows": [dict(r) | {"level_label": LEVELS.get(r["level"], r["level"])} for r in rows],
    }


async def golden_autumn_roster(conn: asyncpg.Connection, org_id: uuid.UUID, year: int, principal: Principal,
                               vault: Vault) -> dict:
    """The 金秋助学 grants paid in `year` to the unit's subtree: member, student, school level,
    household, the amount the ledger disbursed."""
    unit = await unit_in_scope(conn, org_id, principal)
    check_roster_officer(principal, org_id)
    rows = await conn.fetch(
        "SELECT c.id, c.union_id, coalesce(u.name, m.union_name) AS unit, m.name, s.student_name_enc, s.school_level,"
        " h.household_size, h.level, e.amount_fen, e.id AS ledger_entry_id, c.paid_on"
        " FROM assistance_cases c JOIN golden_autumn_students s ON s.case_id = c.id"
        " JOIN members m ON m.member_id = c.member_id JOIN ledger_entries e ON e.id = c.disbursement_id"
        " LEFT JOIN org_units u ON u.org_id = c.union_id"
        " LEFT JOIN LATERAL (SELECT household_size, level FROM hardship_files f WHERE f.member_id = c.member_id"
        "   ORDER BY (f.status = 'open') DESC, f.opened_at DESC LIMIT 1) h ON true"
        " WHERE c.kind = 'education' AND $1 = ANY(c.org_path) AND c.paid_on IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.id)"
        " AND s.grant_year = $2 ORDER BY unit, c.union_id, m.name, c.id",
        org_id, year)
    return {
        "org_name": unit["name"] or "", "year": year,
        "rows": [{k: r[k] for k in ("id", "union_id", "unit", "name", "household_size", "amount_fen",
                                    "ledger_entry_id", "paid_on")}
                 | {"student_name": vault.decrypt("student_name", r["student_name_enc"]),
                    "school_level_label": SCHOOL_LEVELS[r["school_level"]],
                    "level_label": LEVELS.get(r["level"], "") if r["level"] else ""}
                 for r in rows],
    }
