"""Reads of 厂务公开 (an employer's openness system and its publications) and of labour-dispute
mediation committees (劳动争议调解委员会, of employers and streets), issue 14. An employer
is in scope when the unit answerable for it is (employers.org_id); a street committee when its street is."""
from __future__ import annotations

import uuid

from membership.domain.congresses import OPENNESS_ITEMS
from unionops.auth import Principal
from unionops.db import Reader
from unionops.problems import Problem, RuleViolation
from unionops.paging import page
from unionops.scope import row_in_scope

EMPLOYER_NOT_FOUND = "企业不存在或不在您的管辖范围内"
_EMPLOYER = ("SELECT e.id, e.name, e.union_id, e.org_id, o.path AS org_path FROM employers e"
             " JOIN org_units o ON o.id = e.org_id WHERE e.id = $1")


async def employer_in_scope(conn: Reader, employer_id: uuid.UUID, actor: Principal, *, field: str | None = None):
    """The employer of the caller's subtree: 404 when named in the path, 422 naming `field` when
    named in a body — the same for unknown and out of scope."""
    refusal = RuleViolation(EMPLOYER_NOT_FOUND, field=field) if field else Problem(404, EMPLOYER_NOT_FOUND)
    return await row_in_scope(conn, actor, refusal, _EMPLOYER, employer_id)


def items_view(items: list[str]) -> list[dict]:
    return [{"code": i, "label": OPENNESS_ITEMS.get(i, i)} for i in items]


async def openness(conn: Reader, employer_id: uuid.UUID, actor: Principal) -> dict:
    employer = await employer_in_scope(conn, employer_id, actor)
    row = await conn.fetchrow(
        "SELECT s.established_on, s.items, (SELECT max(published_on) FROM openness_publications p"
        " WHERE p.employer_id = s.employer_id) AS last_published_on,"
        " (SELECT coalesce(jsonb_agg(jsonb_build_object('published_on', p.published_on, 'items', p.items)"
        "  ORDER BY p.published_on DESC, p.id DESC), '[]') FROM (SELECT * FROM openness_publications"
        "  WHERE employer_id = s.employer_id ORDER BY published_on DESC, id DESC LIMIT 20) p) AS publications"
        " FROM openness_systems s WHERE s.employer_id = $1", employer_id)
    if row is None:
        return {"employer_id": employer_id, "employer_name": employer["name"], "established": False,
                "established_on": None, "items": [], "last_published_on": None, "publications": []}
    return {"employer_id": employer_id, "employer_name": employer["name"], "established": True,
            "established_on": row["established_on"], "items": items_view(row["items"]),
            "last_published_on": row["last_published_on"],
            "publications": [{"published_on": p["published_on"], "items": items_view(p["items"])}
                             for p in row["publications"]]}


_COMMITTEES = """
SELECT m.id, CASE WHEN m.employer_id IS NULL THEN 'street' ELSE 'employer' END AS level, m.employer_id,
       e.name AS employer_name, coalesce(m.street_id, e.org_id) AS org_id, o.name AS org_name, m.established_on,
       m.members_count, m.chair_name, o.path AS org_path
FROM mediation_committees m LEFT JOIN employers e ON e.id = m.employer_id
JOIN org_units o ON o.id = coalesce(m.street_id, e.org_id)
"""


def committee_row(r) -> dict:
    return {k: r[k] for k in ("id", "level", "employer_id", "employer_name", "org_id", "org_name", "established_on",
                              "members_count", "chair_name")}


async def mediation_committees(conn: Reader, principal: Principal, org_id: uuid.UUID, level: str | None, *,
                               limit: int, offset: int) -> dict:
    """The committees of a subtree (of the caller's): employers' and streets' (`level`)."""
    sql = (_COMMITTEES + " WHERE $1 = ANY(o.path) AND $2 = ANY(o.path)"
           " AND ($3::text IS NULL OR (m.employer_id IS NULL) = ($3 = 'street'))")
    return await page(conn, "q.*", f"FROM ({sql}) AS q", "q.org_name, q.employer_name, q.id",
                      [principal.org_id, org_id, level], limit=limit, offset=offset, row=committee_row)


async def mediation_committee(conn: Reader, committee_id: uuid.UUID, principal: Principal) -> dict:
    row = await row_in_scope(conn, principal, Problem(404, "调解委员会不存在或不在您的管辖范围内"),
                             _COMMITTEES + " WHERE m.id = $1", committee_id)
    return committee_row(row)
