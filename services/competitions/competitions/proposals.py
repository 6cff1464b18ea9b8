"""Rationalisation proposals (合理化建议): "有征集、有答复、有落实、有效果".

征集: a member submits (member token) or staff enter one for a member of their subtree — staff
may date a proposal collected on paper back to the day it was handed in. It is due for an answer
one or two months later (COMPETITIONS_PROPOSAL_ANSWER_MONTHS), three for a major one.
答复: the union's staff assign it to an officer or department and answer it: adopted, not adopted,
or under study. The first answer meets the duty to answer and is late when given after the due
date; a proposal "under study" later gets its final answer, which carries the first answer's
late flag (the member was answered when they were). Unanswered proposals past their due date are
overdue and listed (GET /proposals?overdue=true).
落实: an adopted proposal is implemented → ProposalAdopted (no grade yet).
效果: once its effect is known it is rewarded with a grade (一、二、三等奖, 鼓励奖) whose amount in
fen is the federation's setting → ProposalAdopted again, with grade and amount.
Every step is a proposal_history row with who and when.

A proposal stays with the union its member belonged to when submitting (it answers, even if the
member transfers); its path is read from org_units, which follows UnionMoved.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Mapping

import asyncpg
from opentelemetry import trace

from competitions.domain import UNKNOWN_MEMBER, UNKNOWN_UNIT
from contracts.events import ProposalAdopted, ProposalAnswered, ProposalSubmitted
from unionops import outbox
from unionops.auth import Principal
from unionops.problems import Problem, RuleViolation

OUTCOMES: dict[str, str] = {"adopted": "采纳", "not_adopted": "不予采纳", "under_study": "正在研究"}
GRADES: dict[str, str] = {"first": "一等奖", "second": "二等奖", "third": "三等奖", "encouragement": "鼓励奖"}
# Defaults in fen (¥2,000 / ¥1,000 / ¥500 / ¥200); COMPETITIONS_PROPOSAL_REWARDS_FEN overrides.
DEFAULT_REWARDS_FEN: dict[str, int] = {"first": 200_000, "second": 100_000, "third": 50_000,
                                       "encouragement": 20_000}
NOT_FOUND = "合理化建议不存在或不在您的管辖范围内"


# ---- rules (no I/O) ------------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """The same day `months` later; a day the month lacks becomes its last (31 Jan → 28/29 Feb)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    first_of_next = date(year + (month0 == 11), (month0 + 1) % 12 + 1, 1)
    return date(year, month0 + 1, min(day.day, (first_of_next - timedelta(days=1)).day))


def answer_due_on(submitted_on: date, *, major: bool, months: int, major_months: int) -> date:
    """答复期限: one or two months after submission, three for a major proposal."""
    return add_months(submitted_on, major_months if major else months)


def check_submitted_on(submitted_on: date, today: date, *, by_member: bool, backdate_days: int) -> None:
    """A member submits today; staff may enter a paper proposal with the day it was handed in."""
    if submitted_on > today:
        raise RuleViolation("提交日期不能晚于今天", field="submitted_on")
    if by_member and submitted_on != today:
        raise RuleViolation("会员本人提交的建议以当天为提交日期", field="submitted_on")
    if (today - submitted_on).days > backdate_days:
        raise RuleViolation(f"补录建议的提交日期最早为 {backdate_days} 天前", field="submitted_on")


def is_overdue(first_answered_on: date | None, due_on: date, today: date) -> bool:
    """Unanswered after the due date (the due date itself is still in time)."""
    return first_answered_on is None and today > due_on


def check_answer(status: str, outcome: str) -> None:
    """Answer once; a proposal "under study" gets exactly one final answer afterwards."""
    if status in ("submitted", "assigned"):
        return
    if status == "under_study" and outcome != "under_study":
        return
    if status == "under_study":
        raise RuleViolation("该建议已答复“正在研究”，请给出采纳或不予采纳的最终答复", field="outcome", status=409,
                            kind="proposal-answered")
    raise RuleViolation("该建议已答复", status=409, kind="proposal-answered")


def answer_is_late(first_answered_on: date | None, first_late: bool | None, due_on: date, answered_on: date) -> bool:
    if first_answered_on is None:
        return answered_on > due_on
    return bool(first_late)


def check_step(status: str, required: str, message: str) -> None:
    if status != required:
        raise RuleViolation(message, status=409, kind="proposal-step")


def reward_fen(grade: str, configured: Mapping[str, int]) -> int:
    amount = configured.get(grade, DEFAULT_REWARDS_FEN[grade])
    if amount < 0:
        raise ValueError(f"negative reward for {grade}")
    return amount


# ---- commands and reads (inside the caller's transaction) ------------------------------------------

@dataclass(frozen=True)
class SubmitProposal:
    member_id: uuid.UUID | None
    title: str
    content: str
    major: bool
    submitted_on: date | None


async def _history(conn: asyncpg.Connection, proposal_id: uuid.UUID, action: str, actor: Principal, **detail) -> None:
    await conn.execute("INSERT INTO proposal_history (proposal_id, action, actor, detail) VALUES ($1, $2, $3, $4)",
                       proposal_id, action, actor.subject, detail)


async def submit(conn: asyncpg.Connection, cmd: SubmitProposal, actor: Principal, settings, today: date) -> dict:
    by_member = actor.role == "member"
    member_id = cmd.member_id
    if by_member:
        member_id = member_id or _as_uuid(actor.subject)
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
    await outbox.record(conn, ProposalSubmitted(
        proposal_id=proposal_id, member_id=member_id, union_id=member["union_id"], org_path=list(member["org_path"]),
        title=cmd.title, major=cmd.major, answer_due_on=due, submitted_on=submitted_on))
    trace.get_current_span().set_attribute("proposal.id", str(proposal_id))
    return await view(conn, proposal_id, actor, today)


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


_SELECT = "SELECT p.*, o.org_path, o.name AS union_name FROM proposals p JOIN org_units o ON o.org_id = p.union_id"


async def _load(conn: asyncpg.Connection, proposal_id: uuid.UUID, actor: Principal, *, lock: bool = False):
    """The proposal, if the caller's subtree holds its union, or it is the caller's own."""
    row = await conn.fetchrow(f"{_SELECT} WHERE p.id = $1{' FOR UPDATE OF p' if lock else ''}", proposal_id)
    if row is None or not (actor.covers(row["org_path"]) or actor.is_member(row["member_id"])):
        raise Problem(404, NOT_FOUND)
    return row


def _out(r: asyncpg.Record, today: date) -> dict:
    keys = ("id", "member_id", "member_name", "union_id", "union_name", "title", "content", "major", "status",
            "submitted_on", "submitted_by", "submitted_via", "submitted_at", "answer_due_on", "assignee",
            "assignee_unit", "assigned_by", "assigned_at", "outcome", "answer", "first_answered_on", "answered_on",
            "answered_by", "answered_late", "implemented_on", "implementation_note", "implemented_by", "effect",
            "award_grade", "reward_fen", "rewarded_by", "rewarded_at")
    return {k: r[k] for k in keys} | {"overdue": is_overdue(r["first_answered_on"], r["answer_due_on"], today)}


async def view(conn: asyncpg.Connection, proposal_id: uuid.UUID, actor: Principal, today: date) -> dict:
    r = await _load(conn, proposal_id, actor)
    history = await conn.fetch("SELECT action, actor, at, detail FROM proposal_history WHERE proposal_id = $1"
                               " ORDER BY id", proposal_id)
    return _out(r, today) | {"history": [dict(h) for h in history]}


async def listing(conn: asyncpg.Connection | asyncpg.Pool, actor: Principal, today: date, *, overdue: bool | None,
                  status: str | None, limit: int) -> list[dict]:
    """Staff: proposals of their subtree; a member: their own. `overdue=true`: unanswered past
    the due date, most overdue first."""
    if actor.role == "member":
        scope, arg = "p.member_id = $1", _as_uuid(actor.subject)
    else:
        actor.require("read")
        scope, arg = "$1 = ANY(o.org_path)", actor.org_id
    order = "p.answer_due_on, p.id" if overdue else "p.submitted_on DESC, p.submitted_at DESC, p.id"
    rows = await conn.fetch(
        f"{_SELECT} WHERE {scope} AND ($2::bool IS NULL OR (p.first_answered_on IS NULL AND p.answer_due_on < $3) = $2)"
        f" AND ($4::text IS NULL OR p.status = $4) ORDER BY {order} LIMIT $5",
        arg, overdue, today, status, limit)
    return [_out(r, today) for r in rows]


async def assign(conn: asyncpg.Connection, proposal_id: uuid.UUID, assignee: str | None, assignee_unit: str | None,
                 actor: Principal, today: date) -> dict:
    """交办: to an officer and/or a department, until it has its final answer."""
    actor.require("write")
    p = await _load(conn, proposal_id, actor, lock=True)
    actor.require_scope(p["org_path"])
    if p["status"] not in ("submitted", "assigned", "under_study"):
        raise RuleViolation("该建议已有最终答复，不能再交办", status=409, kind="proposal-answered")
    await conn.execute(
        "UPDATE proposals SET assignee = $2, assignee_unit = $3, assigned_by = $4, assigned_at = now(),"
        " status = CASE WHEN status = 'submitted' THEN 'assigned' ELSE status END WHERE id = $1",
        proposal_id, assignee, assignee_unit, actor.subject)
    await _history(conn, proposal_id, "assigned", actor, assignee=assignee, assignee_unit=assignee_unit)
    return await view(conn, proposal_id, actor, today)


async def answer(conn: asyncpg.Connection, proposal_id: uuid.UUID, outcome: str, text: str, actor: Principal,
                 today: date) -> dict:
    """有答复 → ProposalAnswered, late when the first answer comes after the due date."""
    actor.require("write")
    p = await _load(conn, proposal_id, actor, lock=True)
    actor.require_scope(p["org_path"])
    check_answer(p["status"], outcome)
    late = answer_is_late(p["first_answered_on"], p["answered_late"], p["answer_due_on"], today)
    await conn.execute(
        "UPDATE proposals SET status = $2, outcome = $2, answer = $3, answered_on = $4, answered_by = $5,"
        " answered_late = $6, first_answered_on = COALESCE(first_answered_on, $4) WHERE id = $1",
        proposal_id, outcome, text, today, actor.subject, late)
    await _history(conn, proposal_id, "answered", actor, outcome=outcome, late=late)
    await outbox.record(conn, ProposalAnswered(proposal_id=proposal_id, member_id=p["member_id"],
                                               org_path=list(p["org_path"]), outcome=outcome, answered_on=today,
                                               late=late))
    return await view(conn, proposal_id, actor, today)


async def implement(conn: asyncpg.Connection, proposal_id: uuid.UUID, note: str, actor: Principal,
                    today: date) -> dict:
    """有落实: an adopted proposal is put into practice → ProposalAdopted (no grade yet)."""
    actor.require("write")
    p = await _load(conn, proposal_id, actor, lock=True)
    actor.require_scope(p["org_path"])
    check_step(p["status"], "adopted", "只有已采纳的建议才能登记落实")
    await conn.execute("UPDATE proposals SET status = 'implemented', implemented_on = $2, implementation_note = $3,"
                       " implemented_by = $4 WHERE id = $1", proposal_id, today, note, actor.subject)
    await _history(conn, proposal_id, "implemented", actor)
    await outbox.record(conn, ProposalAdopted(proposal_id=proposal_id, member_id=p["member_id"],
                                              org_path=list(p["org_path"]), adopted_on=p["answered_on"]))
    return await view(conn, proposal_id, actor, today)


async def reward(conn: asyncpg.Connection, proposal_id: uuid.UUID, grade: str, effect: str, actor: Principal,
                 today: date, configured_rewards: Mapping[str, int]) -> dict:
    """有效果: an implemented proposal whose effect is known gets its graded reward, once →
    ProposalAdopted with grade and amount (fen)."""
    actor.require("write")
    p = await _load(conn, proposal_id, actor, lock=True)
    actor.require_scope(p["org_path"])
    if p["status"] == "rewarded":
        raise RuleViolation("该建议已评奖", status=409, kind="proposal-rewarded")
    check_step(p["status"], "implemented", "建议须先登记落实，方可按效果评奖")
    amount = reward_fen(grade, configured_rewards)
    await conn.execute("UPDATE proposals SET status = 'rewarded', effect = $2, award_grade = $3, reward_fen = $4,"
                       " rewarded_by = $5, rewarded_at = now() WHERE id = $1",
                       proposal_id, effect, grade, amount, actor.subject)
    await _history(conn, proposal_id, "rewarded", actor, grade=grade, reward_fen=amount)
    await outbox.record(conn, ProposalAdopted(proposal_id=proposal_id, member_id=p["member_id"],
                                              org_path=list(p["org_path"]), adopted_on=p["answered_on"],
                                              award_grade=grade, reward_fen=amount))
    return await view(conn, proposal_id, actor, today)
