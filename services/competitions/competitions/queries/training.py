"""Reads of training programmes (培训班): a programme is the organising unit's, seen and managed by
the staff whose subtree holds that unit (anyone else: not found, like an unknown id); its
enrolments; a member's own trainings; the figures of a unit's subtree per child unit."""
from __future__ import annotations

import uuid

import asyncpg

from competitions.domain.training import PROGRAMME_NOT_FOUND, TRAINING_KINDS
from unionops.auth import Principal
from unionops.db import Reader
from unionops.paging import page
from unionops.problems import Problem
from unionops.scope import row_in_scope

PROGRAMME_COLUMNS = (
    "p.id, p.name, p.kind, p.org_id, COALESCE(o.name, '') AS org_name, p.org_path, p.starts_on, p.ends_on,"
    " p.place, p.sessions, p.min_sessions, p.assessment_required, p.capacity, p.unemployed_only, p.status,"
    " p.finished_on, p.created_at, p.created_by, p.status_changed_at, p.status_changed_by,"
    " c.enrolled, c.completed, c.certificates")

# With how many are enrolled, completed and certified: one statement for a page of programmes.
_PROGRAMME = (
    f"SELECT {PROGRAMME_COLUMNS} FROM training_programmes p LEFT JOIN org_units o ON o.org_id = p.org_id"
    " CROSS JOIN LATERAL (SELECT count(*) AS enrolled, count(*) FILTER (WHERE e.completed) AS completed,"
    " count(e.certificate_no) AS certificates FROM training_enrolments e WHERE e.programme_id = p.id) c")


def not_found() -> Problem:
    return Problem(404, PROGRAMME_NOT_FOUND, type_="/problems/not-found")


async def managed_programme(reader: Reader, programme_id: uuid.UUID, actor: Principal, *,
                            for_update: bool = False) -> asyncpg.Record:
    """The programme, for the staff whose subtree holds its organiser; `for_update` locks its row,
    which serialises enrolments (the last places), attendance and the finishing."""
    if for_update:  # the row alone; what an outsider learns is still only "not found"
        await reader.execute("SELECT 1 FROM training_programmes WHERE id = $1 FOR UPDATE", programme_id)
    return await row_in_scope(reader, actor, not_found(), f"{_PROGRAMME} WHERE p.id = $1", programme_id)


def programme_view(programme: asyncpg.Record) -> dict:
    """The programme as the API shows it, with how many are enrolled, completed and certified."""
    view = {k: programme[k] for k in programme.keys() if k != "org_path"}
    places_left = None if programme["capacity"] is None else max(programme["capacity"] - programme["enrolled"], 0)
    return view | {"kind_label": TRAINING_KINDS[programme["kind"]], "places_left": places_left}


async def programme(reader: Reader, programme_id: uuid.UUID, principal: Principal) -> dict:
    return programme_view(await managed_programme(reader, programme_id, principal))


async def programmes(reader: Reader, principal: Principal, *, status: str | None, kind: str | None,
                     unit: uuid.UUID | None, year: int | None, limit: int, offset: int) -> dict:
    """Programmes organised in the caller's subtree (and in `unit`'s, when given: a unit outside
    the caller's subtree matches nothing), earliest start first, then id (stable pages)."""
    where = ("$1 = ANY(p.org_path) AND ($2::uuid IS NULL OR $2 = ANY(p.org_path))"
             " AND ($3::text IS NULL OR p.status = $3) AND ($4::text IS NULL OR p.kind = $4)"
             " AND ($5::int IS NULL OR extract(year FROM p.starts_on) = $5)")
    args = (principal.org_id, unit, status, kind, year)
    return await page(reader, "q.*", f"FROM ({_PROGRAMME} WHERE {where}) AS q", "q.starts_on, q.id", list(args),
                      limit=limit, offset=offset, row=programme_view)


async def enrolments(reader: Reader, programme_id: uuid.UUID, principal: Principal, *, limit: int,
                     offset: int) -> dict:
    """Who is enrolled, in order of arrival, with the sessions they attended."""
    await managed_programme(reader, programme_id, principal)
    return await page(
        reader, "e.member_id, e.member_name, e.union_id, e.union_name, e.enrolled_at, e.enrolled_by,"
        " e.assessment_passed, e.completed, e.completed_on, e.certificate_no,"
        " (SELECT count(*) FROM training_attendance a WHERE a.programme_id = e.programme_id"
        "  AND a.member_id = e.member_id) AS sessions_attended",
        "FROM training_enrolments e WHERE e.programme_id = $1", "e.seq", [programme_id],
        limit=limit, offset=offset, row=dict)


async def mine(reader: Reader, principal: Principal) -> list[dict]:
    """A member's own trainings (member token: `sub` is the member id), latest first."""
    try:
        member_id = uuid.UUID(principal.subject)
    except ValueError:
        return []
    rows = await reader.fetch(
        "SELECT p.id AS programme_id, p.name AS programme_name, p.kind, COALESCE(o.name, '') AS org_name,"
        " p.starts_on, p.ends_on, p.place, p.sessions, p.min_sessions, p.status, e.enrolled_at, e.completed,"
        " e.completed_on, e.certificate_no,"
        " (SELECT count(*) FROM training_attendance a WHERE a.programme_id = e.programme_id"
        "  AND a.member_id = e.member_id) AS sessions_attended"
        " FROM training_enrolments e JOIN training_programmes p ON p.id = e.programme_id"
        " LEFT JOIN org_units o ON o.org_id = p.org_id WHERE e.member_id = $1 ORDER BY p.starts_on DESC, p.id",
        member_id)
    return [dict(r) | {"kind_label": TRAINING_KINDS[r["kind"]]} for r in rows]


async def open_to_member(reader: Reader, principal: Principal) -> list[dict]:
    """Programmes a member may enrol in themselves: open, organised by a unit above their union
    (or by it), earliest start first."""
    member = await member_of(reader, principal)
    if member is None:
        return []
    rows = await reader.fetch(f"{_PROGRAMME} WHERE p.status = 'open' AND p.org_id = ANY($1::uuid[])"
                              " ORDER BY p.starts_on, p.id LIMIT 200", member["org_path"])
    return [programme_view(r) for r in rows]


async def member_of(reader: Reader, principal: Principal) -> asyncpg.Record | None:
    """The member a member token names, as competitions knows them (None: unknown or left)."""
    try:
        member_id = uuid.UUID(principal.subject)
    except ValueError:
        return None
    return await reader.fetchrow("SELECT member_id, org_path FROM members WHERE member_id = $1", member_id)


# Figures: programmes counted under their organiser's path, people under the path of their union
# when enrolled (where they were trained from), by the Beijing year the programme starts. Drafts
# are plans, not programmes. `grp` is every child unit and the unit itself (the total).
_FIGURES_GROUPS = """
WITH grp AS (SELECT org_id FROM org_units WHERE parent_id = $1 UNION ALL SELECT $1::uuid),
progs AS (SELECT id, kind, org_path FROM training_programmes
          WHERE status <> 'draft' AND starts_on >= make_date($2, 1, 1) AND starts_on < make_date($2 + 1, 1, 1))"""

_FIGURES_PROGRAMMES = f"""{_FIGURES_GROUPS}
SELECT g.org_id, p.kind, count(*) AS programmes
FROM grp g JOIN progs p ON p.org_path @> ARRAY[g.org_id]
GROUP BY 1, 2"""

_FIGURES_PEOPLE = f"""{_FIGURES_GROUPS}
SELECT g.org_id, p.kind, count(*) AS enrolled, count(*) FILTER (WHERE e.completed) AS completed,
       count(e.certificate_no) AS certificates
FROM grp g JOIN training_enrolments e ON e.org_path @> ARRAY[g.org_id] JOIN progs p ON p.id = e.programme_id
GROUP BY 1, 2"""

FIGURES = ("programmes", "enrolled", "completed", "certificates")


async def figures(reader: Reader, unit_id: uuid.UUID, year: int, principal: Principal) -> dict:
    """A unit's training figures of a year, in total and per child unit, each by kind."""
    unit = await row_in_scope(reader, principal, Problem(404, "组织不存在或不在您的管辖范围内", type_="/problems/not-found"),
                              "SELECT org_id, name, org_path FROM org_units WHERE org_id = $1", unit_id)
    children = await reader.fetch("SELECT org_id, name FROM org_units WHERE parent_id = $1 ORDER BY name, org_id",
                                  unit_id)
    cells: dict[uuid.UUID, dict[str, dict[str, int]]] = {}
    for r in [*await reader.fetch(_FIGURES_PROGRAMMES, unit_id, year),
              *await reader.fetch(_FIGURES_PEOPLE, unit_id, year)]:
        cell = cells.setdefault(r["org_id"], {}).setdefault(r["kind"], dict.fromkeys(FIGURES, 0))
        cell.update({k: r[k] for k in FIGURES if k in r.keys()})

    def shaped(org_id: uuid.UUID, name: str) -> dict:
        by_kind = cells.get(org_id, {})
        return {"org_id": org_id, "name": name, **{f: sum(c[f] for c in by_kind.values()) for f in FIGURES},
                "by_kind": {k: by_kind.get(k, dict.fromkeys(FIGURES, 0)) for k in TRAINING_KINDS}}

    return {"unit": shaped(unit["org_id"], unit["name"]), "year": year,
            "units": [shaped(c["org_id"], c["name"]) for c in children]}
