"""Reads of labour disputes (劳动争议调解): one dispute as the caller may read it (with its
sessions, its outcome, whether the worker may apply for arbitration and its legal aid case), and
the disputes of the caller's subtree by unit, status, kind, collective and arbitration open. The
worker's name follows welfare's one rule (`members.shown_name`); claim, terms and notes only for
roles that handle the worker's affairs, never for auditors."""
from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from unionops.auth import Principal
from unionops.pii import Vault
from unionops.problems import Problem
from unionops.scope import row_in_scope
from welfare.domain import disputes as domain
from welfare.domain.money import money
from welfare.queries.members import sees_names, shown_name
from unionops.paging import page

# The day arbitration opens, as domain.arbitration_open_from counts it (NULL: agreed), in SQL for
# the list's filter.
OPEN_FROM = (f"(CASE d.status WHEN 'agreed' THEN NULL"
             f" WHEN 'failed' THEN least(d.failed_on, d.applied_on + {domain.MEDIATION_DAYS + 1})"
             f" ELSE d.applied_on + {domain.MEDIATION_DAYS + 1} END)")

_COLUMNS = (
    "d.id, d.unit_id, u.name AS unit_name, d.org_path, d.application_form, d.applied_on, d.oral_recorded_by,"
    " d.oral_recorded_at, d.member_id, coalesce(m.name, d.worker_name) AS worker_name, d.employer_name,"
    " d.employer_credit_code, d.kind, d.workers_concerned, d.collective, d.status, d.opened_by, d.opened_at,"
    " d.failed_on, d.legal_aid_case_id"
)
# What a list row shows of the columns (the path never).
_LISTED = ("id", "unit_id", "unit_name", "application_form", "applied_on", "oral_recorded_by", "oral_recorded_at",
           "member_id", "worker_name", "employer_name", "employer_credit_code", "kind", "workers_concerned",
           "collective", "status", "opened_by", "opened_at", "legal_aid_case_id")
_FROM = ("FROM labour_disputes d LEFT JOIN members m ON m.member_id = d.member_id"
         " LEFT JOIN org_units u ON u.org_id = d.unit_id")


def _row(r: asyncpg.Record, principal: Principal, today: date) -> dict:
    open_from = domain.arbitration_open_from(r["applied_on"], r["status"], r["failed_on"])
    return {k: r[k] for k in _LISTED} | {
        "worker_name": shown_name(r["worker_name"], principal), "is_member": r["member_id"] is not None,
        "kind_label": domain.KINDS[r["kind"]], "status_label": domain.STATUSES[r["status"]],
        "application_form_label": domain.APPLICATION_FORMS[r["application_form"]],
        "mediation_ends_on": domain.mediation_ends_on(r["applied_on"]),
        "arbitration_open": open_from is not None and open_from <= today, "arbitration_open_from": open_from,
    }


async def dispute_view(conn: asyncpg.Connection, dispute_id: uuid.UUID, principal: Principal, today: date, *,
                       vault: Vault | None) -> dict:
    """The dispute as the caller reads it; out of scope answers as absent. Without a vault (the
    answer an Idempotency-Key keeps) no sealed text is opened."""
    r = await row_in_scope(conn, principal, Problem(404, domain.NOT_FOUND),
                           f"SELECT {_COLUMNS}, d.claim_enc, d.agreed_on, d.agreement_terms_enc,"
                           f" d.agreement_amount_fen, d.failure_reason, d.referred_on, d.referred_by {_FROM}"
                           " WHERE d.id = $1", dispute_id)
    opens = vault is not None and sees_names(principal)
    view = _row(r, principal, today) | {"notes_visible": "all" if sees_names(principal) else "none"}
    view["claim"] = vault.decrypt("dispute_claim", r["claim_enc"]) if opens else None
    sessions = await conn.fetch("SELECT held_on, mediator, note_enc, recorded_by FROM labour_dispute_sessions"
                                " WHERE dispute_id = $1 ORDER BY held_on, id", dispute_id)
    view["sessions"] = [{"held_on": s["held_on"], "mediator": s["mediator"], "recorded_by": s["recorded_by"],
                         "note": vault.decrypt("dispute_session_note", s["note_enc"]) if opens else None}
                        for s in sessions]
    view["agreement"] = None if r["agreed_on"] is None else {
        "agreed_on": r["agreed_on"], "amount_fen": r["agreement_amount_fen"],
        "amount": money(r["agreement_amount_fen"]) if r["agreement_amount_fen"] else None,
        "terms": vault.decrypt("dispute_terms", r["agreement_terms_enc"]) if opens else None}
    view["failure"] = None if r["failure_reason"] is None else {
        "failed_on": r["failed_on"], "reason": r["failure_reason"],
        "reason_label": domain.FAILURE_REASONS[r["failure_reason"]]}
    view["legal_aid"] = None
    if r["legal_aid_case_id"] is not None:
        c = await conn.fetchrow("SELECT id, status, outcome, legal_aid_form, legal_aid_result FROM assistance_cases"
                                " WHERE id = $1", r["legal_aid_case_id"])
        view["legal_aid"] = {"case_id": c["id"], "referred_on": r["referred_on"], "referred_by": r["referred_by"],
                             "case_status": c["status"], "case_outcome": c["outcome"], "form": c["legal_aid_form"],
                             "result": c["legal_aid_result"]}
    return view


# The orders a dispute list may be read in (the API's `sort` values); each ends with the id.
ORDERS = {
    "-applied_on": "d.applied_on DESC, d.opened_at DESC, d.id",
    "applied_on": "d.applied_on, d.opened_at, d.id",
}


async def list_disputes(conn: asyncpg.Connection, principal: Principal, today: date, *, unit: uuid.UUID | None,
                        status: str | None, kind: str | None, collective: bool | None,
                        arbitration_open: bool | None, sort: str, limit: int, offset: int) -> dict:
    """The disputes of the caller's subtree (a `unit` outside it matches nothing, as an unknown one)."""
    from_where = (
        f"{_FROM} WHERE $1 = ANY(d.org_path) AND ($2::uuid IS NULL OR $2 = ANY(d.org_path))"
        " AND ($3::text IS NULL OR d.status = $3) AND ($4::text IS NULL OR d.kind = $4)"
        " AND ($5::boolean IS NULL OR d.collective = $5)"
        f" AND ($6::boolean IS NULL OR coalesce({OPEN_FROM} <= $7::date, false) = $6)")
    return await page(conn, _COLUMNS, from_where, ORDERS[sort],
                      [principal.org_id, unit, status, kind, collective, arbitration_open, today],
                      limit=limit, offset=offset, row=lambda r: _row(r, principal, today))


async def legal_aid_outcome(conn: asyncpg.Connection, case_id: uuid.UUID) -> dict:
    """What legal aid gave on a legal assistance case (read after the step that recorded it)."""
    r = await conn.fetchrow("SELECT id AS case_id, dispute_id, legal_aid_form AS form, legal_aid_result AS result,"
                            " status, outcome FROM assistance_cases WHERE id = $1", case_id)
    return dict(r) | {"form_label": domain.LEGAL_AID_FORMS[r["form"]],
                      "result_label": domain.LEGAL_AID_RESULTS[r["result"]] if r["result"] else None}
