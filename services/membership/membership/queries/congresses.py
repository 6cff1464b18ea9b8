"""Reads of workers' congresses (职代会), their proposals, and the democratic-management rates of a
subtree — 职代会建制率, 厂务公开 and 劳动争议调解组织组建率 (issue 14). A congress is in
the caller's scope when its union is; outside it, it reads like one that does not exist.

The rates' bases, from the plans' words:
- congress (“非公企业职代会建制率达50%”): non-public employers with a union; covered when a
  congress covering the employer (its own or a regional/industry one) was established by the day.
- openness (“企业建立厂务公开民主管理制度的面达90%”): employers with a union; covered when the
  厂务公开 system was established by the day AND it published at least once in the year up to
  that day (a system that never publishes is not in place).
- mediation_committee (“在建立工会组织的企业中,劳动争议调解组织组建率力争达75%”): employers with a
  union; covered by their own committee established by the day. Street committees (区域性) are
  not employers' and are listed apart (`GET /mediation-committees?level=street`)."""
from __future__ import annotations

import uuid
from datetime import date


from membership.domain.congresses import KIND_LABELS, PROPOSAL_OUTCOME_LABELS
from membership.domain.rights import Rate
from unionops.auth import Principal
from unionops.db import Reader
from unionops.problems import Problem
from unionops.paging import page
from unionops.scope import row_in_scope

CONGRESS_NOT_FOUND = "职代会不存在或不在您的管辖范围内"
# A delegate of the day $2: elected for a term covering it, and not left the union by then
# (a member who leaves loses the seat; 代表资格自然终止).
IN_TERM = "d.term_start <= $2 AND d.term_end >= $2 AND (m.left_on IS NULL OR m.left_on > $2)"
PROPOSAL_NOT_FOUND = "提案不存在或不在您的管辖范围内"

_RATES = """
WITH emp AS (
    SELECT e.id, e.ownership FROM employers e JOIN org_units o ON o.id = e.org_id
    WHERE $1 = ANY(o.path) AND e.union_id IS NOT NULL)
SELECT
  count(*) FILTER (WHERE ownership = 'non_public') AS congress_base,
  count(*) FILTER (WHERE ownership = 'non_public' AND EXISTS (
      SELECT 1 FROM congress_employers ce JOIN congresses c ON c.id = ce.congress_id
      WHERE ce.employer_id = emp.id AND c.established_on <= $3)) AS congress_covered,
  count(*) AS with_union,
  count(*) FILTER (WHERE EXISTS (
      SELECT 1 FROM openness_systems s JOIN openness_publications p ON p.employer_id = s.employer_id
      WHERE s.employer_id = emp.id AND s.established_on <= $3
        AND p.published_on >= make_date($2, 1, 1) AND p.published_on <= $3)) AS openness_covered,
  count(*) FILTER (WHERE EXISTS (
      SELECT 1 FROM mediation_committees m WHERE m.employer_id = emp.id AND m.established_on <= $3))
      AS mediation_covered
FROM emp
"""


async def rates(conn: Reader, org_id: uuid.UUID, year: int, as_of: date) -> list[Rate]:
    """The democratic-management measures of the subtree under `org_id` on `as_of` (the day the
    figures of `year` are for): congress, openness, mediation_committee — one statement."""
    r = await conn.fetchrow(_RATES, org_id, year, as_of)
    return [Rate("congress", r["congress_covered"], r["congress_base"]),
            Rate("openness", r["openness_covered"], r["with_union"]),
            Rate("mediation_committee", r["mediation_covered"], r["with_union"])]


# The congress covering every employer of a contract ($1) — at most one: an employer belongs to one
# congress — established by the day ($2), with its delegates in term that day.
_CONTRACT_CONGRESS = f"""
WITH covering AS (
  SELECT ce.congress_id FROM collective_contract_employers cce
  JOIN congress_employers ce ON ce.employer_id = cce.employer_id
  WHERE cce.contract_id = $1 GROUP BY ce.congress_id
  HAVING count(*) = (SELECT count(*) FROM collective_contract_employers WHERE contract_id = $1)
)
SELECT c.id, (SELECT count(DISTINCT d.member_id) FROM congress_delegates d JOIN members m ON m.id = d.member_id
              WHERE d.congress_id = c.id AND {IN_TERM}) AS delegates
FROM covering JOIN congresses c ON c.id = covering.congress_id WHERE c.established_on <= $2
"""


async def congress_voting_on_contract(conn: Reader, contract_id: uuid.UUID,
                                      day: date) -> tuple[uuid.UUID | None, int | None]:
    """The congress that votes on a collective contract's draft and its delegates in term on `day`;
    (None, None) when no one congress covers all its employers (then all workers vote)."""
    row = await conn.fetchrow(_CONTRACT_CONGRESS, contract_id, day)
    return (row["id"], row["delegates"]) if row else (None, None)


# ---- one congress ------------------------------------------------------------------------------

_CONGRESS = ("SELECT c.id, c.union_id, c.kind, c.name, c.established_on, c.proposal_answer_days, o.name AS union_name,"
             " o.path AS org_path FROM congresses c JOIN org_units o ON o.id = c.union_id WHERE c.id = $1")


async def load_congress(conn: Reader, congress_id: uuid.UUID, actor: Principal, *, lock: bool = False):
    return await row_in_scope(conn, actor, Problem(404, CONGRESS_NOT_FOUND),
                              _CONGRESS + (" FOR UPDATE OF c" if lock else ""), congress_id)


async def load_congress_of_delegate(conn: Reader, congress_id: uuid.UUID):
    """The congress for a delegate acting themselves: their being its delegate is the scope (the
    caller checks it, answering CONGRESS_NOT_FOUND otherwise)."""
    row = await conn.fetchrow(_CONGRESS, congress_id)
    if row is None:
        raise Problem(404, CONGRESS_NOT_FOUND)
    return row


async def congress_view(conn: Reader, congress_id: uuid.UUID, actor: Principal, as_of: date) -> dict:
    c = await load_congress(conn, congress_id, actor)
    detail = await conn.fetchrow(
        "SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('id', e.id, 'name', e.name) ORDER BY e.name), '[]')"
        "        FROM congress_employers ce JOIN employers e ON e.id = ce.employer_id WHERE ce.congress_id = $1)"
        "        AS employers,"
        " (SELECT count(DISTINCT d.member_id) FROM congress_delegates d JOIN members m ON m.id = d.member_id"
        "   WHERE d.congress_id = $1 AND " + IN_TERM + ") AS delegates_in_term,"
        " (SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'held_on', s.held_on, 'electorate', s.electorate,"
        "   'present', s.present, 'quorate', s.quorate, 'managers_evaluated', s.managers_evaluated)"
        "   ORDER BY s.held_on DESC), '[]') FROM congress_sessions s WHERE s.congress_id = $1) AS sessions",
        congress_id, as_of)
    employers, sessions = detail["employers"], detail["sessions"]
    return {"id": c["id"], "kind": c["kind"], "kind_label": KIND_LABELS[c["kind"]], "name": c["name"],
            "union_id": c["union_id"], "union_name": c["union_name"], "established_on": c["established_on"],
            "proposal_answer_days": c["proposal_answer_days"], "employers": employers,
            "delegates_in_term": detail["delegates_in_term"], "sessions": sessions}


# ---- lists ------------------------------------------------------------------------------------

# Per congress of the subtree: the year's quorate sessions and evaluations, and its last one held.
_CONGRESSES = """
SELECT c.id, c.kind, c.name, c.union_id, o.name AS union_name, c.established_on,
       (SELECT count(*) FROM congress_employers ce WHERE ce.congress_id = c.id) AS employers,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('id', e.id, 'name', e.name) ORDER BY e.name), '[]')
          FROM congress_employers ce JOIN employers e ON e.id = ce.employer_id WHERE ce.congress_id = c.id)
          AS employer_list,
       (SELECT count(*) FROM congress_sessions s WHERE s.congress_id = c.id AND s.quorate
           AND s.held_on >= make_date($3, 1, 1) AND s.held_on <= $4) AS held_this_year,
       (SELECT count(*) FROM congress_sessions s WHERE s.congress_id = c.id AND s.quorate
           AND s.managers_evaluated IS NOT NULL
           AND s.held_on >= make_date($3, 1, 1) AND s.held_on <= $4) AS evaluations_this_year,
       (SELECT max(held_on) FROM congress_sessions s WHERE s.congress_id = c.id AND s.quorate) AS last_held_on
FROM congresses c JOIN org_units o ON o.id = c.union_id
WHERE $1 = ANY(o.path) AND $2 = ANY(o.path) AND c.established_on <= $4
"""


def _congress_row(r) -> dict:
    return {"id": r["id"], "kind": r["kind"], "kind_label": KIND_LABELS[r["kind"]], "name": r["name"],
            "union_id": r["union_id"], "union_name": r["union_name"], "established_on": r["established_on"],
            "employers": r["employer_list"], "held_this_year": r["held_this_year"] > 0,
            "sessions_held_this_year": r["held_this_year"], "evaluated_this_year": r["evaluations_this_year"] > 0,
            "last_held_on": r["last_held_on"]}


async def congresses(conn: Reader, principal: Principal, org_id: uuid.UUID, year: int, as_of: date, *,
                     not_held: bool, limit: int, offset: int) -> dict:
    """The congresses of a subtree (of the caller's) established by `as_of`, with the year's
    sessions; `not_held`: only those that held no quorate session in the year (未召开)."""
    sql = _CONGRESSES if not not_held else f"SELECT * FROM ({_CONGRESSES}) AS c WHERE held_this_year = 0"
    return await page(conn, "q.*", f"FROM ({sql}) AS q", "q.union_name, q.name, q.id",
                      [principal.org_id, org_id, year, as_of], limit=limit, offset=offset, row=_congress_row)


# ---- proposals --------------------------------------------------------------------------------

_PROPOSALS = """
SELECT p.id, p.congress_id, c.name AS congress_name, p.member_id, m.name AS member_name, p.title, p.content,
       p.submitted_on, p.answer_due_on, p.outcome, p.answer, p.answered_on, p.answered_late,
       p.overdue_raised_at IS NOT NULL AS overdue_raised, o.path AS org_path,
       (p.answered_on IS NULL AND p.answer_due_on < $2) AS overdue
FROM congress_proposals p JOIN congresses c ON c.id = p.congress_id JOIN org_units o ON o.id = c.union_id
JOIN members m ON m.id = p.member_id
"""


def _proposal_row(r) -> dict:
    return {"id": r["id"], "congress_id": r["congress_id"], "congress_name": r["congress_name"],
            "member_id": r["member_id"], "member_name": r["member_name"], "title": r["title"],
            "content": r["content"], "submitted_on": r["submitted_on"], "answer_due_on": r["answer_due_on"],
            "overdue": r["overdue"], "outcome": r["outcome"],
            "outcome_label": PROPOSAL_OUTCOME_LABELS.get(r["outcome"]) if r["outcome"] else None,
            "answer": r["answer"], "answered_on": r["answered_on"], "answered_late": r["answered_late"]}


async def load_proposal(conn: Reader, proposal_id: uuid.UUID, actor: Principal, *, lock: bool = False):
    return await row_in_scope(
        conn, actor, Problem(404, PROPOSAL_NOT_FOUND),
        "SELECT p.id, p.congress_id, c.name AS congress_name, p.member_id, p.answer_due_on, p.answered_on,"
        " o.path AS org_path FROM congress_proposals p JOIN congresses c ON c.id = p.congress_id"
        " JOIN org_units o ON o.id = c.union_id WHERE p.id = $1" + (" FOR UPDATE OF p" if lock else ""), proposal_id)


async def proposal_view(conn: Reader, proposal_id: uuid.UUID, actor: Principal, today: date) -> dict:
    """Staff of the congress's subtree, or the proposing delegate (member token); to anyone else
    the proposal does not exist."""
    if actor.role == "member":
        row = await conn.fetchrow(_PROPOSALS + " WHERE p.id = $1", proposal_id, today)
        if row is None or not actor.is_member(row["member_id"]):
            raise Problem(404, PROPOSAL_NOT_FOUND)
    else:
        actor.require("read")
        row = await row_in_scope(conn, actor, Problem(404, PROPOSAL_NOT_FOUND), _PROPOSALS + " WHERE p.id = $1",
                                 proposal_id, today)
    return _proposal_row(row)


async def proposals(conn: Reader, principal: Principal, org_id: uuid.UUID, congress_id: uuid.UUID | None,
                    overdue: bool | None, today: date, *, limit: int, offset: int) -> dict:
    """Proposals of a subtree's congresses: overdue first, then the unanswered, then the
    answered, each by due date."""
    sql = (_PROPOSALS + " WHERE $1 = ANY(o.path) AND $3 = ANY(o.path) AND ($4::uuid IS NULL OR p.congress_id = $4)"
           " AND ($5::bool IS NULL OR (p.answered_on IS NULL AND p.answer_due_on < $2) = $5)")
    return await page(conn, "q.*", f"FROM ({sql}) AS q",
                      "q.overdue DESC, (q.answered_on IS NULL) DESC, q.answer_due_on, q.id",
                      [principal.org_id, today, org_id, congress_id, overdue], limit=limit, offset=offset, row=_proposal_row)
