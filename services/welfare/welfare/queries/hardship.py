"""Reads of hardship files (困难职工建档) and the minimum living standards (低保), and the
field-level rule of what each caller reads (`file_view`):
- staff, federation admins and service accounts (write permission) within the file's subtree:
  everything, ID numbers masked;
- auditors (read only) within the subtree: levels, causes, amounts and the household's
  relations, masked names and masked ID numbers — no health, disability or employment notes;
- the member, with a member token, their own file: as the auditor, plus names and their own
  notes (relation `self`); other people's notes stay hidden. Nobody ever gets an unmasked ID."""
from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from unionops.auth import ROLES, Principal
from unionops.pii import Vault, mask_name, mask_resident_id
from unionops.problems import Problem
from unionops.projections import common_ancestor
from unionops.scope import row_in_scope
from welfare.domain import hardship as rules
from welfare.queries.members import shown_name

FILE_NOT_FOUND = "困难档案不存在或不在您的管辖范围内"


async def open_file_for_member(conn: asyncpg.Connection, member_id: uuid.UUID) -> asyncpg.Record | None:
    """The member's open hardship file (先建档、后帮扶), or None. Columns: those of
    `hardship_files` listed in migration 003 as stable (id … retain_until)."""
    return await conn.fetchrow(
        "SELECT id, member_id, union_id, org_path, file_kind, level, status, opened_on, review_due_on,"
        " review_overdue, closed_on, retain_until FROM hardship_files WHERE member_id = $1 AND status = 'open'",
        member_id)


async def minimum_living_standard(conn: asyncpg.Connection, org_path: list[uuid.UUID], on: date) -> int | None:
    """The 低保 in force on `on` for a unit: that of the nearest unit on its path that has one."""
    return await conn.fetchval(
        "SELECT monthly_fen FROM minimum_living_standards WHERE org_id = ANY($1::uuid[]) AND effective_from <= $2"
        " ORDER BY array_position($1::uuid[], org_id) DESC, effective_from DESC LIMIT 1",
        org_path, on)


UNKNOWN_UNIT = "组织不存在或不在您的管辖范围内"


async def unit_in_scope(conn: asyncpg.Connection, org_id: uuid.UUID, principal: Principal) -> asyncpg.Record:
    """A unit of the caller's subtree (its name and path), in one read; else the 404 of no unit."""
    return await row_in_scope(conn, principal, Problem(404, UNKNOWN_UNIT, type_="/problems/not-found"),
                              "SELECT name, org_path FROM org_units WHERE org_id = $1", org_id)


async def readable_unit(conn: asyncpg.Connection, org_id: uuid.UUID, actor: Principal, *, own_chain: bool) -> list:
    """The unit's path, if the caller covers it — or, with `own_chain`, if it lies on the caller's
    own path (the district's 低保 applies to its streets' staff too); else 404 as for no unit."""
    path = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", org_id)
    if path is not None and actor.role != "member":
        if actor.covers(path):
            return list(path)
        if own_chain:
            own = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", actor.org_id)
            if own is not None and org_id in own:
                return list(path)
    raise Problem(404, UNKNOWN_UNIT, type_="/problems/not-found")


async def standards(conn: asyncpg.Connection, org_id: uuid.UUID, principal: Principal) -> list[dict]:
    """A unit's minimum living standards, newest first: for staff over the unit or below it."""
    await readable_unit(conn, org_id, principal, own_chain=True)
    rows = await conn.fetch(
        "SELECT org_id, effective_from, monthly_fen, set_by FROM minimum_living_standards WHERE org_id = $1"
        " ORDER BY effective_from DESC", org_id)
    return [dict(r) for r in rows]


async def common_office(conn: asyncpg.Connection, actor: Principal, path) -> str:
    """The office above both the caller's unit and `path` (one of the caller's own ancestors)."""
    own = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", actor.org_id)
    common = common_ancestor(own, path)
    name = await conn.fetchval("SELECT name FROM org_units WHERE org_id = $1", common) if common else None
    return name or "上级工会"


_SUMMARY = (
    "SELECT f.id, f.member_id, m.name AS member_name, f.union_id, f.union_name, f.org_path, f.file_kind, f.level,"
    " f.status, f.causes, f.household_size, f.opened_on, f.review_due_on, f.review_overdue, f.last_reviewed_on,"
    " f.closed_on, f.close_reason, f.retain_until FROM hardship_files f JOIN members m ON m.member_id = f.member_id"
)


def review_overdue(row, today: date) -> bool:
    """Not re-verified in time: derived from the date at every read, so lists, files and campaign
    runs agree at every moment (the sweep's flag only records the day it first saw it)."""
    return row["status"] == "open" and row["review_due_on"] < today


def _summary(row, today: date, principal: Principal | None = None) -> dict:
    """The summary; with `principal`, the member's name as that caller may read it."""
    out = {k: row[k] for k in row.keys() if k != "org_path"}
    out["review_overdue"] = review_overdue(row, today)
    if principal is not None and not principal.is_member(row["member_id"]):
        out["member_name"] = shown_name(row["member_name"], principal)
    out["level_label"] = rules.LEVELS[row["level"]]
    out["file_kind_label"] = rules.FILE_KINDS[row["file_kind"]]
    return out


async def file_summary(conn: asyncpg.Connection, file_id: uuid.UUID, today: date) -> dict:
    """No income, health or family detail: also what an Idempotency-Key keeps for replays."""
    return _summary(await conn.fetchrow(_SUMMARY + " WHERE f.id = $1", file_id), today)


FILE_ORDERS = {
    "-opened": "f.opened_at DESC, f.id",
    "review_due_on": "f.review_due_on, f.opened_at, f.id",
    "unit": "f.union_name, f.review_due_on, f.id",
}


async def list_files(conn: asyncpg.Connection, actor: Principal, *, today: date, status: str | None = None,
                     level: str | None = None, member_id: uuid.UUID | None = None, due_by: date | None = None,
                     overdue: bool | None = None, unit: uuid.UUID | None = None, sort: str = "-opened",
                     limit: int, offset: int) -> list[dict]:
    """Files of the caller's subtree (a `unit` outside it matches nothing); `due_by`: open files
    whose review falls due by then; `overdue`: open files past (or not past) their review date."""
    rows = await conn.fetch(
        _SUMMARY + " WHERE $1 = ANY(f.org_path) AND ($2::text IS NULL OR f.status = $2)"
        " AND ($3::text IS NULL OR f.level = $3) AND ($4::uuid IS NULL OR f.member_id = $4)"
        " AND ($5::date IS NULL OR (f.status = 'open' AND f.review_due_on <= $5))"
        " AND ($6::boolean IS NULL OR (f.status = 'open' AND (f.review_due_on < $7) = $6))"
        " AND ($8::uuid IS NULL OR $8 = ANY(f.org_path))"
        f" ORDER BY {FILE_ORDERS[sort]} LIMIT $9 OFFSET $10",
        actor.org_id, status, level, member_id, due_by, overdue, today, unit, limit, offset)
    return [_summary(r, today, actor) for r in rows]


async def file_view(conn: asyncpg.Connection, row, actor: Principal, vault: Vault, today: date) -> dict:
    """The file as `actor` may read it (the field-level rule in this module's docstring)."""
    own = actor.is_member(row["member_id"])
    full = not own and "write" in ROLES.get(actor.role, ())
    detail = await conn.fetchrow(
        "SELECT annual_income_enc, unavoidable_costs_enc, largest_event_cost_enc, per_capita_monthly_enc,"
        " minimum_living_standard_fen, close_note_enc, household_revision FROM hardship_files WHERE id = $1",
        row["id"])
    out = _summary(row, today, actor) | {
        "annual_income_fen": int(vault.decrypt("hardship_annual_income", detail["annual_income_enc"])),
        "unavoidable_costs_fen": int(vault.decrypt("hardship_unavoidable_costs", detail["unavoidable_costs_enc"])),
        "largest_event_cost_fen": int(vault.decrypt("hardship_largest_event_cost", detail["largest_event_cost_enc"])),
        "per_capita_monthly_fen": int(vault.decrypt("hardship_per_capita_monthly", detail["per_capita_monthly_enc"])),
        "minimum_living_standard_fen": detail["minimum_living_standard_fen"],
        "close_note": (vault.decrypt("hardship_close_note", detail["close_note_enc"])
                       if full and detail["close_note_enc"] is not None else None),
    }
    people = await conn.fetch(
        "SELECT * FROM household_members WHERE file_id = $1 AND revision = $2 ORDER BY position",
        row["id"], detail["household_revision"])

    def note(field: str, blob, relation: str) -> str | None:
        if blob is None or not (full or (own and relation == "self")):
            return None
        return vault.decrypt(field, blob)

    household = []
    for p in people:
        name = vault.decrypt("household_member_name", p["name_enc"])
        household.append({
            "relation": p["relation"],
            "name": name if (full or own) else mask_name(name),
            "id_number_masked": mask_resident_id(vault.decrypt("household_member_id_number", p["id_number_enc"])),
            "monthly_income_fen": int(vault.decrypt("household_member_monthly_income", p["monthly_income_enc"])),
            "health_note": note("household_member_health", p["health_enc"], p["relation"]),
            "disability_note": note("household_member_disability", p["disability_enc"], p["relation"]),
            "employment_note": note("household_member_employment", p["employment_enc"], p["relation"]),
        })
    out["household"] = household
    out["notes_visible"] = "all" if full else ("own" if own else "none")
    return out


async def readable_file(conn: asyncpg.Connection, file_id: uuid.UUID, actor: Principal):
    """The file's summary row if `actor` may read it (its staff, or the member themselves), else 404."""
    row = await conn.fetchrow(_SUMMARY + " WHERE f.id = $1", file_id)
    if row is None or not (actor.covers(row["org_path"]) or actor.is_member(row["member_id"])):
        raise Problem(404, FILE_NOT_FOUND)
    return row


async def members_latest_file(conn: asyncpg.Connection, member_id: uuid.UUID):
    """The member's open file, else the most recently closed one."""
    return await conn.fetchrow(_SUMMARY + " WHERE f.member_id = $1 ORDER BY (f.status = 'open') DESC,"
                               " f.opened_at DESC LIMIT 1", member_id)


async def my_file(conn: asyncpg.Connection, principal: Principal, vault: Vault, today: date) -> dict:
    """A member's own file (member token): the open one, else the latest closed one; 404 if none."""
    try:
        member_id = uuid.UUID(principal.subject)
    except ValueError:
        raise Problem(404, "未找到您的困难档案") from None
    row = await members_latest_file(conn, member_id)
    if row is None:
        raise Problem(404, "未找到您的困难档案")
    return await file_view(conn, row, principal, vault, today)


async def readable_file_view(conn: asyncpg.Connection, file_id: uuid.UUID, principal: Principal, vault: Vault,
                             today: date) -> dict:
    return await file_view(conn, await readable_file(conn, file_id, principal), principal, vault, today)
