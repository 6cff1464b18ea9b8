"""Commands of 12351 职工热线 tickets (工单): opened for a responsible unit with a category whose
handling deadline is counted in working days, assigned to an officer, resolved, rated once by the
caller (满意度 1–5); `mark_overdue` (run by welfare.background) marks late tickets overdue once and
stages HotlineTicketOverdue once per ticket. A ticket may open an assistance case (source 'hotline')."""
from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg
from opentelemetry import trace

from contracts.events import HotlineTicketOverdue
from unionops.auth import Principal
from unionops.pii import Vault
from unionops.problems import RuleViolation
from unionops.unit_of_work import UnitOfWork
from welfare.commands import cases
from welfare.domain.hotline import OpenTicket, check_rating, due_at
from welfare.domain.working_days import WorkingCalendar
from welfare.queries import hotline as queries
from welfare.queries.members import known_member


async def open_ticket(uow: UnitOfWork, cmd: OpenTicket, actor: Principal, vault: Vault, *,
                      now: datetime, deadlines: dict[str, int], calendar: WorkingCalendar, tz: str) -> dict:
    """The responsible unit is the given one, or the caller's union when the caller is a known
    member; either way it must be in the staff's subtree."""
    conn = uow.conn
    actor.require("write")
    member = None
    if cmd.member_id is not None:
        member = await known_member(conn, cmd.member_id)
        if member is None or not actor.covers(member.org_path):  # out of scope: exactly as unknown
            raise RuleViolation("会员不存在：尚未入会或尚未同步", field="member_id", kind="unknown-member")
    org_id = cmd.org_id or member.union_id
    path = await queries.unit_path(conn, org_id)
    if path is None or not actor.covers(path):
        raise RuleViolation("组织不存在：尚未建立或尚未同步", field="org_id", kind="unknown-unit")
    ticket_id = uuid.uuid4()
    due = due_at(now, cmd.category, deadlines=deadlines, calendar=calendar, tz=tz)
    await conn.execute(
        "INSERT INTO hotline_tickets (id, org_id, org_path, member_id, category, summary_enc, status, opened_by,"
        " opened_at, due_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9)",
        ticket_id, org_id, path, cmd.member_id, cmd.category, vault.encrypt("hotline_summary", cmd.summary),
        actor.subject, now, due)
    await _history(conn, ticket_id, "opened", actor.subject, category=cmd.category)
    trace.get_current_span().set_attribute("hotline.ticket_id", str(ticket_id))
    return await queries.ticket_view(conn, ticket_id)


async def _history(conn: asyncpg.Connection, ticket_id: uuid.UUID, action: str, actor: str, **detail) -> None:
    await conn.execute("INSERT INTO hotline_ticket_history (ticket_id, action, actor, detail) VALUES ($1, $2, $3, $4)",
                       ticket_id, action, actor, detail)


async def _unresolved_ticket(conn: asyncpg.Connection, ticket_id: uuid.UUID, actor: Principal,
                             refusal: str) -> asyncpg.Record:
    """The ticket, locked, for a staff step that only an unresolved ticket takes."""
    actor.require("write")
    t = await queries.load_ticket(conn, ticket_id, actor, lock=True)
    if t["status"] == "resolved":
        raise RuleViolation(refusal, status=409, kind="ticket-resolved")
    return t


async def assign(uow: UnitOfWork, ticket_id: uuid.UUID, assignee: str, actor: Principal,
                 now: datetime) -> dict:
    conn = uow.conn
    await _unresolved_ticket(conn, ticket_id, actor, "工单已办结，不能再分派")
    await conn.execute("UPDATE hotline_tickets SET status = 'assigned', assignee = $2, assigned_by = $3,"
                       " assigned_at = $4 WHERE id = $1", ticket_id, assignee, actor.subject, now)
    await _history(conn, ticket_id, "assigned", actor.subject, assignee=assignee)
    return await queries.ticket_view(conn, ticket_id)


async def resolve(uow: UnitOfWork, ticket_id: uuid.UUID, resolution: str, actor: Principal, vault: Vault,
                  now: datetime) -> dict:
    conn = uow.conn
    t = await _unresolved_ticket(conn, ticket_id, actor, "工单已办结")
    await conn.execute("UPDATE hotline_tickets SET status = 'resolved', resolution_enc = $2, resolved_by = $3,"
                       " resolved_at = $4 WHERE id = $1",
                       ticket_id, vault.encrypt("hotline_resolution", resolution), actor.subject, now)
    await _history(conn, ticket_id, "resolved", actor.subject, late=t["due_at"] < now)
    return await queries.ticket_view(conn, ticket_id)


async def rate(uow: UnitOfWork, ticket_id: uuid.UUID, satisfaction: int, actor: Principal,
               now: datetime) -> dict:
    """满意度回访: once, after resolution — recorded by staff on the call-back, or by the caller
    (a member signed in as themselves)."""
    conn = uow.conn
    t = await queries.load_ticket(conn, ticket_id, actor, lock=True)
    if not (t["member_id"] is not None and actor.is_member(t["member_id"])):
        actor.require("write")
    check_rating(t["status"], t["satisfaction"])
    await conn.execute("UPDATE hotline_tickets SET satisfaction = $2, rated_at = $3 WHERE id = $1",
                       ticket_id, satisfaction, now)
    await _history(conn, ticket_id, "rated", actor.subject, satisfaction=satisfaction)
    return await queries.ticket_view(conn, ticket_id)


async def open_case(uow: UnitOfWork, ticket_id: uuid.UUID, *, kind: str, member_id: uuid.UUID | None,
                    summary: str | None, actor: Principal, vault: Vault, today: date) -> dict:
    """Open an assistance case from the ticket (source 'hotline'), for the caller unless another
    member is named; the case's summary defaults to the ticket's. One case per ticket."""
    conn = uow.conn
    actor.require("write")
    t = await queries.load_ticket(conn, ticket_id, actor, lock=True)
    if t["case_id"] is not None:
        raise RuleViolation("该工单已转立帮扶案件", status=409, kind="ticket-has-case")
    member_id = member_id or t["member_id"]
    if member_id is None:
        raise RuleViolation("来电人不是已知会员，请指定帮扶对象会员", field="member_id", kind="unknown-member")
    text = summary or vault.decrypt("hotline_summary", t["summary_enc"])
    case = await cases.open_case(uow, cases.OpenCase(member_id=member_id, kind=kind, source="hotline", summary=text,
                                                     today=today), actor, vault)
    await conn.execute("UPDATE assistance_cases SET hotline_ticket_id = $2 WHERE id = $1", case["id"], ticket_id)
    await conn.execute("UPDATE hotline_tickets SET case_id = $2 WHERE id = $1", ticket_id, case["id"])
    await _history(conn, ticket_id, "case_opened", actor.subject, case_id=str(case["id"]))
    return case | {"hotline_ticket_id": ticket_id}


async def mark_overdue(uow: UnitOfWork, now: datetime, *, limit: int = 500) -> list[uuid.UUID]:
    """Mark unresolved tickets past their deadline overdue, and stage HotlineTicketOverdue for
    each, in one transaction. `overdue_at IS NULL` makes it once per ticket; SKIP LOCKED lets
    replicas run it side by side without waiting or reporting a ticket twice."""
    conn = uow.conn
    rows = await conn.fetch(
        "UPDATE hotline_tickets t SET overdue_at = $1 FROM ("
        "  SELECT id FROM hotline_tickets WHERE overdue_at IS NULL AND status <> 'resolved' AND due_at < $1"
        "  ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) late"
        " WHERE t.id = late.id RETURNING t.id, t.org_id, t.org_path, t.category, t.assignee, t.due_at", now, limit)
    if not rows:
        return []
    await conn.executemany(
        "INSERT INTO hotline_ticket_history (ticket_id, action, actor, detail) VALUES ($1, 'overdue', 'system', $2)",
        [(r["id"], {"due_at": r["due_at"].isoformat()}) for r in rows])
    await uow.stage(*[
        HotlineTicketOverdue(ticket_id=r["id"], org_id=r["org_id"], org_path=list(r["org_path"]), category=r["category"],
                             assignee=r["assignee"], due_at=r["due_at"], detected_at=now) for r in rows])
    return [r["id"] for r in rows]
