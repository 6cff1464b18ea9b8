"""Commands and projections of the welfare service. Each runs in the caller's transaction; a
command stages its events in the outbox of that same transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg
from opentelemetry import trace

from contracts.events import MemberLeft, MemberStatusChanged, MemberTransferred, UnionMoved
from unionops import outbox
from unionops.auth import Principal
from unionops.consumer import Received, last_per
from unionops.envelope import Envelope
from unionops.pii import Vault
from unionops.projections import pg_path, rewrite_path_prefix
from welfare.domain import KnownMember, open_case


@dataclass(frozen=True)
class OpenCase:
    member_id: uuid.UUID
    kind: str
    source: str
    summary: str
    today: date


# ---- projections of other services' events -----------------------------------------------------

async def project_members_joined(conn: asyncpg.Connection, batch: list[Received]) -> None:
    """Keep the members welfare may aid: one upsert for a batch of admissions (an import brings
    thousands), the latest event of a member winning. A replayed event changes nothing."""
    rows = [(r.event, r.envelope.id) for r in last_per(batch, lambda r: r.event.member_id)]
    await conn.execute(
        "INSERT INTO members (member_id, union_id, union_name, org_path, name, gender, is_migrant_worker, joined_on,"
        " last_event_id)"
        " SELECT m, u, un, p::uuid[], n, g, mig, j, e FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[],"
        " $5::text[], $6::text[], $7::bool[], $8::date[], $9::uuid[]) AS t(m, u, un, p, n, g, mig, j, e)"
        " ON CONFLICT (member_id) DO UPDATE SET union_id = EXCLUDED.union_id, union_name = EXCLUDED.union_name,"
        " org_path = EXCLUDED.org_path, name = EXCLUDED.name, gender = EXCLUDED.gender,"
        " is_migrant_worker = EXCLUDED.is_migrant_worker, joined_on = EXCLUDED.joined_on,"
        " last_event_id = EXCLUDED.last_event_id, updated_at = now()",
        [e.member_id for e, _ in rows], [e.union_id for e, _ in rows], [e.union_name for e, _ in rows],
        [pg_path(e.org_path) for e, _ in rows], [e.name for e, _ in rows], [e.gender for e, _ in rows],
        [e.is_migrant_worker for e, _ in rows], [e.joined_on for e, _ in rows], [i for _, i in rows],
    )


async def project_member_transferred(conn: asyncpg.Connection, event: MemberTransferred, envelope: Envelope) -> None:
    """Membership follows employment: the member is now aided through the receiving union.
    Open cases stay with the union that opened them."""
    await conn.execute(
        "UPDATE members SET union_id = $2, union_name = $3, org_path = $4, status = 'active',"
        " last_event_id = $5, updated_at = now() WHERE member_id = $1",
        event.member_id, event.to_union_id, event.to_union_name, event.to_org_path, envelope.id)


async def project_member_status(conn: asyncpg.Connection, event: MemberStatusChanged, envelope: Envelope) -> None:
    await conn.execute("UPDATE members SET status = $2, last_event_id = $3, updated_at = now() WHERE member_id = $1",
                       event.member_id, event.to_status, envelope.id)


async def project_member_left(conn: asyncpg.Connection, event: MemberLeft, envelope: Envelope) -> None:
    await conn.execute("UPDATE members SET status = 'left', last_event_id = $2, updated_at = now() WHERE member_id = $1",
                       event.member_id, envelope.id)


# Every table of welfare that holds an organisation path: when a unit moves, all of them follow
# in the same transaction, so scope checks stay right everywhere.
PATH_TABLES = ("org_units", "members", "assistance_cases", "hardship_files", "hotline_tickets", "funds", "campaigns",
               "campaign_payments")


async def project_union_moved(conn: asyncpg.Connection, event: UnionMoved, envelope: Envelope) -> None:
    for table in PATH_TABLES:
        await rewrite_path_prefix(conn, table, "org_path", event.old_path, event.new_path)


# ---- commands -----------------------------------------------------------------------------------

async def load_member(conn: asyncpg.Connection, member_id: uuid.UUID) -> KnownMember | None:
    row = await conn.fetchrow(
        "SELECT member_id, union_id, union_name, org_path, name, gender, is_migrant_worker, joined_on, status"
        " FROM members WHERE member_id = $1", member_id)
    return KnownMember(**dict(row)) if row else None


async def open_assistance_case(conn: asyncpg.Connection, cmd: OpenCase, actor: Principal, vault: Vault) -> dict:
    """Open a case (立案) for a member of the caller's subtree; CaseOpened carries no summary."""
    member = await load_member(conn, cmd.member_id)
    if member is not None and not actor.covers(member.org_path):
        member = None  # out of scope: refused exactly as an unknown member, before any other rule
    case = open_case(member, kind=cmd.kind, source=cmd.source, opened_by=actor.subject, today=cmd.today)
    await conn.execute(
        "INSERT INTO assistance_cases (id, member_id, union_id, org_path, kind, source, status, summary_enc,"
        " opened_on, opened_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        case.id, case.member_id, case.union_id, case.org_path, case.kind, case.source, case.status,
        vault.encrypt("case_summary", cmd.summary), case.opened_on, case.opened_by,
    )
    await conn.execute(
        "INSERT INTO case_history (case_id, status, actor, detail) VALUES ($1, $2, $3, $4)",
        case.id, case.status, actor.subject, {"source": case.source},
    )
    await outbox.record(conn, case.opened_event())
    trace.get_current_span().set_attribute("case.id", str(case.id))
    # No summary here: this body is also what the Idempotency-Key table keeps for replays.
    return {"id": case.id, "member_id": case.member_id, "member_name": member.name, "union_id": case.union_id,
            "union_name": member.union_name, "kind": case.kind, "source": case.source, "status": case.status,
            "opened_on": case.opened_on, "opened_by": case.opened_by}
