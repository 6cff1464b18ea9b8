"""Commands on collective contracts (集体合同, issue 14): opening a negotiation for one
employer or several (区域性、行业性), the written offer and its answer, sessions, the workers' vote
on the draft, signing, the labour administration's receipt (and objection), publication, and the
periodic check that raises reminders, overdue offers, entry into force, the renewal window and
expiry — each once. Rules in domain.collective_contracts and domain.votes; `today` is passed in."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from contracts.events import (
    CollectiveContractExpired, CollectiveContractExpiring, CollectiveContractInForce, CollectiveContractPublished,
    CollectiveContractSigned, CollectiveOfferAnswerDue, CollectiveOfferAnswered, CollectiveOfferOverdue,
    CollectiveOfferSent,
)
from membership.domain import collective_contracts as rules
from membership.domain.votes import Vote, check_counts, congress_electorate
from membership.queries import congresses
from membership.queries import collective_contracts as queries
from membership.queries import load_unit
from unionops.auth import Principal
from unionops.backdating import check_dated
from unionops.problems import RuleViolation
from unionops.unit_of_work import UnitOfWork, refusing_duplicates


@dataclass(frozen=True)
class OpenNegotiation:
    org_id: uuid.UUID
    title: str
    kind: str
    coverage: str
    employer_ids: tuple[uuid.UUID, ...]


async def open_negotiation(uow: UnitOfWork, cmd: OpenNegotiation, actor: Principal, today: date) -> dict:
    conn = uow.conn
    unit = await load_unit(conn, cmd.org_id, field="org_id", actor=actor)
    rules.check_union_side(cmd.coverage, unit["level"], unit["kind"])
    employer_ids = tuple(dict.fromkeys(cmd.employer_ids))
    rules.check_employers_covered(cmd.coverage, len(employer_ids))
    # An employer belongs to the unit's subtree by the unit answerable for it or by its union.
    known = await conn.fetchval(
        "SELECT count(*) FROM employers e LEFT JOIN org_units a ON a.id = e.org_id LEFT JOIN org_units u ON u.id = e.union_id"
        " WHERE e.id = ANY($1::uuid[]) AND ($2 = ANY(a.path) OR $2 = ANY(u.path))", list(employer_ids), cmd.org_id)
    if known != len(employer_ids):
        raise RuleViolation("企业不存在或不在该工会的范围内", field="employer_ids")
    contract_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO collective_contracts (id, org_id, title, kind, coverage, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
        contract_id, cmd.org_id, cmd.title, cmd.kind, cmd.coverage, actor.subject)
    await conn.execute("INSERT INTO collective_contract_employers (contract_id, employer_id)"
                       " SELECT $1, unnest($2::uuid[])", contract_id, list(employer_ids))
    return await queries.contract(conn, contract_id, actor, today)


async def _contract(uow: UnitOfWork, contract_id: uuid.UUID, actor: Principal, today: date, *allowed: str):
    """The contract, locked; 404 outside the caller's subtree, 409 when the step does not fit where it stands."""
    row = await queries.contract_in_scope(uow.conn, contract_id, actor, today, for_update=True)
    if allowed and row["status"] not in allowed:
        wanted = "、".join(rules.STATUS_LABELS[s] for s in allowed)
        raise RuleViolation(f"该集体合同当前为“{rules.STATUS_LABELS[row['status']]}”，此步骤须在“{wanted}”时办理",
                            status=409, kind="contract-step-out-of-order")
    return row


def _check_offer_dates(sent_on: date, received_on: date, today: date) -> None:
    check_dated(sent_on, today, field="sent_on", what="要约发出日期")
    check_dated(received_on, today, field="received_on", what="要约收到日期")
    rules.check_offer_dates(sent_on, received_on)


async def send_offer(uow: UnitOfWork, contract_id: uuid.UUID, offered_by: str, sent_on: date, received_on: date,
                     actor: Principal, today: date) -> dict:
    c = await _contract(uow, contract_id, actor, today, "negotiating")
    _check_offer_dates(sent_on, received_on, today)
    if await uow.conn.fetchval("SELECT 1 FROM collective_offers WHERE contract_id = $1 AND answered_on IS NULL",
                               contract_id):
        raise RuleViolation("已有尚未答复的协商要约", field="offered_by", status=409, kind="offer-pending")
    return await _record_offer(uow, c, offered_by, sent_on, received_on, actor)


async def _record_offer(uow: UnitOfWork, c, offered_by: str, sent_on: date, received_on: date,
                        actor: Principal) -> dict:
    conn, contract_id = uow.conn, c["id"]
    offer_id, due = uuid.uuid4(), rules.answer_due_on(received_on)
    await conn.execute(
        "INSERT INTO collective_offers (id, contract_id, offered_by, sent_on, received_on, answer_due_on, recorded_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)", offer_id, contract_id, offered_by, sent_on, received_on, due,
        actor.subject)
    employers = await conn.fetch(
        "SELECT e.id, e.name FROM collective_contract_employers ce JOIN employers e"
        " ON e.id = ce.employer_id WHERE ce.contract_id = $1 ORDER BY e.name, e.id", contract_id)
    await uow.stage(CollectiveOfferSent(
        contract_id=contract_id, offer_id=offer_id, org_id=c["org_id"], org_path=list(c["org_path"]), title=c["title"],
        kind=c["kind"], offered_by=offered_by, sent_on=sent_on, received_on=received_on, answer_due_on=due,
        employer_names=[e["name"] for e in employers], employer_ids=[e["id"] for e in employers]))
    return {"id": offer_id, "contract_id": contract_id, "offered_by": offered_by, "sent_on": sent_on,
            "received_on": received_on, "answer_due_on": due}


async def renew(uow: UnitOfWork, contract_id: uuid.UUID, title: str, offered_by: str, sent_on: date,
                received_on: date, actor: Principal, today: date) -> dict:
    """Either side asks to renew (续订) within the six months before the end (or after it): a new
    negotiation of the same union, kind and employers, opened by that side's written offer."""
    conn = uow.conn
    old = await _contract(uow, contract_id, actor, today, "in_force", "awaiting_start", "expired")
    _check_offer_dates(sent_on, received_on, today)
    if sent_on < old["renewal_opens_on"]:
        raise RuleViolation(f"到期前六个月内方可提出续订（自{old['renewal_opens_on'].isoformat()}起）", field="sent_on",
                            status=409, kind="renewal-window-not-open")
    refusal = RuleViolation("该集体合同已提出续订", status=409, kind="renewal-exists")
    if old["renewed_by"] is not None:
        raise refusal
    new_id = uuid.uuid4()
    async with refusing_duplicates(conn, refusal):  # the unique renews_contract_id settles a race
        await conn.execute(
            "INSERT INTO collective_contracts (id, org_id, title, kind, coverage, renews_contract_id, created_by)"
            " SELECT $1, org_id, $2, kind, coverage, id, $3 FROM collective_contracts WHERE id = $4",
            new_id, title, actor.subject, contract_id)
    await conn.execute("INSERT INTO collective_contract_employers (contract_id, employer_id)"
                       " SELECT $1, employer_id FROM collective_contract_employers WHERE contract_id = $2",
                       new_id, contract_id)
    renewal = await queries.contract_in_scope(conn, new_id, actor, today)
    offer = await _record_offer(uow, renewal, offered_by, sent_on, received_on, actor)
    return {**await queries.contract(conn, new_id, actor, today), "offer": offer}


async def answer_offer(uow: UnitOfWork, contract_id: uuid.UUID, offer_id: uuid.UUID, answer: str, reasons: str | None,
                       answered_on: date, actor: Principal, today: date) -> dict:
    conn = uow.conn
    c = await _contract(uow, contract_id, actor, today, "negotiating")
    offer = await conn.fetchrow("SELECT * FROM collective_offers WHERE id = $1 AND contract_id = $2 FOR UPDATE",
                                offer_id, contract_id)
    if offer is None:
        raise RuleViolation("协商要约不存在", field="offer_id", status=404, kind="not-found")
    if offer["answered_on"] is not None:
        raise RuleViolation("该要约已答复", field="answer", status=409, kind="offer-answered")
    check_dated(answered_on, today, field="answered_on", what="答复日期")
    rules.check_answer(answer, reasons, answered_on, offer["received_on"])
    reasons = reasons.strip() if answer == "declined" else None
    await conn.execute("UPDATE collective_offers SET answered_on = $2, answer = $3, decline_reasons = $4 WHERE id = $1",
                       offer_id, answered_on, answer, reasons)
    late = answered_on > offer["answer_due_on"]
    await uow.stage(CollectiveOfferAnswered(contract_id=contract_id, offer_id=offer_id, org_path=list(c["org_path"]),
                                            offered_by=offer["offered_by"], answer=answer, answered_on=answered_on,
                                            late=late))
    return {"id": offer_id, "answer": answer, "answered_on": answered_on, "decline_reasons": reasons, "late": late}


async def _negotiation_began(uow: UnitOfWork, contract_id: uuid.UUID) -> None:
    if not await uow.conn.fetchval("SELECT 1 FROM collective_offers WHERE contract_id = $1 AND answer = 'accepted'",
                                   contract_id):
        raise RuleViolation("尚无被接受的协商要约，不能进行协商", status=409, kind="no-accepted-offer")


async def record_session(uow: UnitOfWork, contract_id: uuid.UUID, held_on: date, summary: str, actor: Principal,
                         today: date) -> dict:
    await _contract(uow, contract_id, actor, today, "negotiating")
    check_dated(held_on, today, field="held_on", what="协商会议日期")
    await _negotiation_began(uow, contract_id)
    await uow.conn.execute("INSERT INTO collective_sessions (contract_id, held_on, summary, recorded_by)"
                           " VALUES ($1, $2, $3, $4)", contract_id, held_on, summary, actor.subject)
    return {"contract_id": contract_id, "held_on": held_on, "summary": summary}


@dataclass(frozen=True)
class Ballot:
    """The counts as the officer reports them; a congress's electorate comes from its delegates.
    Counts that cannot be are refused at once, before the contract is looked at."""

    electorate: int | None
    present: int
    in_favour: int

    def __post_init__(self) -> None:
        check_counts(self.electorate, self.present, self.in_favour)


async def record_vote(uow: UnitOfWork, contract_id: uuid.UUID, body: str, voted_on: date, ballot: Ballot,
                      actor: Principal, today: date) -> dict:
    """The draft before the workers' congress or all workers; a rejected or inquorate draft may be
    negotiated further and voted on again, an adopted one goes to signing. Before a congress the
    electorate is its delegates in term on the day (the one congress covering every employer of
    the contract); before all workers the officer gives it."""
    conn = uow.conn
    await _contract(uow, contract_id, actor, today, "negotiating")
    check_dated(voted_on, today, field="voted_on", what="表决日期")
    await _negotiation_began(uow, contract_id)
    if not await conn.fetchval("SELECT 1 FROM collective_sessions WHERE contract_id = $1", contract_id):
        raise RuleViolation("草案须经协商会议形成后方可提交表决", status=409, kind="no-session")
    electorate, congress_id = ballot.electorate, None
    if body == "congress":
        congress_id, delegates = await congresses.congress_voting_on_contract(conn, contract_id, voted_on)
        electorate = congress_electorate(delegates, ballot.electorate)
    elif electorate is None:
        raise RuleViolation("全体职工表决须填写应到人数（全体职工人数）", field="electorate")
    vote = Vote(electorate=electorate, present=ballot.present, in_favour=ballot.in_favour)
    await conn.execute(
        "UPDATE collective_contracts SET vote_body = $2, voted_on = $3, vote_electorate = $4, vote_present = $5,"
        " vote_in_favour = $6, vote_outcome = $7, vote_congress_id = $8 WHERE id = $1",
        contract_id, body, voted_on, vote.electorate, vote.present, vote.in_favour, vote.outcome, congress_id)
    return {"contract_id": contract_id, "body": body, "congress_id": congress_id, "voted_on": voted_on,
            "electorate": vote.electorate,
            "present": vote.present, "in_favour": vote.in_favour, "outcome": vote.outcome}


@dataclass(frozen=True)
class Signing:
    signed_on: date
    union_representative: str
    employer_representative: str
    starts_on: date
    ends_on: date


async def sign(uow: UnitOfWork, contract_id: uuid.UUID, s: Signing, actor: Principal, today: date) -> dict:
    c = await _contract(uow, contract_id, actor, today, "adopted")
    check_dated(s.signed_on, today, field="signed_on", what="签订日期")
    if s.signed_on < c["voted_on"]:
        raise RuleViolation("签订日期不能早于草案通过日期", field="signed_on")
    rules.check_term(s.starts_on, s.ends_on)
    await uow.conn.execute(
        "UPDATE collective_contracts SET signed_on = $2, union_representative = $3, employer_representative = $4,"
        " starts_on = $5, ends_on = $6, renewal_opens_on = $7 WHERE id = $1",
        contract_id, s.signed_on, s.union_representative, s.employer_representative, s.starts_on, s.ends_on,
        rules.renewal_window_opens(s.ends_on))
    await uow.stage(CollectiveContractSigned(
        contract_id=contract_id, org_id=c["org_id"], org_path=list(c["org_path"]), title=c["title"], kind=c["kind"],
        coverage=c["coverage"], employers=c["employers_count"], signed_on=s.signed_on, starts_on=s.starts_on,
        ends_on=s.ends_on))
    return await queries.contract(uow.conn, contract_id, actor, today)


async def submit(uow: UnitOfWork, contract_id: uuid.UUID, received_on: date, actor: Principal, today: date) -> dict:
    """The labour administration received the text: in force on day 15 unless it objects."""
    c = await _contract(uow, contract_id, actor, today, "signed")
    check_dated(received_on, today, field="received_on", what="劳动行政部门收到日期")
    if received_on < c["signed_on"]:
        raise RuleViolation("报送日期不能早于签订日期", field="received_on")
    await uow.conn.execute("UPDATE collective_contracts SET received_on = $2, in_force_from = $3 WHERE id = $1",
                           contract_id, received_on, rules.in_force_from(received_on))
    return await queries.contract(uow.conn, contract_id, actor, today)


async def object_to(uow: UnitOfWork, contract_id: uuid.UUID, objected_on: date, objection: str, actor: Principal,
                    today: date) -> dict:
    """The administration's objection within the 15 days: the contract does not come into force
    (the parties negotiate again and sign a new text)."""
    c = await _contract(uow, contract_id, actor, today, "under_review", "in_force", "awaiting_start", "expired")
    check_dated(objected_on, today, field="objected_on", what="审查意见日期")
    rules.check_objection(objected_on, c["received_on"])
    if c["in_force_raised_at"] is not None:  # its entry into force was announced already
        raise RuleViolation("该集体合同已生效，不能再登记异议", field="objected_on", status=409, kind="review-period-over")
    await uow.conn.execute("UPDATE collective_contracts SET objected_on = $2, objection = $3 WHERE id = $1",
                           contract_id, objected_on, objection)
    return await queries.contract(uow.conn, contract_id, actor, today)


async def publish(uow: UnitOfWork, contract_id: uuid.UUID, published_on: date, actor: Principal, today: date) -> dict:
    """Published to the workers it covers once in force (集体合同规定 Art. 48)."""
    c = await _contract(uow, contract_id, actor, today, "in_force", "awaiting_start")
    check_dated(published_on, today, field="published_on", what="公布日期")
    if published_on < c["in_force_from"]:
        raise RuleViolation("集体合同生效后方可向职工公布", field="published_on")
    await uow.conn.execute("UPDATE collective_contracts SET published_on = $2 WHERE id = $1", contract_id, published_on)
    await uow.stage(CollectiveContractPublished(contract_id=contract_id, org_id=c["org_id"], org_path=list(c["org_path"]),
                                                title=c["title"], published_on=published_on))
    return await queries.contract(uow.conn, contract_id, actor, today)


# ---- the periodic check: each one set-based, each thing raised once (its *_raised_at column) ----------

_OFFERS_DUE = """
UPDATE collective_offers f SET {column} = now() FROM (
  SELECT f.id FROM collective_offers f WHERE f.answered_on IS NULL AND f.{column} IS NULL AND {condition}
  ORDER BY f.answer_due_on LIMIT $2 FOR UPDATE SKIP LOCKED) due, collective_contracts c, org_units o
WHERE f.id = due.id AND c.id = f.contract_id AND o.id = c.org_id
RETURNING f.id, f.contract_id, f.offered_by, f.received_on, f.answer_due_on, c.org_id, o.path, c.title
"""

_CONTRACTS_DUE = """
UPDATE collective_contracts c SET {column} = now() FROM (
  SELECT c.id FROM collective_contracts c WHERE c.{column} IS NULL AND c.objected_on IS NULL AND {condition}
  ORDER BY c.ends_on LIMIT $2 FOR UPDATE SKIP LOCKED) due, org_units o
WHERE c.id = due.id AND o.id = c.org_id
RETURNING c.id, c.org_id, o.path, c.title, c.kind, c.in_force_from, c.ends_on,
          ARRAY(SELECT ce.employer_id FROM collective_contract_employers ce WHERE ce.contract_id = c.id
                ORDER BY ce.employer_id) AS employer_ids
"""


async def watch_deadlines(uow: UnitOfWork, today: date, *, limit: int = 500) -> dict[str, int]:
    """Raise what fell due by `today`, in the order a contract lives it (so an old contract seen
    the first time comes into force, then expires): the union's reminder of an employer's offer
    (REMINDER_DAYS before its answer is due), unanswered offers past their 20 days, contracts
    whose 15 days of review passed, the renewal window opening, the term ending."""
    conn = uow.conn
    reminded = await conn.fetch(_OFFERS_DUE.format(
        column="reminder_raised_at",
        condition=f"f.offered_by = 'employer' AND f.answer_due_on - {rules.REMINDER_DAYS} <= $1 AND f.answer_due_on >= $1"),
        today, limit)
    overdue = await conn.fetch(_OFFERS_DUE.format(column="overdue_raised_at", condition="f.answer_due_on < $1"),
                               today, limit)
    in_force = await conn.fetch(_CONTRACTS_DUE.format(column="in_force_raised_at", condition="c.in_force_from <= $1"),
                                today, limit)
    expiring = await conn.fetch(_CONTRACTS_DUE.format(
        column="expiring_raised_at", condition=queries.IN_FORCE.format(d="$1") + " AND c.renewal_opens_on <= $1"),
        today, limit)
    expired = await conn.fetch(_CONTRACTS_DUE.format(
        column="expired_raised_at", condition="c.in_force_from <= c.ends_on AND c.ends_on < $1"), today, limit)
    await uow.stage(
        *(CollectiveOfferAnswerDue(contract_id=r["contract_id"], offer_id=r["id"], org_id=r["org_id"],
                                   org_path=list(r["path"]), title=r["title"], answer_due_on=r["answer_due_on"],
                                   detected_on=today) for r in reminded),
        *(CollectiveOfferOverdue(contract_id=r["contract_id"], offer_id=r["id"], org_id=r["org_id"],
                                 org_path=list(r["path"]), title=r["title"], offered_by=r["offered_by"],
                                 received_on=r["received_on"], answer_due_on=r["answer_due_on"], detected_on=today)
          for r in overdue),
        *(CollectiveContractInForce(contract_id=r["id"], org_id=r["org_id"], org_path=list(r["path"]), title=r["title"],
                                    kind=r["kind"], in_force_from=r["in_force_from"], ends_on=r["ends_on"])
          for r in in_force),
        *(CollectiveContractExpiring(contract_id=r["id"], org_id=r["org_id"], org_path=list(r["path"]), title=r["title"],
                                     kind=r["kind"], ends_on=r["ends_on"], detected_on=today,
                                     employer_ids=list(r["employer_ids"])) for r in expiring),
        *(CollectiveContractExpired(contract_id=r["id"], org_id=r["org_id"], org_path=list(r["path"]), title=r["title"],
                                    kind=r["kind"], ends_on=r["ends_on"]) for r in expired),
    )
    return {"reminded": len(reminded), "overdue": len(overdue), "in_force": len(in_force), "expiring": len(expiring),
            "expired": len(expired)}
