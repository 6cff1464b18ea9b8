"""12351 职工热线 tickets (工单): opened for a responsible unit with a category whose handling
deadline is counted in working days, assigned to an officer, resolved, rated once by the caller
(满意度 1–5); a background check marks late tickets overdue once and publishes
HotlineTicketOverdue once per ticket. A ticket may open an assistance case (source 'hotline')."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import asyncpg
from opentelemetry import trace

from contracts.events import HotlineTicketOverdue
from unionops import outbox, periodic
from unionops.auth import Principal
from unionops.pii import Vault
from unionops.problems import Problem, RuleViolation
from welfare import handlers
from welfare.working_days import WorkingCalendar, end_of_day

log = logging.getLogger(__name__)

CATEGORIES: dict[str, str] = {"general": "一般", "difficult": "难点", "complex": "特别复杂"}
NOT_FOUND = "工单不存在或不在您的管辖范围内"


# ---- rules (no I/O) ------------------------------------------------------------------------------

def due_at(opened_at: datetime, category: str, *, deadlines: dict[str, int], calendar: WorkingCalendar,
           tz: str) -> datetime:
    """The end of the N-th working day after the day the call came in (Beijing time); N per
    category (defaults: 一般 3, 难点 7, 特别复杂 15 working days)."""
    opened_day = opened_at.astimezone(ZoneInfo(tz)).date()
    return end_of_day(calendar.add(opened_day, deadlines[category]), tz)


def check_rating(status: str, satisfaction: int | None) -> None:
    if status != "resolved":
        raise RuleViolation("工单办结后方可评价满意度", status=409, kind="ticket-not-resolved")
    if satisfaction is not None:
        raise RuleViolation("该工单已评价，满意度只能评价一次", status=409, kind="already-rated")


# ---- commands (inside the caller's transaction) ---------------------------------------------------

@dataclass(frozen=True)
class OpenTicket:
    org_id: uuid.UUID | None
    member_id: uuid.UUID | None
    category: str
    summary: str


async def _unit_path(conn: asyncpg.Connection, org_id: uuid.UUID) -> list[uuid.UUID] | None:
    """A unit's path from welfare's copy of the tree, else read off a member below it."""
    path = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", org_id)
    if path is None:
        path = await conn.fetchval(
            "SELECT org_path[1:array_position(org_path, $1)] FROM members WHERE org_path @> ARRAY[$1]::uuid[] LIMIT 1",
            org_id)
    return list(path) if path else None


async def open_ticket(conn: asyncpg.Connection, cmd: OpenTicket, actor: Principal, vault: Vault, *,
                      now: datetime, deadlines: dict[str, int], calendar: WorkingCalendar, tz: str) -> dict:
    """The responsible unit is the given one, or the caller's union when the caller is a known
    member; either way it must be in the staff's subtree."""
    actor.require("write")
    member = None
    if cmd.member_id is not None:
        member = await handlers.load_member(conn, cmd.member_id)
        if member is None or not actor.covers(member.org_path):  # out of scope: exactly as unknown
            raise RuleViolation("会员不存在：尚未入会或尚未同步", field="member_id", kind="unknown-member")
    org_id = cmd.org_id or member.union_id
    path = await _unit_path(conn, org_id)
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
    return await ticket_view(conn, ticket_id)


async def _history(conn: asyncpg.Connection, ticket_id: uuid.UUID, action: str, actor: str, **detail) -> None:
    await conn.execute("INSERT INTO hotline_ticket_history (ticket_id, action, actor, detail) VALUES ($1, $2, $3, $4)",
                       ticket_id, action, actor, detail)


async def load_ticket(conn: asyncpg.Connection, ticket_id: uuid.UUID, actor: Principal) -> asyncpg.Record:
    """The ticket, locked, if the caller covers its unit — or, for a member, if it is their call."""
    row = await conn.fetchrow("SELECT * FROM hotline_tickets WHERE id = $1 FOR UPDATE", ticket_id)
    if row is None or not (actor.covers(row["org_path"])
                           or (row["member_id"] is not None and actor.is_member(row["member_id"]))):
        raise Problem(404, NOT_FOUND)
    return row


async def assign(conn: asyncpg.Connection, ticket_id: uuid.UUID, assignee: str, actor: Principal,
                 now: datetime) -> dict:
    actor.require("write")
    t = await load_ticket(conn, ticket_id, actor)
    if t["status"] == "resolved":
        raise RuleViolation("工单已办结，不能再分派", status=409, kind="ticket-resolved")
    await conn.execute("UPDATE hotline_tickets SET status = 'assigned', assignee = $2, assigned_by = $3,"
                       " assigned_at = $4 WHERE id = $1", ticket_id, assignee, actor.subject, now)
    await _history(conn, ticket_id, "assigned", actor.subject, assignee=assignee)
    return await ticket_view(conn, ticket_id)


async def resolve(conn: asyncpg.Connection, ticket_id: uuid.UUID, resolution: str, actor: Principal, vault: Vault,
                  now: datetime) -> dict:
    actor.require("write")
    t = await load_ticket(conn, ticket_id, actor)
    if t["status"] == "resolved":
        raise RuleViolation("工单已办结", status=409, kind="ticket-resolved")
    await conn.execute("UPDATE hotline_tickets SET status = 'resolved', resolution_enc = $2, resolved_by = $3,"
                       " resolved_at = $4 WHERE id = $1",
                       ticket_id, vault.encrypt("hotline_resolution", resolution), actor.subject, now)
    await _history(conn, ticket_id, "resolved", actor.subject, late=t["due_at"] < now)
    return await ticket_view(conn, ticket_id)


async def rate(conn: asyncpg.Connection, ticket_id: uuid.UUID, satisfaction: int, actor: Principal,
               now: datetime) -> dict:
    """满意度回访: once, after resolution — recorded by staff on the call-back, or by the caller
    (a member signed in as themselves)."""
    t = await load_ticket(conn, ticket_id, actor)
    if not (t["member_id"] is not None and actor.is_member(t["member_id"])):
        actor.require("write")
    check_rating(t["status"], t["satisfaction"])
    await conn.execute("UPDATE hotline_tickets SET satisfaction = $2, rated_at = $3 WHERE id = $1",
                       ticket_id, satisfaction, now)
    await _history(conn, ticket_id, "rated", actor.subject, satisfaction=satisfaction)
    return await ticket_view(conn, ticket_id)


async def open_case(conn: asyncpg.Connection, ticket_id: uuid.UUID, *, kind: str, member_id: uuid.UUID | None,
                    summary: str | None, actor: Principal, vault: Vault, today: date) -> dict:
    """Open an assistance case from the ticket (source 'hotline'), for the caller unless another
    member is named; the case's summary defaults to the ticket's. One case per ticket."""
    actor.require("write")
    t = await load_ticket(conn, ticket_id, actor)
    if t["case_id"] is not None:
        raise RuleViolation("该工单已转立帮扶案件", status=409, kind="ticket-has-case")
    member_id = member_id or t["member_id"]
    if member_id is None:
        raise RuleViolation("来电人不是已知会员，请指定帮扶对象会员", field="member_id", kind="unknown-member")
    text = summary or vault.decrypt("hotline_summary", t["summary_enc"])
    cmd = handlers.OpenCase(member_id=member_id, kind=kind, source="hotline", summary=text, today=today)
    case = await handlers.open_assistance_case(conn, cmd, actor, vault)
    await conn.execute("UPDATE assistance_cases SET hotline_ticket_id = $2 WHERE id = $1", case["id"], ticket_id)
    await conn.execute("UPDATE hotline_tickets SET case_id = $2 WHERE id = $1", ticket_id, case["id"])
    await _history(conn, ticket_id, "case_opened", actor.subject, case_id=str(case["id"]))
    return case | {"hotline_ticket_id": ticket_id}


async def mark_overdue(conn: asyncpg.Connection, now: datetime, *, limit: int = 500) -> list[uuid.UUID]:
    """Mark unresolved tickets past their deadline overdue, and stage HotlineTicketOverdue for
    each, in one transaction. `overdue_at IS NULL` makes it once per ticket; SKIP LOCKED lets
    replicas run it side by side without waiting or reporting a ticket twice."""
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
    await outbox.record_many(conn, [
        HotlineTicketOverdue(ticket_id=r["id"], org_id=r["org_id"], org_path=list(r["org_path"]), category=r["category"],
                             assignee=r["assignee"], due_at=r["due_at"], detected_at=now) for r in rows])
    return [r["id"] for r in rows]


async def watch_overdue(runtime) -> None:
    """Background task: every WELFARE_HOTLINE_CHECK_SECONDS, mark what became overdue."""
    async def round_() -> None:
        while True:  # in batches of 500 until none is left
            async with runtime.pool.acquire() as conn, conn.transaction():
                marked = await mark_overdue(conn, datetime.now(timezone.utc))
            if marked:
                log.info("hotline tickets overdue", extra={"count": len(marked)})
            if len(marked) < 500:
                return
    await periodic.every(runtime.settings.hotline_check_seconds, round_, "hotline overdue check")


# ---- reads ---------------------------------------------------------------------------------------

# Late is late even between two runs of the check: `overdue` does not wait for the marking.
_OVERDUE = "(overdue_at IS NOT NULL OR (status <> 'resolved' AND due_at < now()))"
_VIEW = ("SELECT id, org_id, member_id, category, status, opened_by, opened_at, due_at, assignee, assigned_at,"
         f" resolved_by, resolved_at, satisfaction, rated_at, overdue_at, case_id, {_OVERDUE} AS overdue"
         " FROM hotline_tickets")


def _view(row: asyncpg.Record) -> dict:
    d = dict(row)
    return d | {"category_label": CATEGORIES[d["category"]]}


async def ticket_view(conn: asyncpg.Connection, ticket_id: uuid.UUID, vault: Vault | None = None) -> dict:
    """The ticket without what the caller said; with `vault`, the summary and resolution too."""
    row = await conn.fetchrow(f"{_VIEW} WHERE id = $1", ticket_id)
    view = _view(row)
    if vault is not None:
        texts = await conn.fetchrow("SELECT summary_enc, resolution_enc FROM hotline_tickets WHERE id = $1", ticket_id)
        view["summary"] = vault.decrypt("hotline_summary", texts["summary_enc"])
        view["resolution"] = (vault.decrypt("hotline_resolution", texts["resolution_enc"])
                              if texts["resolution_enc"] is not None else None)
    return view


async def list_tickets(conn: asyncpg.Connection, actor: Principal, *, overdue: bool | None, status: str | None,
                       limit: int) -> list[dict]:
    rows = await conn.fetch(
        f"{_VIEW} WHERE $1 = ANY(org_path) AND ($2::boolean IS NULL OR {_OVERDUE} = $2)"
        " AND ($3::text IS NULL OR status = $3) ORDER BY due_at, id LIMIT $4",
        actor.org_id, overdue, status, limit)
    return [_view(r) for r in rows]
