"""Reads of collective contracts (集体合同) and their negotiations (issue 14): one
contract with its offers and sessions, the list (expiring ones, by status, kind, unit), and the
contract measures of a subtree on a day. A contract outside the caller's subtree is not found.
Where a contract stands is derived when read (STATUS_SQL), from its dates and the day."""
from __future__ import annotations

import uuid
from datetime import date

from membership.domain.collective_contracts import KINDS, STATUS_LABELS, renewal_window_opens
from membership.domain.rights import Rate
from unionops.auth import Principal
from unionops.db import Reader
from unionops.paging import page
from unionops.problems import Problem
from unionops.scope import row_in_scope

NOT_FOUND = "集体合同不存在或不在您的管辖范围内"

# In force on day {d}: not objected to, the 15 days of review over (in_force_from, stored by the
# submission: domain.in_force_from), within its term.
IN_FORCE = ("(c.objected_on IS NULL AND c.in_force_from <= {d} AND c.starts_on <= {d} AND {d} <= c.ends_on)")

# Where the contract stands on day {d} (labels: domain.collective_contracts.STATUS_LABELS).
STATUS_SQL = (
    "CASE WHEN c.objected_on IS NOT NULL THEN 'objected'"
    " WHEN c.received_on IS NOT NULL AND c.in_force_from > {d} THEN 'under_review'"
    " WHEN c.received_on IS NOT NULL AND c.ends_on < {d} THEN 'expired'"
    " WHEN c.received_on IS NOT NULL AND c.starts_on > {d} THEN 'awaiting_start'"
    " WHEN c.received_on IS NOT NULL THEN 'in_force'"
    " WHEN c.signed_on IS NOT NULL THEN 'signed'"
    " WHEN c.vote_outcome = 'adopted' THEN 'adopted' ELSE 'negotiating' END"
)

_CONTRACT = (
    "SELECT c.*, o.name AS org_name, o.path AS org_path, {status} AS status,"
    " (SELECT count(*) FROM collective_contract_employers ce WHERE ce.contract_id = c.id) AS employers_count,"
    " (SELECT r.id FROM collective_contracts r WHERE r.renews_contract_id = c.id) AS renewed_by"
    " FROM collective_contracts c JOIN org_units o ON o.id = c.org_id"
)


def _view(row) -> dict:
    return {
        "id": row["id"], "org_id": row["org_id"], "org_name": row["org_name"], "title": row["title"],
        "kind": row["kind"], "kind_label": KINDS[row["kind"]], "coverage": row["coverage"],
        "status": row["status"], "status_label": STATUS_LABELS[row["status"]],
        "employers_count": row["employers_count"],
        "vote": None if row["vote_outcome"] is None else {
            "body": row["vote_body"], "congress_id": row["vote_congress_id"], "voted_on": row["voted_on"],
            "electorate": row["vote_electorate"],
            "present": row["vote_present"], "in_favour": row["vote_in_favour"], "outcome": row["vote_outcome"]},
        "signed_on": row["signed_on"], "union_representative": row["union_representative"],
        "employer_representative": row["employer_representative"],
        "starts_on": row["starts_on"], "ends_on": row["ends_on"],
        "renewal_window_opens_on": renewal_window_opens(row["ends_on"]) if row["ends_on"] else None,
        "received_on": row["received_on"], "in_force_from": row["in_force_from"],
        "objected_on": row["objected_on"], "objection": row["objection"], "published_on": row["published_on"],
        "renews_contract_id": row["renews_contract_id"], "renewed_by": row["renewed_by"],
    }


async def contract_in_scope(conn: Reader, contract_id: uuid.UUID, principal: Principal, today: date, *,
                            for_update: bool = False):
    """The contract row with its unit's path and status on `today`; outside the caller's subtree
    the 404 of an unknown one."""
    sql = _CONTRACT.format(status=STATUS_SQL.format(d="$2")) + " WHERE c.id = $1"
    return await row_in_scope(conn, principal, Problem(404, NOT_FOUND, type_="/problems/not-found"),
                              sql + (" FOR UPDATE OF c" if for_update else ""), contract_id, today, path="org_path")


async def contract(conn: Reader, contract_id: uuid.UUID, principal: Principal, today: date) -> dict:
    """One contract with its employers, offers and sessions."""
    row = await contract_in_scope(conn, contract_id, principal, today)
    employers = await conn.fetch(
        "SELECT e.id, e.name, e.credit_code FROM collective_contract_employers ce JOIN employers e ON e.id = ce.employer_id"
        " WHERE ce.contract_id = $1 ORDER BY e.name", contract_id)
    offers = await conn.fetch(
        "SELECT id, offered_by, sent_on, received_on, answer_due_on, answered_on, answer, decline_reasons,"
        " answered_on > answer_due_on AS late, (answered_on IS NULL AND answer_due_on < $2) AS overdue"
        " FROM collective_offers WHERE contract_id = $1 ORDER BY received_on, recorded_at", contract_id, today)
    sessions = await conn.fetch("SELECT held_on, summary, recorded_by FROM collective_sessions WHERE contract_id = $1"
                                " ORDER BY held_on, id", contract_id)
    return {**_view(row), "employers": [dict(e) for e in employers], "offers": [dict(o) for o in offers],
            "sessions": [dict(s) for s in sessions]}


async def contracts(conn: Reader, principal: Principal, today: date, *, org_id: uuid.UUID | None,
                    status: str | None, kind: str | None, expiring_within_days: int | None,
                    limit: int, offset: int) -> dict:
    """Contracts of the caller's subtree (of `org_id`'s: outside it, none), newest end first;
    `expiring_within_days`: in force and ending within that many days of today."""
    status_sql = STATUS_SQL.format(d="$2")
    where = (" WHERE $1 = ANY(o.path) AND ($3::uuid IS NULL OR $3 = ANY(o.path)) AND ($4::text IS NULL OR c.kind = $4)"
             f" AND ($5::text IS NULL OR {status_sql} = $5)"
             f" AND ($6::int IS NULL OR ({IN_FORCE.format(d='$2')} AND c.ends_on <= $2 + $6::int))")
    args = (principal.org_id, today, org_id, kind, status, expiring_within_days)
    return await page(conn, "q.*", f"FROM ({_CONTRACT.format(status=status_sql)}{where}) AS q",
                      "q.ends_on NULLS LAST, q.created_at, q.id", list(args), limit=limit, offset=offset, row=_view)


# The subtree's employers (by the unit answerable for them) with what is in force for each on $2.
_EMPLOYER_RATES = f"""
WITH sub AS (
  SELECT e.id, e.ownership = 'non_public' AND e.above_designated_size AS counted
  FROM employers e JOIN org_units o ON o.id = e.org_id WHERE $1 = ANY(o.path)),
in_force AS (
  SELECT ce.employer_id, bool_or(c.kind = 'wage') AS wage, bool_or(c.kind = 'women') AS women
  FROM collective_contracts c JOIN collective_contract_employers ce ON ce.contract_id = c.id
  WHERE {IN_FORCE.format(d='$2')} GROUP BY ce.employer_id)
SELECT count(*) FILTER (WHERE s.counted) AS counted,
       count(*) FILTER (WHERE s.counted AND f.employer_id IS NOT NULL) AS counted_with_contract,
       count(*) FILTER (WHERE s.counted AND f.wage) AS counted_with_wage,
       count(*) FILTER (WHERE f.employer_id IS NOT NULL) AS with_contract,
       count(*) FILTER (WHERE f.women) AS with_women
FROM sub s LEFT JOIN in_force f ON f.employer_id = s.id
"""

# Active members of the subtree, and those a contract in force on $2 covers: by the registered
# employer of their credit code, else (no registered employer given) by their union's employers.
_MEMBER_RATES = f"""
WITH covered AS (
  SELECT DISTINCT e.id, e.union_id, e.credit_code
  FROM collective_contracts c JOIN collective_contract_employers ce ON ce.contract_id = c.id
  JOIN employers e ON e.id = ce.employer_id WHERE {IN_FORCE.format(d='$2')})
SELECT count(*) AS members,
       count(*) FILTER (WHERE CASE WHEN r.id IS NOT NULL THEN r.id IN (SELECT id FROM covered)
                                   ELSE m.union_id IN (SELECT union_id FROM covered WHERE union_id IS NOT NULL) END)
         AS covered
FROM members m JOIN org_units o ON o.id = m.union_id
LEFT JOIN employers r ON r.credit_code = m.employer_credit_code
WHERE $1 = ANY(o.path) AND m.status = 'active'
"""


async def rates(conn: Reader, org_id: uuid.UUID, year: int, as_of: date) -> list[Rate]:
    """The contract measures of the subtree under `org_id` on `as_of` (the day the figures of
    `year` are for), two statements whatever its size:
    - collective_contract: non-public employers above designated size with a contract of any kind
      in force (a special contract is a collective contract too, 集体合同规定 Art. 3), of all such;
    - wage_bargaining: of the same employers, those with a wage contract (工资专项) in force;
    - women_special_contract: of the employers with any contract in force, those with a women
      workers' one (the plans: "在签订集体合同的企业中女职工专项合同签订率");
    - members_covered: of the active members (retained ones have no employer), those covered."""
    e = await conn.fetchrow(_EMPLOYER_RATES, org_id, as_of)
    m = await conn.fetchrow(_MEMBER_RATES, org_id, as_of)
    return [Rate("collective_contract", e["counted_with_contract"], e["counted"]),
            Rate("wage_bargaining", e["counted_with_wage"], e["counted"]),
            Rate("women_special_contract", e["with_women"], e["with_contract"]),
            Rate("members_covered", m["covered"], m["members"])]

