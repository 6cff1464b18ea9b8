"""Reads of commendations: 安康杯 checklists and units' scoring sheets, awards granted, nomination
batches with each quota against them. The organising unit's staff (and those above it) see its
checklists and batches; to anyone else they do not exist."""
from __future__ import annotations

import uuid

import asyncpg

from competitions.domain.awards import (
    AWARDS, NOT_FOUND_BATCH, NOT_FOUND_CHECKLIST, ChecklistItem, nominee_attributes, quota_report, quotas_for,
)
from competitions.domain.contests import UNKNOWN_UNIT
from competitions.domain.scoring import format_points
from unionops.auth import Principal
from unionops.problems import Problem, RuleViolation


async def unit_row(conn: asyncpg.Connection, org_id: uuid.UUID, *, field: str,
                   actor: Principal | None = None) -> asyncpg.Record:
    """The unit; with `actor`, one outside the caller's subtree is refused exactly as unknown."""
    row = await conn.fetchrow("SELECT org_id, org_path, name FROM org_units WHERE org_id = $1", org_id)
    if row is None or (actor is not None and not actor.covers(row["org_path"])):
        raise RuleViolation(UNKNOWN_UNIT, field=field, kind="unknown-unit")
    return row


async def checklist(conn: asyncpg.Connection, checklist_id: uuid.UUID, actor: Principal) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT c.*, o.org_path, o.name AS org_name FROM ankang_checklists c JOIN org_units o ON o.org_id = c.org_id"
        " WHERE c.id = $1", checklist_id)
    if row is None or not actor.covers(row["org_path"]):
        raise Problem(404, NOT_FOUND_CHECKLIST)
    return row


async def checklist_items(conn: asyncpg.Connection, checklist_id: uuid.UUID) -> list[ChecklistItem]:
    rows = await conn.fetch("SELECT code, title, max_centipoints FROM ankang_checklist_items WHERE checklist_id = $1"
                            " ORDER BY position", checklist_id)
    return [ChecklistItem(r["code"], r["title"], r["max_centipoints"]) for r in rows]


async def checklist_view(conn: asyncpg.Connection, checklist_id: uuid.UUID, actor: Principal) -> dict:
    c = await checklist(conn, checklist_id, actor)
    return {"id": c["id"], "org_id": c["org_id"], "org_name": c["org_name"], "year": c["year"],
            "threshold": format_points(c["threshold_centipoints"]),
            "items": [{"code": i.code, "title": i.title, "max_points": format_points(i.max_centipoints)}
                      for i in await checklist_items(conn, checklist_id)],
            "created_by": c["created_by"], "created_at": c["created_at"]}


async def scored_unit(conn: asyncpg.Connection, checklist: asyncpg.Record, unit_id: uuid.UUID) -> asyncpg.Record:
    """A unit below the organiser: the organiser scores its units, not itself."""
    unit = await unit_row(conn, unit_id, field="unit_id")
    if checklist["org_id"] not in unit["org_path"] or unit["org_id"] == checklist["org_id"]:
        raise RuleViolation("该单位不在本安康杯主办单位的下属范围内", field="unit_id", kind="not-eligible")
    return unit


async def unit_sheet(conn: asyncpg.Connection, checklist_id: uuid.UUID, unit_id: uuid.UUID, actor: Principal) -> dict:
    """A unit's scoring sheet: item scores with who scored, the total, what is missing, and
    whether it reaches the threshold."""
    c = await checklist(conn, checklist_id, actor)
    unit = await scored_unit(conn, c, unit_id)
    items = await checklist_items(conn, checklist_id)
    rows = {r["item_code"]: r for r in await conn.fetch(
        "SELECT item_code, score_centipoints, scored_by, scored_at FROM ankang_scores"
        " WHERE checklist_id = $1 AND unit_id = $2", checklist_id, unit_id)}
    total = sum(r["score_centipoints"] for r in rows.values())
    award = await conn.fetchrow("SELECT id, granted_on FROM awards WHERE checklist_id = $1 AND union_id = $2",
                                checklist_id, unit_id)
    return {
        "checklist_id": checklist_id, "unit_id": unit_id, "unit_name": unit["name"], "year": c["year"],
        "items": [{"code": i.code, "title": i.title, "max_points": format_points(i.max_centipoints),
                   "points": format_points(rows[i.code]["score_centipoints"]) if i.code in rows else None,
                   "scored_by": rows[i.code]["scored_by"] if i.code in rows else None,
                   "scored_at": rows[i.code]["scored_at"] if i.code in rows else None} for i in items],
        "total": format_points(total), "threshold": format_points(c["threshold_centipoints"]),
        "missing": [i.code for i in items if i.code not in rows],
        "reaches_threshold": len(rows) == len(items) and total >= c["threshold_centipoints"],
        "award_id": award["id"] if award else None,
    }


async def award_view(conn: asyncpg.Connection, award_id: uuid.UUID) -> dict:
    r = await conn.fetchrow(
        "SELECT a.*, u.name AS union_name, m.name AS member_name FROM awards a"
        " LEFT JOIN org_units u ON u.org_id = a.union_id LEFT JOIN members m ON m.member_id = a.member_id"
        " WHERE a.id = $1", award_id)
    return _award_dict(r)


def _award_dict(r: asyncpg.Record) -> dict:
    return {"id": r["id"], "award": r["award"], "title": r["title"], "year": r["year"], "union_id": r["union_id"],
            "union_name": r["union_name"], "member_id": r["member_id"], "member_name": r["member_name"],
            "org_id": r["org_id"], "checklist_id": r["checklist_id"], "batch_id": r["batch_id"],
            "total": format_points(r["total_centipoints"]) if r["total_centipoints"] is not None else None,
            "granted_on": r["granted_on"], "granted_by": r["granted_by"], "granted_at": r["granted_at"]}


async def awards(conn, actor: Principal, *, year: int | None,
                      award: str | None, limit: int) -> list[dict]:
    """Awards to units or members of the caller's subtree."""
    rows = await conn.fetch(
        "SELECT a.*, u.name AS union_name, m.name AS member_name FROM awards a"
        " JOIN org_units u ON u.org_id = a.union_id LEFT JOIN members m ON m.member_id = a.member_id"
        " WHERE $1 = ANY(u.org_path) AND ($2::int IS NULL OR a.year = $2) AND ($3::text IS NULL OR a.award = $3)"
        " ORDER BY a.year DESC, a.granted_at DESC, a.id LIMIT $4", actor.org_id, year, award, limit)
    return [_award_dict(r) for r in rows]


async def batch(conn: asyncpg.Connection, batch_id: uuid.UUID, actor: Principal, *, lock: bool = False):
    row = await conn.fetchrow(
        "SELECT b.*, o.org_path, o.name AS org_name FROM nomination_batches b JOIN org_units o ON o.org_id = b.org_id"
        f" WHERE b.id = $1{' FOR UPDATE OF b' if lock else ''}", batch_id)
    if row is None or not actor.covers(row["org_path"]):
        raise Problem(404, NOT_FOUND_BATCH)
    return row


async def nominee_view(conn: asyncpg.Connection, nominee_id: uuid.UUID) -> dict:
    return _nominee_dict(await conn.fetchrow("SELECT * FROM nominees WHERE id = $1", nominee_id))


def _nominee_dict(r: asyncpg.Record) -> dict:
    return {k: r[k] for k in ("id", "batch_id", "member_id", "union_id", "name", "gender", "migrant_worker",
                              "front_line", "unit_head", "nominated_by", "nominated_at")}


async def batch_view(conn: asyncpg.Connection, batch_id: uuid.UUID, actor: Principal, configured_quotas) -> dict:
    """The batch, its nominees, and each quota against the list (the quotas it was submitted
    under, once submitted)."""
    b = await batch(conn, batch_id, actor)
    rows = await conn.fetch("SELECT * FROM nominees WHERE batch_id = $1 ORDER BY nominated_at, id", batch_id)
    nominees = [_nominee_dict(r) for r in rows]
    quotas = b["quotas"] if b["quotas"] is not None else quotas_for(b["award"], configured_quotas)
    report = quota_report(nominee_attributes(nominees), quotas)
    return {"id": b["id"], "org_id": b["org_id"], "org_name": b["org_name"], "award": b["award"],
            "title": AWARDS[b["award"]][0], "year": b["year"], "status": b["status"],
            "created_by": b["created_by"], "created_at": b["created_at"], "submitted_by": b["submitted_by"],
            "submitted_at": b["submitted_at"], "granted_by": b["granted_by"], "granted_at": b["granted_at"],
            "nominees": nominees, "quotas": [c.as_dict() for c in report],
            "quotas_hold": bool(nominees) and all(c.holds for c in report)}
