"""Visits (走访慰问, "五必访"): recorded against the member. The notes hold health and family
circumstances and are encrypted; scope follows the member's current union (members.org_path),
so a member's visit history goes with them when they transfer or their union moves."""
from __future__ import annotations

import uuid
from datetime import date

import asyncpg
from opentelemetry import trace

from unionops.auth import ROLES, Principal
from unionops.backdating import check_dated
from unionops.pii import Vault
from unionops.problems import Problem, RuleViolation

# 五必访 and the rest, in the staff's words.
VISIT_KINDS: dict[str, str] = {
    "sick_or_hospitalised": "生病住院",
    "bereaved": "直系亲属去世",
    "in_hardship": "生活困难",
    "family_change": "家庭发生重大变故",
    "major_event": "婚育等重大事项",
    "other": "其他",
}


async def _member_in_scope(conn: asyncpg.Connection, member_id: uuid.UUID, actor: Principal, *, writing: bool):
    row = await conn.fetchrow("SELECT member_id, union_id, org_path, status FROM members WHERE member_id = $1",
                              member_id)
    if writing:
        if row is None or not actor.covers(row["org_path"]):  # out of scope: exactly as unknown
            raise RuleViolation("会员不存在：尚未入会或尚未同步", field="member_id", kind="unknown-member")
    elif row is None or not actor.covers(row["org_path"]):
        raise Problem(404, "会员不存在或不在您的管辖范围内")
    return row


async def record_visit(conn: asyncpg.Connection, *, member_id: uuid.UUID, kind: str, visited_on: date,
                       visitors: list[str], notes: str, gift_fen: int | None, actor: Principal, vault: Vault,
                       today: date, max_backdate_days: int | None = None) -> dict:
    """Record a visit to a member of the caller's subtree. Returns no notes (the Idempotency-Key
    table keeps this body). A visit is entered on the day or up to `max_backdate_days` later; the
    row keeps who entered it and when (recorded_by, recorded_at) beside the day of the visit."""
    member = await _member_in_scope(conn, member_id, actor, writing=True)
    if kind not in VISIT_KINDS:
        raise RuleViolation(f"走访类型须为 {'、'.join(VISIT_KINDS)} 之一", field="kind")
    check_dated(visited_on, today, field="visited_on", what="走访日期", max_backdate_days=max_backdate_days)
    visit_id = uuid.uuid4()
    row = await conn.fetchrow(
        "INSERT INTO visits (id, member_id, union_id, kind, visited_on, visitors, notes_enc, gift_fen, recorded_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " RETURNING id, member_id, union_id, kind, visited_on, visitors, gift_fen, recorded_by, recorded_at",
        visit_id, member_id, member["union_id"], kind, visited_on, visitors, vault.encrypt("visit_notes", notes),
        gift_fen, actor.subject)
    trace.get_current_span().set_attribute("visit.id", str(visit_id))
    return dict(row) | {"kind_label": VISIT_KINDS[kind]}


async def member_visits(conn: asyncpg.Connection, member_id: uuid.UUID, actor: Principal, vault: Vault) -> list[dict]:
    """A member's visits, newest first. Notes only for roles with write permission (as for
    hardship files' health notes); auditors see who, when, what kind and the gift."""
    await _member_in_scope(conn, member_id, actor, writing=False)
    with_notes = "write" in ROLES.get(actor.role, ())
    rows = await conn.fetch(
        "SELECT id, member_id, union_id, kind, visited_on, visitors, notes_enc, gift_fen, recorded_by, recorded_at"
        " FROM visits WHERE member_id = $1 ORDER BY visited_on DESC, recorded_at DESC", member_id)
    return [{k: r[k] for k in r.keys() if k != "notes_enc"}
            | {"kind_label": VISIT_KINDS[r["kind"]],
               "notes": vault.decrypt("visit_notes", r["notes_enc"]) if with_notes else None}
            for r in rows]
