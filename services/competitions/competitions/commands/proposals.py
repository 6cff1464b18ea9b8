"""Rationalisation proposal commands (合理化建议): "有征集、有答复、有落实、有效果" — submit, assign,
answer, implement, reward; every step is a proposal_history row with who and when (the rules
and their timing are in `competitions.domain.proposals`)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Mapping

from opentelemetry import trace

from competitions.domain.contests import UNKNOWN_MEMBER, UNKNOWN_UNIT
from competitions.domain.proposals import (
    answer_due_on, answer_is_late, as_uuid, check_answer, check_step, check_submitted_on, proposal_adopted,
    reward_fen,
)
from competitions.queries.proposals import load, view
from contracts.events import ProposalAnswered, ProposalSubmitted
from unionops.auth import Principal
from unionops.problems import Problem, RuleViolation
from unionops.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class SubmitProposal:
    member_id: uuid.UUID | None
    title: str
    content: str
    major: bool
    submitted_on: date | None


async def _history(conn, proposal_id: uuid.UUID, action: str, actor: Principal, **detail) -> None:
    await conn.execute("INSERT INTO proposal_history (proposal_id, action, actor, detail) VALUES ($1, $2, $3, $4)",
                       proposal_id, action, actor.subject, detail)


async def submit(uow: UnitOfWork, cmd: SubmitProposal, actor: Principal, settings, today: date) -> dict:
    """征集: a member for themselves, or staff for a member of their subtree (dated back, within
    the settings' limit, when collected on paper)."""
    conn = uow.conn
    by_member = actor.role == "member"
    member_id = cmd.member_id
    if by_member:
        member_id = member_id or as_uuid(actor.subject)
        if not actor.is_member(member_id):
            raise Problem(403, "会员只能以本人名义提交合理化建议", type_="/problems/forbidden-role")
    else:
        actor.require("write")
        if member_id is None:
            raise RuleViolation("请指定提出建议的会员", field="member_id")
    member = await conn.fetchrow(
        "SELECT m.member_id, m.union_id, m.name, o.org_path FROM members m LEFT JOIN org_units o"
        " ON o.org_id = m.union_id WHERE m.member_id = $1", member_id)
    # Staff outside the member's subtree: exactly as for an unknown member.
    if member is None or (not by_member and member["org_path"] is not None and not actor.covers(member["org_path"])):
        raise RuleViolation(UNKNOWN_MEMBER, field="member_id", kind="unknown-member")
    if member["org_path"] is None:
        raise RuleViolation(UNKNOWN_UNIT, field="member_id", kind="unknown-unit")
    submitted_on = cmd.submitted_on or today
    check_submitted_on(submitted_on, today, by_member=by_member, backdate_days=settings.proposal_backdate_days)
    due = answer_due_on(submitted_on, major=cmd.major, months=settings.proposal_answer_months,
                        major_months=settings.proposal_major_answer_months)
    proposal_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO proposals (id, member_id, union_id, member_name, title, content, major, status, submitted_on,"
        " submitted_by, submitted_via, answer_due_on)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8, $9, $10, $11)",
        proposal_id, member_id, member["union_id"], member["name"], cmd.title, cmd.content, cmd.major, submitted_on,
        actor.subject, "member" if by_member else "staff", due)
    await _history(conn, proposal_id, "submitted", actor, submitted_on=submitted_on.isoformat(), major=cmd.major,
                   answer_due_on=due.isoformat())
    await uow.stage(ProposalSubmitted(
        proposal_id=proposal_id, member_id=member_id, union_id=member["union_id"], org_path=list(member["org_path"]),
        title=cmd.title, major=cmd.major, answer_due_on=due, submitted_on=submitted_on))
    trace.get_current_span().set_attribute("proposal.id", str(proposal_id))
    return await view(conn, proposal_id, actor, today)


async def assign(uow: UnitOfWork, proposal_id: uuid.UUID, assignee: str | None, assignee_unit: str | None,
                 actor: Principal, today: date) -> dict:
    """交办: to an officer and/or a department, until it has its final answer."""
    conn = uow.conn
    actor.require("write")
    p = await load(conn, proposal_id, actor, lock=True)
    actor.require_scope(p["org_path"])
    if p["status"] not in ("submitted", "assigned", "under_study"):
        raise RuleViolation("该建议已有最终答复，不能再交办", status=409, kind="proposal-answered")
    await conn.execute(
        "UPDATE proposals SET assignee = $2, assignee_unit = $3, assigned_by = $4, assigned_at = now(),"
        " status = CASE WHEN status = 'submitted' THEN 'assigned' ELSE status END WHERE id = $1",
        proposal_id, assignee, assignee_unit, actor.subject)
    await _history(conn, proposal_id, "assigned", actor, assignee=assignee, assignee_unit=assignee_unit)
    return await view(conn, proposal_id, actor, today)


async def answer(uow: UnitOfWork, proposal_id: uuid.UUID, outcome: str, text: str, actor: Principal,
                 today: date) -> dict:
    """有答复 → ProposalAnswered, late when the first answer comes after the due date."""
    conn = uow.conn
    actor.require("write")
    p = await load(conn, proposal_id, actor, lock=True)
    actor.require_scope(p["org_path"])
    check_answer(p["status"], outcome)
    late = answer_is_late(p["first_answered_on"], p["answered_late"], p["answer_due_on"], today)
    await conn.execute(
        "UPDATE proposals SET status = $2, outcome = $2, answer = $3, answered_on = $4, answered_by = $5,"
        " answered_late = $6, first_answered_on = COALESCE(first_answered_on, $4) WHERE id = $1",
        proposal_id, outcome, text, today, actor.subject, late)
    await _history(conn, proposal_id, "answered", actor, outcome=outcome, late=late)
    await uow.stage(ProposalAnswered(proposal_id=proposal_id, member_id=p["member_id"],
                                     org_path=list(p["org_path"]), outcome=outcome, answered_on=today, late=late))
    return await view(conn, proposal_id, actor, today)


async def implement(uow: UnitOfWork, proposal_id: uuid.UUID, note: str, actor: Principal,
                    today: date) -> dict:
    """有落实: an adopted proposal is put into practice → ProposalAdopted (no grade yet)."""
    conn = uow.conn
    actor.require("write")
    p = await load(conn, proposal_id, actor, lock=True)
    actor.require_scope(p["org_path"])
    check_step(p["status"], "adopted", "只有已采纳的建议才能登记落实")
    await conn.execute("UPDATE proposals SET status = 'implemented', implemented_on = $2, implementation_note = $3,"
                       " implemented_by = $4 WHERE id = $1", proposal_id, today, note, actor.subject)
    await _history(conn, proposal_id, "implemented", actor)
    await uow.stage(proposal_adopted(p))
    return await view(conn, proposal_id, actor, today)


async def reward(uow: UnitOfWork, proposal_id: uuid.UUID, grade: str, effect: str, actor: Principal,
                 today: date, configured_rewards: Mapping[str, int]) -> dict:
    """有效果: an implemented proposal whose effect is known gets its graded reward, once →
    ProposalAdopted with grade and amount (fen)."""
    conn = uow.conn
    actor.require("write")
    p = await load(conn, proposal_id, actor, lock=True)
    actor.require_scope(p["org_path"])
    if p["status"] == "rewarded":
        raise RuleViolation("该建议已评奖", status=409, kind="proposal-rewarded")
    check_step(p["status"], "implemented", "建议须先登记落实，方可按效果评奖")
    amount = reward_fen(grade, configured_rewards)
    await conn.execute("UPDATE proposals SET status = 'rewarded', effect = $2, award_grade = $3, reward_fen = $4,"
                       " rewarded_by = $5, rewarded_at = now() WHERE id = $1",
                       proposal_id, effect, grade, amount, actor.subject)
    await _history(conn, proposal_id, "rewarded", actor, grade=grade, reward_fen=amount)
    await uow.stage(proposal_adopted(p, award_grade=grade, reward_fen=amount))
    return await view(conn, proposal_id, actor, today)
