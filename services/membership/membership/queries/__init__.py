"""Reads of membership for the API and the commands: members and their file, the organisation
tree, employers, coverage figures, imports, transfer requests (here); membership flows
(`queries.flows`) and the statistical report (`queries.statistics`). Anything outside the
caller's subtree is answered as not found."""
from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from membership.domain.members import HONOURS
from membership.domain.rights import figures_day
from membership.queries.collective_contracts import IN_FORCE
from membership.queries.flows import monthly_flows
from unionops.auth import Principal
from unionops.clock import local_today
from unionops.db import Reader
from unionops.problems import Problem, RuleViolation
from unionops.projections import common_ancestor
from unionops.scope import row_in_scope

# A read of one statement takes either: the API passes its pool (no connection is held for a
# request refused by its own validation), commands their unit of work's connection.


NOT_FOUND = "会员不存在或不在您的管辖范围内"


MEMBER_QUERY = (
    "SELECT m.id, m.union_id, o.name AS union_name, o.path, m.name, m.gender, m.birth_date, m.id_number_masked,"
    " m.phone_enc, m.phone_masked, m.email_enc, m.email_masked, m.employer, m.employer_credit_code, m.occupation, m.education,"
    " m.is_migrant_worker, m.honours, m.status, m.status_reason, m.status_changed_on, m.left_on, m.joined_on"
    " FROM members m JOIN org_units o ON o.id = m.union_id"
)


async def load_member(conn: Reader, member_id: uuid.UUID, actor: Principal | None = None, *,
                      for_update: bool = False) -> asyncpg.Record:
    """The member with its union's path. With `actor`, one outside the caller's subtree is
    answered like one that does not exist (404), for changes as for reads."""
    row = await conn.fetchrow(MEMBER_QUERY + " WHERE m.id = $1" + (" FOR UPDATE OF m" if for_update else ""), member_id)
    if row is None or (actor is not None and not actor.covers(row["path"])):
        raise Problem(404, NOT_FOUND, type_="/problems/not-found")
    return row


def member_view(row, **extra) -> dict:
    """What staff see of a member: identity and phone masked, honours with their labels."""
    return {
        "id": row["id"], "union_id": row["union_id"], "union_name": row["union_name"], "name": row["name"],
        "gender": row["gender"], "birth_date": row["birth_date"], "id_number_masked": row["id_number_masked"],
        "phone_masked": row["phone_masked"], "email": row["email_masked"], "employer": row["employer"],
        "occupation": row["occupation"], "education": row["education"],
        "is_migrant_worker": row["is_migrant_worker"],
        "honours": [{"code": h, "label": HONOURS.get(h, h)} for h in row["honours"]],
        "status": row["status"], "status_reason": row["status_reason"], "joined_on": row["joined_on"],
        "left_on": row["left_on"], **extra,
    }


async def member_file(conn: Reader, member_id: uuid.UUID, actor: Principal) -> dict:
    """The full, ordered history. Readable by staff whose subtree covers any union the member
    ever belonged to (the current one, and every union named in an entry), by today's tree."""
    member = await conn.fetchrow(
        "SELECT m.id, m.name, m.status, m.union_id, m.id_number_masked FROM members m WHERE m.id = $1", member_id)
    if member is None:
        raise Problem(404, NOT_FOUND, type_="/problems/not-found")
    readable = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM org_units o WHERE $3 = ANY(o.path) AND (o.id = $2 OR o.id IN ("
        "  SELECT unnest(array_append(e.union_ids, e.union_id)) FROM member_file_entries e WHERE e.member_id = $1)))",
        member_id, member["union_id"], actor.org_id)
    if not readable:
        raise Problem(404, NOT_FOUND, type_="/problems/not-found")
    rows = await conn.fetch(
        "SELECT e.occurred_at, e.kind, e.union_id, o.name AS union_name, e.union_ids, e.detail, e.actor"
        " FROM member_file_entries e JOIN org_units o ON o.id = e.union_id WHERE e.member_id = $1 ORDER BY e.id",
        member_id)
    return {"member_id": member["id"], "name": member["name"], "id_number_masked": member["id_number_masked"],
            "status": member["status"], "union_id": member["union_id"], "entries": [dict(r) for r in rows]}


async def common_office(conn: asyncpg.Connection, actor: Principal, path) -> str:
    """The name of the lowest unit above both the caller's unit and the unit at `path`: the office
    to ask about someone registered outside the caller's subtree. It is one of the caller's own
    ancestors, so naming it tells nothing about the other subtree."""
    common = common_ancestor(await conn.fetchval("SELECT path FROM org_units WHERE id = $1", actor.org_id), path)
    name = await conn.fetchval("SELECT name FROM org_units WHERE id = $1", common) if common else None
    return name or "上级工会"


async def load_unit(conn: asyncpg.Connection, org_id: uuid.UUID, *, field: str,
                    allow_closed: bool = False, actor: Principal | None = None) -> asyncpg.Record:
    """A unit by id; merged or dissolved units are refused unless `allow_closed`. With `actor`,
    a unit outside the caller's subtree is refused exactly like an unknown one (before its
    status is looked at: that too is something an outsider does not learn)."""
    unit = await conn.fetchrow("SELECT id, path, level, kind, name, status FROM org_units WHERE id = $1", org_id)
    if unit is None or (actor is not None and not actor.covers(unit["path"])):
        raise RuleViolation("组织不存在", field=field)
    if unit["status"] != "active" and not allow_closed:
        raise RuleViolation("该组织已合并或撤销", field=field, status=409, kind="unit-closed")
    return unit


REQUEST_NOT_FOUND = "转移申请不存在或不在您的管辖范围内"


REQUEST_QUERY = (
    "SELECT r.*, t.name AS to_union_name, t.path AS to_path, a.name AS requested_by_org_name"
    " FROM transfer_requests r JOIN org_units t ON t.id = r.to_union_id"
    " JOIN org_units a ON a.id = r.requested_by_org_id"
)


def asker_view(row, today: date) -> dict:
    """What the asking side sees: only what it already knew. Declined reads as pending until the
    expiry date, then as expired — like a request about no member."""
    status = row["status"]
    if status == "declined":
        status = "pending" if row["expires_on"] >= today else "expired"
    return {"id": row["id"], "status": status, "id_number_masked": row["id_number_masked"],
            "to_union_id": row["to_union_id"], "to_union_name": row["to_union_name"],
            "new_employer": row["new_employer"], "requested_by": row["requested_by"],
            "requested_at": row["requested_at"], "expires_on": row["expires_on"]}


def sending_view(row) -> dict:
    """What the member and the sending side see: who asks, for whom, and what became of it."""
    return {"id": row["id"], "status": row["status"], "member_id": row["member_id"],
            "id_number_masked": row["id_number_masked"], "to_union_id": row["to_union_id"],
            "to_union_name": row["to_union_name"], "requested_by": row["requested_by"],
            "requested_by_org_name": row["requested_by_org_name"], "new_employer": row["new_employer"],
            "requested_at": row["requested_at"], "expires_on": row["expires_on"], "decided_by": row["decided_by"],
            "decided_as": row["decided_as"], "decided_at": row["decided_at"]}


_FIGURES = f"""
WITH sub AS (SELECT id, level, status, established_on FROM org_units WHERE $1 = ANY(path))
SELECT
  (SELECT count(*) FROM sub WHERE level = 'grassroots' AND status = 'active') AS unions_total,
  (SELECT count(*) FROM sub WHERE level = 'grassroots'
      AND established_on >= make_date($2, 1, 1) AND established_on < make_date($2 + 1, 1, 1)) AS unions_founded_this_year,
  (SELECT count(*) FROM members m JOIN sub ON sub.id = m.union_id WHERE m.status IN ('active', 'retained')) AS members_total,
  (SELECT count(*) FROM employers e JOIN sub ON sub.id = e.org_id WHERE e.ownership = 'non_public') AS non_public_total,
  (SELECT count(*) FROM employers e JOIN sub ON sub.id = e.org_id
      WHERE e.ownership = 'non_public' AND e.union_id IS NOT NULL) AS non_public_covered,
  -- employers with a contract in force on $3 (employers.has_collective_contract is a legacy marker: dates unknown)
  (SELECT count(DISTINCT e.id) FROM employers e JOIN sub ON sub.id = e.org_id
      JOIN collective_contract_employers ce ON ce.employer_id = e.id JOIN collective_contracts c ON c.id = ce.contract_id
      WHERE {IN_FORCE.format(d="$3")}) AS collective_contracts,
  (SELECT unions_target FROM coverage_targets WHERE org_id = $1 AND year = $2) AS unions_target,
  (SELECT members_target FROM coverage_targets WHERE org_id = $1 AND year = $2) AS members_target
"""


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def figures(conn: asyncpg.Connection, org_id: uuid.UUID, year: int) -> dict:
    """All figures of the subtree under `org_id` for `year` (two statements, none per member)."""
    totals = await conn.fetchrow(_FIGURES, org_id, year, figures_day(year, local_today()))  # contracts in force
    months = await monthly_flows(conn, org_id, year)
    t = dict(totals)
    return {
        "org_id": org_id,
        "year": year,
        "unions": {"total": t["unions_total"], "founded_this_year": t["unions_founded_this_year"],
                   "target": t["unions_target"],
                   "progress": _share(t["unions_founded_this_year"], t["unions_target"] or 0)},
        "members": {"total": t["members_total"], "target": t["members_target"]},
        "non_public_employers": {"total": t["non_public_total"], "covered": t["non_public_covered"],
                                 "coverage_rate": _share(t["non_public_covered"], t["non_public_total"])},
        "collective_contract_employers": t["collective_contracts"],
        "months": months,
    }


# ---- the organisation tree and employers ----------------------------------------------------------

UNIT_NOT_FOUND = "组织不存在或不在您的管辖范围内"
_ORGANISATION = ("SELECT id, parent_id, path, name, level, kind, region_code, established_on, status FROM org_units")


async def organisation(conn: Reader, org_id: uuid.UUID, principal: Principal) -> dict:
    return dict(await row_in_scope(conn, principal, Problem(404, UNIT_NOT_FOUND), _ORGANISATION + " WHERE id = $1",
                                   org_id, path="path"))


async def organisations(conn: Reader, principal: Principal, parent_id: uuid.UUID | None,
                        limit: int) -> list[dict]:
    """Units in the caller's subtree, optionally the children of one unit."""
    rows = await conn.fetch(
        _ORGANISATION + " WHERE $1 = ANY(path) AND ($2::uuid IS NULL OR parent_id = $2)"
        " ORDER BY array_length(path, 1), name LIMIT $3",
        principal.org_id, parent_id, min(max(limit, 1), 1000))
    return [dict(r) for r in rows]


async def organisation_history(conn: Reader, org_id: uuid.UUID, principal: Principal) -> dict:
    path = await conn.fetchval("SELECT path FROM org_units WHERE id = $1", org_id)
    if path is None or not principal.covers(path):
        raise Problem(404, UNIT_NOT_FOUND)
    rows = await conn.fetch("SELECT occurred_at, kind, detail, actor FROM org_unit_history WHERE org_id = $1 ORDER BY id",
                            org_id)
    return {"org_id": org_id, "entries": [dict(r) for r in rows]}


async def employers(conn: Reader, principal: Principal, org_id: uuid.UUID | None, without_union: bool,
                    limit: int) -> list[dict]:
    """Employers in the caller's subtree (of `org_id`'s); `without_union`: the 建会 targets."""
    rows = await conn.fetch(
        "SELECT e.id, e.org_id, e.union_id, e.name, e.credit_code, e.ownership, e.headcount, e.above_designated_size,"
        " e.has_collective_contract, e.contact_name"
        " FROM employers e JOIN org_units o ON o.id = e.org_id"
        " WHERE $1 = ANY(o.path) AND ($2::uuid IS NULL OR $2 = ANY(o.path)) AND (NOT $3 OR e.union_id IS NULL)"
        " ORDER BY e.headcount DESC, e.name LIMIT $4",
        principal.org_id, org_id, without_union, min(max(limit, 1), 1000))
    return [dict(r) for r in rows]


async def unit_in_scope(conn: Reader, org_id: uuid.UUID, principal: Principal) -> asyncpg.Record:
    """A unit (name, level, path) of the caller's subtree; outside it, the 404 of an unknown one."""
    return await row_in_scope(conn, principal, Problem(404, UNIT_NOT_FOUND),
                              "SELECT name, level, path FROM org_units WHERE id = $1", org_id, path="path")


async def coverage(conn: Reader, org_id: uuid.UUID, year: int, principal: Principal) -> dict:
    """The coverage figures of a subtree of the caller's, with the unit's name and level."""
    unit = await unit_in_scope(conn, org_id, principal)
    return {"org_name": unit["name"], "level": unit["level"], **await figures(conn, org_id, year)}


# ---- imports --------------------------------------------------------------------------------------

async def import_summary(conn: Reader, import_id: uuid.UUID, principal: Principal) -> dict:
    """The summary of an earlier import made by a unit of the caller's subtree."""
    row = await row_in_scope(
        conn, principal, Problem(404, "导入记录不存在或不在您的管辖范围内"),
        "SELECT i.summary, i.actor, i.created_at, o.path FROM imports i JOIN org_units o ON o.id = i.actor_org"
        " WHERE i.id = $1", import_id, path="path")
    return {**row["summary"], "actor": row["actor"], "created_at": row["created_at"].isoformat()}
