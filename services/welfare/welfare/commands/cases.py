"""Commands of assistance cases (帮扶案件流程): open (with its student for 金秋助学), assess,
district re-check (金秋助学), approve or reject, pay, close, withdraw. Each runs in its unit of
work, locks the case row, checks the rules in `welfare.domain.cases`, moves money through
`welfare.commands.ledger` and stages its event with it.

Who may do what (permissions from `unionops.auth.ROLES`, scope = the case's path):
- open, assess, pay, close, withdraw: `write`, the case in the caller's subtree;
- district re-check (金秋助学): `write`, a person (staff / federation_admin), whose unit is the
  case's district or the city;
- approve, reject: `write`, a person, whose unit is above the case's union (its street union or
  higher), and who neither opened, assessed nor re-checked the case (四眼原则, 403 four-eyes)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg
from opentelemetry import trace

from unionops.auth import Principal
from unionops.pii import Vault
from unionops.problems import Problem, RuleViolation
from unionops.unit_of_work import UnitOfWork
from unionops.scope import row_in_scope
from welfare.commands import golden_autumn, ledger
from welfare.domain import cases as domain
from welfare.domain import golden_autumn as golden_autumn_rules
from welfare.domain.cases import AssistanceCase
from welfare.queries import golden_autumn as golden_autumn_queries
from welfare.queries.cases import NOT_FOUND
from welfare.queries.hardship import open_file_for_member
from welfare.queries.members import known_member

_STATE_COLUMNS = (
    "id, member_id, union_id, org_path, kind, source, status, opened_on, opened_by, assessed_by, district_reviewed_by,"
    " proposed_amount_fen, approved_amount_fen, fund_id, commitment_id"
)


@dataclass(frozen=True)
class OpenCase:
    member_id: uuid.UUID
    kind: str
    source: str
    summary: str
    today: date
    student: golden_autumn_rules.Student | None = None  # 金秋助学 (kind education) only
    dispute_id: uuid.UUID | None = None  # a legal-aid case referred from a labour dispute


@dataclass(frozen=True)
class Policy:
    """The configurable part of the rules, from settings."""

    migrant_min_months: int


async def load_case(conn: asyncpg.Connection, case_id: uuid.UUID, actor: Principal) -> AssistanceCase:
    """The case, locked for this transaction, if it is in the caller's subtree (else 404: the
    existence of a case is itself sensitive)."""
    row = await row_in_scope(conn, actor, Problem(404, NOT_FOUND),
                             f"SELECT {_STATE_COLUMNS} FROM assistance_cases WHERE id = $1 FOR UPDATE", case_id)
    trace.get_current_span().set_attribute("case.id", str(case_id))
    return AssistanceCase(**{k: (list(v) if k == "org_path" else v) for k, v in dict(row).items()})


async def _history(conn: asyncpg.Connection, case_id: uuid.UUID, status: str, actor: Principal, **detail) -> None:
    await conn.execute("INSERT INTO case_history (case_id, status, actor, detail) VALUES ($1, $2, $3, $4)",
                       case_id, status, actor.subject, detail)


async def _eligible_for_money(conn: asyncpg.Connection, case: AssistanceCase, amount_fen: int, *, today: date,
                              policy: Policy) -> None:
    """先建档、后帮扶 and the migrant workers' waiting period, for cases that are money."""
    if not domain.needs_hardship_file(case.kind, amount_fen):
        return
    # The waiting period first: its refusal names the day the member becomes eligible.
    member = await known_member(conn, case.member_id)
    domain.check_migrant_waiting_period(member, today=today, min_months=policy.migrant_min_months)
    domain.check_hardship_file(await open_file_for_member(conn, case.member_id) is not None)


async def open_case(uow: UnitOfWork, cmd: OpenCase, actor: Principal, vault: Vault, *,
                    tier_overrides: dict[str, int] | None = None) -> dict:
    """Open a case (立案) for a member of the caller's subtree; CaseOpened carries no summary. An
    education case (金秋助学) is applied for at the grassroots union with its student (grant tiers:
    the defaults with `tier_overrides` from the settings)."""
    conn = uow.conn
    member = await known_member(conn, cmd.member_id)
    if member is not None and not actor.covers(member.org_path):
        member = None  # out of scope: refused exactly as an unknown member, before any other rule
    case = domain.open_case(member, kind=cmd.kind, source=cmd.source, opened_by=actor.subject, today=cmd.today,
                            dispute_id=cmd.dispute_id)
    await conn.execute(
        "INSERT INTO assistance_cases (id, member_id, union_id, org_path, kind, source, status, summary_enc,"
        " opened_on, opened_by, dispute_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        case.id, case.member_id, case.union_id, case.org_path, case.kind, case.source, case.status,
        vault.encrypt("case_summary", cmd.summary), case.opened_on, case.opened_by, case.dispute_id,
    )
    await conn.execute(
        "INSERT INTO case_history (case_id, status, actor, detail) VALUES ($1, $2, $3, $4)",
        case.id, case.status, actor.subject, {"source": case.source},
    )
    await uow.stage(case.opened_event())
    trace.get_current_span().set_attribute("case.id", str(case.id))
    # No summary here: this body is also what the Idempotency-Key table keeps for replays.
    opened = {"id": case.id, "member_id": case.member_id, "member_name": member.name, "union_id": case.union_id,
              "union_name": member.union_name, "kind": case.kind, "source": case.source, "status": case.status,
              "opened_on": case.opened_on, "opened_by": case.opened_by}
    if cmd.student is not None:
        opened["student"] = await golden_autumn.record_student(conn, case.id, cmd.student, year=cmd.today.year,
                                                               tier_table=golden_autumn_rules.tiers(tier_overrides),
                                                               vault=vault)
    return opened


async def assess(uow: UnitOfWork, case_id: uuid.UUID, *, proposed_amount_fen: int | None, findings: str,
                 actor: Principal, vault: Vault, today: date) -> None:
    """核查: the findings (encrypted) and the proposed amount. 金秋助学's amount is its tier."""
    conn = uow.conn
    actor.require("write")
    case = await load_case(conn, case_id, actor)
    status = domain.assess_status(case)
    if case.kind == domain.EDUCATION:
        amount = golden_autumn_rules.check_assessed_amount(
            proposed_amount_fen, await golden_autumn_queries.tier_of_case(conn, case.id))
    else:
        if proposed_amount_fen is None:
            raise RuleViolation("请填写核定金额（单位：分）", field="proposed_amount_fen", kind="invalid-amount")
        amount = domain.check_proposed_amount(case.kind, proposed_amount_fen)
    await conn.execute(
        "UPDATE assistance_cases SET status = $2, proposed_amount_fen = $3, findings_enc = $4, assessed_by = $5,"
        " assessed_on = $6 WHERE id = $1",
        case.id, status, amount, vault.encrypt("case_findings", findings), actor.subject, today)
    await _history(conn, case.id, status, actor, proposed_amount_fen=amount)
    await uow.stage(domain.assessed_event(case, amount, today))


async def district_review(uow: UnitOfWork, case_id: uuid.UUID, *, actor: Principal, today: date) -> None:
    """金秋助学's re-check by the district (区总工会复核)."""
    conn = uow.conn
    actor.require("write")
    case = await load_case(conn, case_id, actor)
    status = domain.district_review_status(case)
    domain.check_decider(case, role=actor.role, subject=actor.subject, org_id=actor.org_id, district=True)
    await conn.execute(
        "UPDATE assistance_cases SET status = $2, district_reviewed_by = $3, district_reviewed_on = $4 WHERE id = $1",
        case.id, status, actor.subject, today)
    await _history(conn, case.id, status, actor)


async def approve(uow: UnitOfWork, case_id: uuid.UUID, *, fund_id: uuid.UUID, actor: Principal,
                  today: date, policy: Policy) -> None:
    """审批: the proposed amount is committed against the fund (none when it is zero). The fund
    belongs to a unit on the case's path and in the approver's subtree."""
    conn = uow.conn
    actor.require("write")
    case = await load_case(conn, case_id, actor)
    domain.decision_ready(case, "审批")
    domain.check_decider(case, role=actor.role, subject=actor.subject, org_id=actor.org_id)
    amount = case.proposed_amount_fen or 0
    await _eligible_for_money(conn, case, amount, today=today, policy=policy)
    fund = await row_in_scope(conn, actor, RuleViolation("专项资金不存在或不在您的管辖范围内", field="fund_id", status=404,
                                                         kind="unknown-fund"),
                              "SELECT org_id, org_path FROM funds WHERE id = $1", fund_id)
    if fund["org_id"] not in case.org_path:
        raise RuleViolation("只能动用案件所属工会或其上级工会的专项资金", field="fund_id", kind="fund-out-of-reach")
    commitment = None
    if amount > 0:
        commitment = await ledger.commit(conn, fund_id, amount, case_id=case.id, approver=actor.subject,
                                         actor=actor.subject)
    await conn.execute(
        "UPDATE assistance_cases SET status = 'approved', approved_amount_fen = $2, fund_id = $3, commitment_id = $4,"
        " approved_by = $5, approved_on = $6 WHERE id = $1",
        case.id, amount, fund_id, commitment, actor.subject, today)
    await _history(conn, case.id, "approved", actor, approved_amount_fen=amount, fund_id=str(fund_id),
                   commitment_id=str(commitment) if commitment else None)
    await uow.stage(domain.approved_event(case, amount_fen=amount, fund_id=fund_id, approver=actor.subject,
                                                    on=today))


async def reject(uow: UnitOfWork, case_id: uuid.UUID, *, reason: str, actor: Principal, today: date) -> None:
    """驳回, with a category reason. Nothing was committed yet, so nothing is released; a
    金秋助学 application gives back the student's place for the year."""
    conn = uow.conn
    actor.require("write")
    case = await load_case(conn, case_id, actor)
    domain.decision_ready(case, "驳回")
    domain.check_decider(case, role=actor.role, subject=actor.subject, org_id=actor.org_id)
    if reason not in domain.REJECT_REASONS:
        raise RuleViolation(f"驳回原因须为 {'、'.join(domain.REJECT_REASONS.values())} 之一", field="reason")
    await conn.execute("UPDATE assistance_cases SET status = 'rejected', rejected_reason = $2, rejected_by = $3,"
                       " rejected_on = $4 WHERE id = $1", case.id, reason, actor.subject, today)
    if case.kind == domain.EDUCATION:
        await golden_autumn.release_student(conn, case.id)
    await _history(conn, case.id, "rejected", actor, reason=reason)
    await uow.stage(domain.rejected_event(case, reason, today))


async def pay(uow: UnitOfWork, case_id: uuid.UUID, *, actor: Principal, today: date, policy: Policy) -> None:
    """发放: the approved amount is disbursed from its commitment (AidDisbursed). The file must
    still be open; 金秋助学 waits for the end of its public notice."""
    conn = uow.conn
    actor.require("write")
    case = await load_case(conn, case_id, actor)
    amount = domain.pay_ready(case)
    await _eligible_for_money(conn, case, amount, today=today, policy=policy)
    if case.kind == domain.EDUCATION:
        golden_autumn_rules.check_notice_over(await golden_autumn_queries.notice_of_case(conn, case.id), today)
    entry = await ledger.disburse(conn, case.commitment_id, amount, actor=actor.subject)
    await conn.execute("UPDATE assistance_cases SET status = 'paid', disbursement_id = $2, paid_by = $3, paid_on = $4"
                       " WHERE id = $1", case.id, entry, actor.subject, today)
    await _history(conn, case.id, "paid", actor, amount_fen=amount, ledger_entry_id=str(entry))
    await uow.stage(domain.disbursed_event(case, amount_fen=amount, entry_id=entry, on=today))


async def close(uow: UnitOfWork, case_id: uuid.UUID, *, actor: Principal, today: date) -> None:
    """结案 after payment, rejection, or an approval without money (referred on)."""
    conn = uow.conn
    actor.require("write")
    case = await load_case(conn, case_id, actor)
    await finish(uow, case, domain.close_outcome(case), actor, today)


async def withdraw(uow: UnitOfWork, case_id: uuid.UUID, *, actor: Principal, today: date) -> None:
    """撤回 before payment: a commitment is released, a student's place for the year given back."""
    conn = uow.conn
    actor.require("write")
    case = await load_case(conn, case_id, actor)
    domain.withdraw_ready(case)
    if case.commitment_id is not None:
        await ledger.release(conn, case.commitment_id, actor=actor.subject)
    if case.kind == domain.EDUCATION:
        await golden_autumn.release_student(conn, case.id)
    await finish(uow, case, "withdrawn", actor, today)


async def finish(uow: UnitOfWork, case: AssistanceCase, outcome: str, actor: Principal, today: date,
                 **detail) -> None:
    """结案 with `outcome` (CaseClosed); `detail` goes into the case's history (a legal aid outcome)."""
    conn = uow.conn
    await conn.execute("UPDATE assistance_cases SET status = 'closed', outcome = $2, closed_by = $3, closed_on = $4"
                       " WHERE id = $1", case.id, outcome, actor.subject, today)
    await _history(conn, case.id, "closed", actor, outcome=outcome, **detail)
    await uow.stage(domain.closed_event(case, outcome, today))
