"""Commands of workers' congresses (职代会): establishing one, electing delegates, recording a
session with its resolutions and 民主评议干部, delegates' proposals and their answers, and the
overdue sweep. The rules are in `membership.domain.congresses`; officers of the congress's union
and above act, anything outside their subtree is answered as absent."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from contracts.events import (
    CongressEstablished, CongressProposalAnswered, CongressProposalOverdue, CongressProposalSubmitted,
    CongressResolutionVoted, CongressSessionHeld, DelegatesElected,
)
from membership.domain import congresses as rules
from membership.queries import load_unit
from membership.queries.congresses import (
    CONGRESS_NOT_FOUND, IN_TERM, congress_view, load_congress, load_congress_of_delegate, load_proposal, proposal_view,
)
from unionops.auth import Principal
from unionops.problems import Problem, RuleViolation
from unionops.unit_of_work import UnitOfWork, refusing_duplicates

UNKNOWN_EMPLOYERS = "企业不存在或不在您的管辖范围内"


@dataclass(frozen=True)
class EstablishCongress:
    kind: str
    name: str
    union_id: uuid.UUID | None
    employer_ids: tuple[uuid.UUID, ...]
    established_on: date
    proposal_answer_days: int = rules.DEFAULT_PROPOSAL_ANSWER_DAYS


async def establish(uow: UnitOfWork, cmd: EstablishCongress, actor: Principal) -> dict:
    conn = uow.conn
    employer_ids = list(dict.fromkeys(cmd.employer_ids))
    employers = await conn.fetch(
        "SELECT e.id, e.union_id, o.path FROM employers e JOIN org_units o ON o.id = e.org_id"
        " WHERE e.id = ANY($1::uuid[]) AND $2 = ANY(o.path)", employer_ids, actor.org_id)
    if len(employers) != len(employer_ids):
        raise RuleViolation(UNKNOWN_EMPLOYERS, field="employer_ids")
    union_id = cmd.union_id
    if cmd.kind == "employer":
        own = employers[0]["union_id"] if len(employers) == 1 else None
        if len(employers) == 1 and own is None:
            raise RuleViolation("该企业尚未建立工会，不能建立职代会", field="employer_ids")
        if union_id is not None and union_id != own:
            raise RuleViolation("企业职代会属于该企业的工会", field="union_id")
        union_id = own
    elif union_id is None:
        raise RuleViolation("请指定区域性、行业性职代会所属的工会", field="union_id")
    union = await load_unit(conn, union_id, field="union_id", actor=actor) if union_id else None
    rules.check_congress_union(cmd.kind, union["level"] if union else "", union["kind"] if union else "",
                               len(employers))
    if cmd.kind != "employer":
        outside = await conn.fetchval(
            "SELECT count(*) FROM employers e JOIN org_units o ON o.id = e.org_id"
            " LEFT JOIN org_units u ON u.id = e.union_id"
            " WHERE e.id = ANY($1::uuid[]) AND NOT ($2 = ANY(o.path) OR $2 = ANY(COALESCE(u.path, '{}')))",
            employer_ids, union_id)
        if outside:
            raise RuleViolation("所覆盖的企业须在该工会的管辖范围内", field="employer_ids")
    if await conn.fetchval("SELECT 1 FROM congress_employers WHERE employer_id = ANY($1::uuid[]) LIMIT 1",
                           employer_ids):
        raise RuleViolation("所列企业已有职代会", field="employer_ids", status=409, kind="employer-has-congress")
    congress_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO congresses (id, union_id, kind, name, established_on, proposal_answer_days, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        congress_id, union_id, cmd.kind, cmd.name, cmd.established_on, cmd.proposal_answer_days, actor.subject)
    refusal = RuleViolation("所列企业已有职代会", field="employer_ids", status=409, kind="employer-has-congress")
    async with refusing_duplicates(conn, refusal):  # a racing congress over the same employer
        await conn.execute("INSERT INTO congress_employers (congress_id, employer_id)"
                           " SELECT $1, unnest($2::uuid[])", congress_id, employer_ids)
    await uow.stage(CongressEstablished(
        congress_id=congress_id, union_id=union_id, org_path=list(union["path"]), kind=cmd.kind,
        congress_name=cmd.name, employer_ids=employer_ids, established_on=cmd.established_on))
    return await congress_view(conn, congress_id, actor, cmd.established_on)


# The bulk election: every id checked in one statement, the accepted inserted in one more.
_CHECK_CANDIDATES = """
WITH wanted AS (SELECT DISTINCT unnest($2::uuid[]) AS member_id),
covered AS (
    SELECT e.union_id FROM congress_employers ce JOIN employers e ON e.id = ce.employer_id
    WHERE ce.congress_id = $1 AND e.union_id IS NOT NULL
    UNION SELECT union_id FROM congresses WHERE id = $1)
SELECT w.member_id,
       CASE WHEN m.id IS NULL OR m.union_id NOT IN (SELECT union_id FROM covered) THEN 'not_covered'
            WHEN m.status <> 'active' THEN 'not_active'
            WHEN EXISTS (SELECT 1 FROM congress_delegates d WHERE d.congress_id = $1 AND d.member_id = w.member_id
                         AND d.term_start <= $4 AND d.term_end >= $3) THEN 'already_delegate'
       END AS refusal
FROM wanted w LEFT JOIN members m ON m.id = w.member_id
ORDER BY w.member_id
"""


async def elect_delegates(uow: UnitOfWork, congress_id: uuid.UUID, member_ids: list[uuid.UUID], term_start: date,
                          term_end: date, elected_on: date, actor: Principal) -> dict:
    """Elect members delegates for a term; the ones who cannot be are listed with the reason
    and the others elected (a member outside the covered unions reads like an unknown one)."""
    conn = uow.conn
    congress = await load_congress(conn, congress_id, actor, lock=True)
    rules.check_term(term_start, term_end, elected_on)
    rules.check_after(term_start, congress["established_on"], field="term_start", what="任期开始日")
    checked = await conn.fetch(_CHECK_CANDIDATES, congress_id, member_ids, term_start, term_end)
    accepted = [r["member_id"] for r in checked if r["refusal"] is None]
    refused = [{"member_id": r["member_id"], "reason": r["refusal"], "message": rules.ELECTION_REFUSALS[r["refusal"]]}
               for r in checked if r["refusal"] is not None]
    if accepted:
        await conn.execute(
            "INSERT INTO congress_delegates (congress_id, member_id, term_start, term_end, elected_on, elected_by)"
            " SELECT $1, unnest($2::uuid[]), $3, $4, $5, $6",
            congress_id, accepted, term_start, term_end, elected_on, actor.subject)
        await uow.stage(DelegatesElected(
            congress_id=congress_id, org_path=list(congress["org_path"]), congress_name=congress["name"],
            member_ids=accepted, refused_count=len(refused), term_start=term_start, term_end=term_end,
            elected_on=elected_on))
    return {"congress_id": congress_id, "term_start": term_start, "term_end": term_end, "elected": accepted,
            "elected_count": len(accepted), "refused": refused, "refused_count": len(refused)}


@dataclass(frozen=True)
class Resolution:
    title: str
    in_favour: int


@dataclass(frozen=True)
class Evaluation:
    managers_evaluated: int
    satisfied: int
    basically_satisfied: int
    dissatisfied: int


async def record_session(uow: UnitOfWork, congress_id: uuid.UUID, held_on: date, present: int,
                         resolutions: list[Resolution], evaluation: Evaluation | None, actor: Principal) -> dict:
    """A session, quorate or not (an inquorate one is recorded and does not count as held); its
    resolutions voted on the day's electorate."""
    conn = uow.conn
    congress = await load_congress(conn, congress_id, actor, lock=True)
    rules.check_after(held_on, congress["established_on"], field="held_on", what="会议日期")
    electorate = await conn.fetchval(
        "SELECT count(DISTINCT d.member_id) FROM congress_delegates d JOIN members m ON m.id = d.member_id"
        " WHERE d.congress_id = $1 AND " + IN_TERM, congress_id, held_on)
    attendance, votes = rules.session_votes(electorate, present, [r.in_favour for r in resolutions])
    if evaluation is not None:
        rules.check_evaluation(present, evaluation.satisfied, evaluation.basically_satisfied, evaluation.dissatisfied)
    session_id = uuid.uuid4()
    e = evaluation
    await conn.execute(
        "INSERT INTO congress_sessions (id, congress_id, held_on, electorate, present, quorate, managers_evaluated,"
        " satisfied, basically_satisfied, dissatisfied, recorded_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
        session_id, congress_id, held_on, electorate, present, attendance.quorate,
        e and e.managers_evaluated, e and e.satisfied, e and e.basically_satisfied, e and e.dissatisfied,
        actor.subject)
    ids = [uuid.uuid4() for _ in resolutions]
    if resolutions:
        await conn.execute(
            "INSERT INTO congress_resolutions (id, session_id, title, in_favour, outcome)"
            " SELECT unnest($1::uuid[]), $2, unnest($3::text[]), unnest($4::int[]), unnest($5::text[])",
            ids, session_id, [r.title for r in resolutions], [r.in_favour for r in resolutions],
            [v.outcome for v in votes])
    path = list(congress["org_path"])
    await uow.stage(
        CongressSessionHeld(
            congress_id=congress_id, session_id=session_id, org_path=path, held_on=held_on, electorate=electorate,
            present=present, quorate=attendance.quorate,
            resolutions_adopted=sum(v.outcome == "adopted" for v in votes),
            resolutions_rejected=sum(v.outcome == "rejected" for v in votes),
            managers_evaluated=e.managers_evaluated if e and attendance.quorate else None),
        *(CongressResolutionVoted(congress_id=congress_id, session_id=session_id, resolution_id=rid, org_path=path,
                                  title=r.title, electorate=electorate, present=present, in_favour=r.in_favour,
                                  outcome=v.outcome) for rid, r, v in zip(ids, resolutions, votes)))
    return {"id": session_id, "congress_id": congress_id, "held_on": held_on, "electorate": electorate,
            "present": present, "quorate": attendance.quorate, "held": attendance.quorate,
            "resolutions": [{"id": rid, "title": r.title, "in_favour": r.in_favour, "outcome": v.outcome}
                            for rid, r, v in zip(ids, resolutions, votes)],
            "evaluation": None if e is None else {
                "managers_evaluated": e.managers_evaluated, "satisfied": e.satisfied,
                "basically_satisfied": e.basically_satisfied, "dissatisfied": e.dissatisfied,
                "counts": attendance.quorate}}


async def submit_proposal(uow: UnitOfWork, congress_id: uuid.UUID, member_id: uuid.UUID, title: str, content: str,
                          submitted_on: date, actor: Principal, today: date) -> dict:
    """A delegate's proposal (提案), due for an answer the congress's number of days later: entered
    by staff of the congress's subtree, or submitted by the delegate themselves (member token) —
    to whom a congress they are no delegate of reads as absent."""
    conn = uow.conn
    by_delegate = actor.role == "member"
    if by_delegate:
        if not actor.is_member(member_id):
            raise Problem(403, "职工代表只能以本人名义提交提案", type_="/problems/forbidden-role")
        if submitted_on != today:
            raise RuleViolation("职工代表本人提交的提案以当天为提交日期", field="submitted_on")
        congress = await load_congress_of_delegate(conn, congress_id)
    else:
        actor.require("write")
        congress = await load_congress(conn, congress_id, actor)
    in_term = await conn.fetchval(
        "SELECT 1 FROM congress_delegates d JOIN members m ON m.id = d.member_id"
        " WHERE d.congress_id = $1 AND d.member_id = $3 AND " + IN_TERM, congress_id, submitted_on, member_id)
    if not in_term and by_delegate:
        raise Problem(404, CONGRESS_NOT_FOUND)
    if not in_term:
        raise RuleViolation("提案人须为提交当日任期内的本职代会职工代表", field="member_id")
    due = rules.answer_due_on(submitted_on, congress["proposal_answer_days"])
    proposal_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO congress_proposals (id, congress_id, member_id, title, content, submitted_on, answer_due_on,"
        " submitted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        proposal_id, congress_id, member_id, title, content, submitted_on, due, actor.subject)
    await uow.stage(CongressProposalSubmitted(
        congress_id=congress_id, proposal_id=proposal_id, member_id=member_id, org_path=list(congress["org_path"]),
        title=title, submitted_on=submitted_on, answer_due_on=due))
    return await proposal_view(conn, proposal_id, actor, today)


async def answer_proposal(uow: UnitOfWork, proposal_id: uuid.UUID, outcome: str, answer: str, actor: Principal,
                          today: date) -> dict:
    """The answer, once; late when after the due date. The proposing delegate is told."""
    conn = uow.conn
    p = await load_proposal(conn, proposal_id, actor, lock=True)
    if p["answered_on"] is not None:
        raise RuleViolation("该提案已答复", status=409, kind="proposal-answered")
    late = rules.proposal_is_late(p["answer_due_on"], today)
    await conn.execute(
        "UPDATE congress_proposals SET outcome = $2, answer = $3, answered_on = $4, answered_by = $5,"
        " answered_late = $6 WHERE id = $1", proposal_id, outcome, answer, today, actor.subject, late)
    await uow.stage(CongressProposalAnswered(
        congress_id=p["congress_id"], proposal_id=proposal_id, member_id=p["member_id"], org_path=list(p["org_path"]),
        congress_name=p["congress_name"], outcome=outcome, answered_on=today, late=late))
    return await proposal_view(conn, proposal_id, actor, today)


# Set-based, once per proposal: one UPDATE marks them, one INSERT … SELECT stages the marked ones.
_MARK_OVERDUE = """
UPDATE congress_proposals SET overdue_raised_at = now()
WHERE answered_on IS NULL AND overdue_raised_at IS NULL AND answer_due_on < $1
RETURNING id
"""
_OVERDUE_RAISED = """
SELECT p.congress_id, p.id AS proposal_id, o.path AS org_path, c.name AS congress_name, p.answer_due_on,
       $1::date AS detected_on, p.answer_due_on AS _due
FROM congress_proposals p JOIN congresses c ON c.id = p.congress_id JOIN org_units o ON o.id = c.union_id
WHERE p.id = ANY($2::uuid[])
"""


async def raise_overdue(uow: UnitOfWork, today: date) -> int:
    """Proposals unanswered past their due date: CongressProposalOverdue once each (the mark is
    the record that it was raised; a second run, even in the same transaction, finds none)."""
    marked = [r["id"] for r in await uow.conn.fetch(_MARK_OVERDUE, today)]
    if not marked:
        return 0
    return await uow.stage_select(CongressProposalOverdue, _OVERDUE_RAISED, today, marked,
                                  order_by=["_due", "proposal_id"])
