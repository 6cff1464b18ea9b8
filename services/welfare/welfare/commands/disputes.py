"""Commands of labour disputes (劳动争议调解): register an application (written, or oral and
written down by the officer), record mediation sessions, the agreement (调解协议书) or the failure,
refer the worker to legal aid (an assistance case of kind 'legal'), record what legal aid gave;
and the 15-day check (`raise_arbitration_open`, run by welfare.background). Every step is taken by
staff whose subtree holds the dispute's unit (else 404, as for no dispute). Claim, terms and notes
are sealed with the vault and never reach an event or a log line."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import asyncpg
from opentelemetry import trace

from contracts.events import DisputeArbitrationOpen, DisputeFailed, DisputeMediated, DisputeOpened, DisputeReferred
from unionops.auth import Principal
from unionops.pii import Vault
from unionops.problems import Problem, RuleViolation
from unionops.scope import row_in_scope
from unionops.unit_of_work import UnitOfWork
from welfare.commands import cases
from welfare.domain import disputes as domain
from welfare.queries import disputes as queries
from welfare.queries.members import known_member

_STATE = ("id, unit_id, org_path, member_id, kind, status, applied_on, failed_on, opened_by, claim_enc,"
          " arbitration_raised_at, legal_aid_case_id")


async def _load(conn: asyncpg.Connection, dispute_id: uuid.UUID, actor: Principal) -> asyncpg.Record:
    """The dispute, locked, if the caller's subtree holds it; else the 404 of no dispute."""
    actor.require("write")
    row = await row_in_scope(conn, actor, Problem(404, domain.NOT_FOUND),
                             f"SELECT {_STATE} FROM labour_disputes WHERE id = $1 FOR UPDATE", dispute_id)
    trace.get_current_span().set_attribute("dispute.id", str(dispute_id))
    return row


async def register(uow: UnitOfWork, app: domain.Application, actor: Principal, vault: Vault, *, today: date,
                   now: datetime) -> dict:
    """受理: the dispute belongs to the unit that mediates it; DisputeOpened says whether it is
    collective (the district is told at once)."""
    conn = uow.conn
    actor.require("write")
    unit = await row_in_scope(conn, actor, RuleViolation(domain.UNKNOWN_UNIT, field="unit_id", kind="unknown-unit"),
                              "SELECT org_path, level FROM org_units WHERE org_id = $1", app.unit_id)
    if app.member_id is not None:
        member = await known_member(conn, app.member_id)
        if member is None or not actor.covers(member.org_path):  # out of scope: exactly as unknown
            raise RuleViolation("会员不存在：尚未入会或尚未同步", field="member_id", kind="unknown-member")
        if member.status == "left":
            raise RuleViolation("该职工已退会：请按非会员填写姓名（worker_name）", field="member_id", kind="member-left")
    domain.check_application(app, unit_level=unit["level"], today=today)
    code = domain.credit_code(app.employer_credit_code)
    dispute_id, collective, oral = uuid.uuid4(), domain.is_collective(app.workers_concerned), app.application_form == "oral"
    await conn.execute(
        "INSERT INTO labour_disputes (id, unit_id, org_path, application_form, applied_on, oral_recorded_by,"
        " oral_recorded_at, member_id, worker_name, employer_name, employer_credit_code, kind, workers_concerned,"
        " collective, claim_enc, opened_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
        " $16)",
        dispute_id, app.unit_id, list(unit["org_path"]), app.application_form, app.applied_on,
        actor.subject if oral else None, now if oral else None, app.member_id, app.worker_name, app.employer_name,
        code, app.kind, app.workers_concerned, collective, vault.encrypt("dispute_claim", app.claim), actor.subject)
    await uow.stage(DisputeOpened(
        dispute_id=dispute_id, unit_id=app.unit_id, org_path=list(unit["org_path"]), member_id=app.member_id,
        employer_name=app.employer_name, kind=app.kind, workers_concerned=app.workers_concerned,
        collective=collective, application_form=app.application_form, applied_on=app.applied_on,
        officer=actor.subject))
    trace.get_current_span().set_attribute("dispute.id", str(dispute_id))
    # No claim here: this body is also what the Idempotency-Key table keeps for replays.
    return await queries.dispute_view(conn, dispute_id, actor, today, vault=None)


async def record_session(uow: UnitOfWork, dispute_id: uuid.UUID, *, held_on: date, mediator: str, note: str,
                         actor: Principal, vault: Vault, today: date) -> None:
    conn = uow.conn
    d = await _load(conn, dispute_id, actor)
    domain.check_mediating(d["status"], "记录调解")
    domain.check_step_date(held_on, d["applied_on"], today, field="held_on", what="调解日期")
    await conn.execute("INSERT INTO labour_dispute_sessions (dispute_id, held_on, mediator, note_enc, recorded_by)"
                       " VALUES ($1, $2, $3, $4, $5)",
                       dispute_id, held_on, mediator, vault.encrypt("dispute_session_note", note), actor.subject)


async def agree(uow: UnitOfWork, dispute_id: uuid.UUID, *, agreed_on: date, terms: str, amount_fen: int | None,
                actor: Principal, vault: Vault, today: date) -> None:
    """调解协议书: the agreement ends mediation; arbitration no longer opens."""
    conn = uow.conn
    d = await _load(conn, dispute_id, actor)
    domain.check_mediating(d["status"], "达成调解协议")
    domain.check_step_date(agreed_on, d["applied_on"], today, field="agreed_on", what="协议日期")
    await conn.execute(
        "UPDATE labour_disputes SET status = 'agreed', agreed_on = $2, agreement_terms_enc = $3,"
        " agreement_amount_fen = $4, concluded_by = $5 WHERE id = $1",
        dispute_id, agreed_on, vault.encrypt("dispute_terms", terms), amount_fen, actor.subject)
    await uow.stage(DisputeMediated(dispute_id=dispute_id, unit_id=d["unit_id"], org_path=list(d["org_path"]),
                                    member_id=d["member_id"], kind=d["kind"], agreed_on=agreed_on,
                                    amount_fen=amount_fen))


async def fail(uow: UnitOfWork, dispute_id: uuid.UUID, *, failed_on: date, reason: str, actor: Principal,
               today: date) -> None:
    """调解不成: arbitration opens at once (Art. 14), told once whatever the 15-day check did."""
    conn = uow.conn
    d = await _load(conn, dispute_id, actor)
    domain.check_mediating(d["status"], "记录调解不成")
    domain.check_step_date(failed_on, d["applied_on"], today, field="failed_on", what="调解终结日期")
    await conn.execute("UPDATE labour_disputes SET status = 'failed', failed_on = $2, failure_reason = $3,"
                       " concluded_by = $4, arbitration_raised_at = coalesce(arbitration_raised_at, now())"
                       " WHERE id = $1", dispute_id, failed_on, reason, actor.subject)
    events = [DisputeFailed(dispute_id=dispute_id, unit_id=d["unit_id"], org_path=list(d["org_path"]),
                            member_id=d["member_id"], kind=d["kind"], reason=reason, failed_on=failed_on)]
    if d["arbitration_raised_at"] is None:
        open_from = domain.arbitration_open_from(d["applied_on"], "failed", failed_on)
        cause = "mediation_failed" if open_from == failed_on else "mediation_period_passed"
        events.append(domain.arbitration_opened(
            dispute_id=dispute_id, unit_id=d["unit_id"], org_path=list(d["org_path"]), member_id=d["member_id"],
            kind=d["kind"], applied_on=d["applied_on"], open_from=open_from, cause=cause, officer=d["opened_by"]))
    await uow.stage(*events)


async def refer(uow: UnitOfWork, dispute_id: uuid.UUID, *, actor: Principal, vault: Vault, today: date) -> None:
    """转介法律援助: an assistance case of kind 'legal' (source: the worker's application, made
    through the mediator) for the member, with the claim as its summary. Legal aid is not a money
    kind, so it needs neither a hardship file nor a payment (welfare.domain.cases.MONEY_KINDS)."""
    conn = uow.conn
    d = await _load(conn, dispute_id, actor)
    domain.check_referral(d["status"], d["member_id"], d["legal_aid_case_id"] is not None)
    case = await cases.open_case(uow, cases.OpenCase(
        member_id=d["member_id"], kind="legal", source="application",
        summary=vault.decrypt("dispute_claim", d["claim_enc"]), today=today, dispute_id=dispute_id), actor, vault)
    await conn.execute("UPDATE labour_disputes SET legal_aid_case_id = $2, referred_on = $3, referred_by = $4"
                       " WHERE id = $1", dispute_id, case["id"], today, actor.subject)
    await uow.stage(DisputeReferred(dispute_id=dispute_id, unit_id=d["unit_id"], org_path=list(d["org_path"]),
                                    member_id=d["member_id"], kind=d["kind"], case_id=case["id"], referred_on=today))


# DisputeArbitrationOpen for every dispute the 15-day check marked ($1): the event's fields, the
# day it opens as welfare.domain.disputes.arbitration_open_from counts it for one in mediation.
_ARBITRATION_OPEN = f"""
SELECT id AS dispute_id, unit_id, org_path, member_id, kind, applied_on,
       applied_on + {domain.MEDIATION_DAYS + 1} AS open_from, 'mediation_period_passed'::text AS cause,
       opened_by AS officer, applied_on AS _applied_on, id AS _id
  FROM labour_disputes WHERE id = ANY($1::uuid[])
"""


async def raise_arbitration_open(uow: UnitOfWork, today: date, *, limit: int = 500) -> int:
    """The 15-day check: disputes still in mediation whose 15 days have passed are marked and
    DisputeArbitrationOpen staged once each (the mark), set-based; SKIP LOCKED lets replicas run
    side by side without reporting one twice."""
    conn = uow.conn
    last_applied = today - timedelta(days=domain.MEDIATION_DAYS + 1)  # open_from <= today
    ids = [r["id"] for r in await conn.fetch(
        "UPDATE labour_disputes d SET arbitration_raised_at = now() FROM ("
        "  SELECT id FROM labour_disputes WHERE status = 'mediating' AND arbitration_raised_at IS NULL"
        "  AND applied_on <= $1 ORDER BY applied_on, id LIMIT $2 FOR UPDATE SKIP LOCKED) due"
        " WHERE d.id = due.id RETURNING d.id", last_applied, limit)]
    if ids:
        await uow.stage_select(DisputeArbitrationOpen, _ARBITRATION_OPEN, ids, order_by=("_applied_on", "_id"))
    return len(ids)


async def record_legal_aid_outcome(uow: UnitOfWork, case_id: uuid.UUID, *, form: str, result: str | None,
                                   actor: Principal, today: date) -> None:
    """What legal aid gave a referred worker, and the result; the legal assistance case closes
    (served through the union's lawyers, or withdrawn). Only a legal case without money."""
    conn = uow.conn
    actor.require("write")
    case = await cases.load_case(conn, case_id, actor)
    domain.check_legal_aid_outcome(form, result)
    if case.kind != "legal" or case.commitment_id is not None or case.status not in ("opened", "assessed", "approved"):
        raise RuleViolation("只有未涉及资金、尚未结案的法律援助案件可以记录援助结果", status=409, kind="case-status")
    await conn.execute("UPDATE assistance_cases SET legal_aid_form = $2, legal_aid_result = $3,"
                       " legal_aid_recorded_by = $4, legal_aid_recorded_on = $5 WHERE id = $1",
                       case_id, form, result, actor.subject, today)
    await cases.finish(uow, case, domain.legal_aid_case_outcome(form), actor, today, legal_aid_form=form,
                       legal_aid_result=result)
