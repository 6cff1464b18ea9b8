"""Reads of assistance cases: one case as the caller may read it, a member's cases, the cases of
the caller's subtree by status, kind, unit and date (names as the caller may read them)."""
from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from unionops.auth import Principal
from unionops.pii import Vault
from unionops.problems import Problem
from welfare.queries import golden_autumn
from welfare.domain.cases import CASE_KINDS, STATUS_LABELS
from welfare.domain.money import money
from welfare.queries.members import readable_member_path, sees_names, shown_name
from unionops.paging import page

NOT_FOUND = "帮扶案件不存在或不在您的管辖范围内"

_CASE_COLUMNS = (
    "c.id, c.member_id, m.name AS member_name, c.union_id, m.union_name, c.org_path, c.kind, c.source, c.status,"
    " c.opened_on, c.opened_by"
)

_WORKFLOW_COLUMNS = (
    "c.proposed_amount_fen, c.findings_enc, c.assessed_by, c.assessed_on, c.district_reviewed_by,"
    " c.district_reviewed_on, c.approved_amount_fen, c.fund_id, c.approved_by, c.approved_on, c.rejected_reason,"
    " c.rejected_by, c.rejected_on, c.disbursement_id, c.paid_by, c.paid_on, c.outcome, c.closed_by, c.closed_on,"
    " c.hotline_ticket_id, c.dispute_id, c.legal_aid_form, c.legal_aid_result"
)


async def case_detail(conn: asyncpg.Connection, case_id: uuid.UUID, principal: Principal, vault: Vault) -> dict:
    row = await conn.fetchrow(
        f"SELECT {_CASE_COLUMNS}, c.summary_enc, {_WORKFLOW_COLUMNS} FROM assistance_cases c"
        " JOIN members m ON m.member_id = c.member_id WHERE c.id = $1", case_id)
    # Out of scope answers like absent: a case's existence is itself sensitive.
    if row is None or not principal.covers(row["org_path"]):
        raise Problem(404, NOT_FOUND)
    # Auditors read a case as they read a hardship file: the workflow, amounts and dates, the
    # member's name masked, none of the health or family circumstances in the summary and findings.
    full = sees_names(principal)
    detail = dict(row) | {"notes_visible": "all" if full else "none"}
    if full:
        detail["summary"] = vault.decrypt("case_summary", row["summary_enc"])
        if row["findings_enc"] is not None:
            detail["findings"] = vault.decrypt("case_findings", row["findings_enc"])
    else:
        detail["member_name"] = shown_name(row["member_name"], principal)
    if row["kind"] == "education":
        detail["student"] = await golden_autumn.student_of(conn, case_id, vault)
        notice = await golden_autumn.notice_of_case(conn, case_id)
        if notice:
            detail["public_notice"] = {"ends_on": notice[0], "payable_from": notice[1]}
    return detail


async def member_cases(conn: asyncpg.Connection, member_id: uuid.UUID, principal: Principal) -> list[dict]:
    """A member's cases within the caller's subtree, newest first (no summaries)."""
    await readable_member_path(conn, member_id, principal)
    rows = await conn.fetch(
        f"SELECT {_CASE_COLUMNS} FROM assistance_cases c JOIN members m ON m.member_id = c.member_id"
        " WHERE c.member_id = $1 AND $2 = ANY(c.org_path) ORDER BY c.opened_at DESC, c.id",
        member_id, principal.org_id)
    return [dict(r) | {"member_name": shown_name(r["member_name"], principal)} for r in rows]


# The orders a case list may be read in (the API's `sort` values); each ends with the id.
CASE_ORDERS = {
    "-opened_on": "c.opened_on DESC, c.opened_at DESC, c.id",
    "opened_on": "c.opened_on, c.opened_at, c.id",
    # the workflow's order (constants of this module, not the caller's text)
    "status": f"array_position(ARRAY{list(STATUS_LABELS)}::text[], c.status), c.opened_on DESC, c.id",
    "unit": "u.name, c.opened_on DESC, c.id",
}


async def list_cases(conn: asyncpg.Connection, principal: Principal, *, status: str | None, kind: str | None,
                     unit: uuid.UUID | None, opened_from: date | None, opened_to: date | None, sort: str,
                     limit: int, offset: int) -> dict:
    """The cases of the caller's subtree (a `unit` outside it matches nothing, as an unknown one),
    with the member's name as the caller may read it and the case's union by name."""
    from_where = (
        "FROM assistance_cases c JOIN members m ON m.member_id = c.member_id"
        " LEFT JOIN org_units u ON u.org_id = c.union_id"
        " WHERE $1 = ANY(c.org_path) AND ($2::text IS NULL OR c.status = $2) AND ($3::text IS NULL OR c.kind = $3)"
        " AND ($4::uuid IS NULL OR $4 = ANY(c.org_path)) AND ($5::date IS NULL OR c.opened_on >= $5)"
        " AND ($6::date IS NULL OR c.opened_on <= $6)")
    select = ("c.id, c.member_id, m.name AS member_name, c.union_id, coalesce(u.name, m.union_name) AS union_name,"
              " c.kind, c.source, c.status, c.opened_on, c.opened_by, c.approved_amount_fen, c.paid_on")

    def row(r) -> dict:
        return dict(r) | {"member_name": shown_name(r["member_name"], principal), "kind_label": CASE_KINDS[r["kind"]],
                          "status_label": STATUS_LABELS[r["status"]],
                          "approved_amount": money(r["approved_amount_fen"]) if r["approved_amount_fen"] else None}
    return await page(conn, select, from_where, CASE_ORDERS[sort],
                      [principal.org_id, status, kind, unit, opened_from, opened_to],
                      limit=limit, offset=offset, row=row)
