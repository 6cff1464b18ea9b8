"""Year-end summaries a district files upward: welfare (households on file by level, aid paid by
campaign and kind, cases by outcome), the 12351 hotline (tickets by category, on time,
overdue, satisfaction) and labour-dispute mediation (disputes by kind and outcome, mediated
successfully, collective, referred to legal aid), for the subtree of a unit in the caller's scope (else the 404 of an
unknown unit). Each is a few GROUP BY statements over the subtree, whatever its size; years are
Beijing years (WELFARE_TIMEZONE).

Figures are counted where the work was done: a file, case, payment or ticket belongs to the unit
path it carries (the member's union when it was opened or paid), so a member's later transfer
does not move last year's aid."""
from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from contracts.events import CASE_KIND_LABELS
from unionops.auth import Principal
from unionops.backdating import check_dated
from welfare.domain import disputes as dispute_rules
from welfare.domain.campaigns import LEVEL_ORDER
from welfare.domain.hardship import FILE_KINDS, LEVELS
from welfare.domain.hotline import CATEGORIES
from welfare.queries.hardship import unit_in_scope

# What became of a case opened in the year: its closing outcome, else where it stands.
OUTCOMES: dict[str, str] = {"paid": "已发放", "rejected": "未予帮扶", "withdrawn": "已撤回", "referred": "已转介",
                            "in_progress": "办理中"}
_OUTCOME = ("coalesce(outcome, CASE status WHEN 'paid' THEN 'paid' WHEN 'rejected' THEN 'rejected'"
            " ELSE 'in_progress' END)")

# Files on file on the day ($2), and those opened and closed in the year ($3).
_HOUSEHOLDS = """
SELECT level, file_kind,
       count(*) FILTER (WHERE opened_on <= $2 AND (closed_on IS NULL OR closed_on > $2)) AS on_file,
       count(*) FILTER (WHERE opened_on >= make_date($3, 1, 1) AND opened_on <= $2) AS opened,
       count(*) FILTER (WHERE closed_on >= make_date($3, 1, 1) AND closed_on <= $2) AS closed,
       count(*) FILTER (WHERE status = 'open' AND review_due_on < $2) AS review_overdue
FROM hardship_files WHERE $1 = ANY(org_path)
GROUP BY level, file_kind
"""

# Every disbursement of the year: campaign payments, paid cases and visits' gifts (走访慰问金, living
# aid, under the path of the union visited), each with what was reversed of it (冲正), so the
# figures are net of corrections.
_AID = """
WITH paid AS (
  SELECT 'campaign' AS source, p.campaign_id, c.name AS campaign_name, p.campaign_kind, k.label AS campaign_label,
         k.case_kind AS kind, p.amount_fen, p.ledger_entry_id AS entry_id
  FROM campaign_payments p JOIN campaigns c ON c.id = p.campaign_id
  JOIN campaign_kind_defaults k ON k.kind = p.campaign_kind
  WHERE $1 = ANY(p.org_path) AND p.paid_on >= make_date($2, 1, 1) AND p.paid_on < make_date($2 + 1, 1, 1)
  UNION ALL
  SELECT 'case', NULL, NULL, NULL, NULL, a.kind, l.amount_fen, l.id
  FROM assistance_cases a JOIN ledger_entries l ON l.id = a.disbursement_id
  WHERE $1 = ANY(a.org_path) AND a.paid_on >= make_date($2, 1, 1) AND a.paid_on < make_date($2 + 1, 1, 1)
  UNION ALL
  SELECT 'visit', NULL, NULL, NULL, NULL, 'living', l.amount_fen, l.id
  FROM visits v JOIN ledger_entries l ON l.id = v.ledger_entry_id JOIN org_units u ON u.org_id = v.union_id
  WHERE $1 = ANY(u.org_path) AND v.visited_on >= make_date($2, 1, 1) AND v.visited_on < make_date($2 + 1, 1, 1)
)
SELECT paid.source, paid.campaign_id, paid.campaign_name, paid.campaign_kind, paid.campaign_label, paid.kind,
       count(*) AS payments, sum(paid.amount_fen)::bigint AS paid_fen,
       coalesce(sum(r.amount_fen), 0)::bigint AS reversed_fen
FROM paid LEFT JOIN ledger_entries r ON r.kind = 'reversal' AND r.reverses_entry_id = paid.entry_id
GROUP BY 1, 2, 3, 4, 5, 6
"""

_CASES = f"""
SELECT kind, {_OUTCOME} AS outcome, count(*) AS cases
FROM assistance_cases
WHERE $1 = ANY(org_path) AND opened_on >= make_date($2, 1, 1) AND opened_on < make_date($2 + 1, 1, 1)
GROUP BY 1, 2
"""

# Tickets opened in the year ($2, in the time zone $3). Late is late whether or not the overdue
# check has run yet: it is read off the deadline.
_SCORES = range(1, 6)
_SCORE_COLUMNS = ", ".join(f"count(*) FILTER (WHERE satisfaction = {s}) AS score_{s}" for s in _SCORES)
_TICKETS = f"""
SELECT category,
       count(*) AS opened,
       count(*) FILTER (WHERE status = 'resolved' AND resolved_at <= due_at) AS resolved_on_time,
       count(*) FILTER (WHERE status = 'resolved' AND resolved_at > due_at) AS resolved_late,
       count(*) FILTER (WHERE status <> 'resolved' AND due_at >= now()) AS open_within_deadline,
       count(*) FILTER (WHERE status <> 'resolved' AND due_at < now()) AS open_overdue,
       count(satisfaction) AS rated,
       count(*) FILTER (WHERE satisfaction >= 4) AS satisfied,
       coalesce(sum(satisfaction), 0) AS satisfaction_sum,
       {_SCORE_COLUMNS}
FROM hotline_tickets
WHERE $1 = ANY(org_path) AND opened_at >= make_timestamptz($2, 1, 1, 0, 0, 0, $3)
  AND opened_at < make_timestamptz($2 + 1, 1, 1, 0, 0, 0, $3)
GROUP BY category
"""


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _year_end(year: int, today: date) -> date:
    """The day a year's stock is counted on: 31 December, or today in the current year."""
    check_dated(date(year, 1, 1), today, field="query.year", what="统计年度的起始日")
    return min(date(year, 12, 31), today)


async def _unit(conn: asyncpg.Connection, org_id: uuid.UUID, principal: Principal) -> str:
    return (await unit_in_scope(conn, org_id, principal))["name"]


async def welfare_summary(conn: asyncpg.Connection, org_id: uuid.UUID, year: int, principal: Principal,
                          today: date) -> dict:
    """The year-end welfare summary of the subtree under `org_id`."""
    name = await _unit(conn, org_id, principal)
    as_of = _year_end(year, today)
    files = [dict(r) for r in await conn.fetch(_HOUSEHOLDS, org_id, as_of, year)]
    aid = [dict(r) for r in await conn.fetch(_AID, org_id, year)]
    cases = [dict(r) for r in await conn.fetch(_CASES, org_id, year)]

    def files_total(field: str, **where) -> int:
        return sum(f[field] for f in files if all(f[k] == v for k, v in where.items()))

    def net(rows) -> dict:
        rows = list(rows)
        paid, reversed_ = sum(r["paid_fen"] for r in rows), sum(r["reversed_fen"] for r in rows)
        return {"payments": sum(r["payments"] for r in rows), "paid_fen": paid, "reversed_fen": reversed_,
                "net_fen": paid - reversed_}

    campaigns = sorted({(r["campaign_id"], r["campaign_name"], r["campaign_kind"], r["campaign_label"])
                        for r in aid if r["campaign_id"] is not None}, key=lambda c: (c[1], str(c[0])))
    return {
        "org_id": org_id, "org_name": name, "year": year, "as_of": as_of,
        "households": {
            "on_file": files_total("on_file"),
            "by_level": [{"level": lv, "label": LEVELS[lv], "on_file": files_total("on_file", level=lv),
                          "opened": files_total("opened", level=lv), "closed": files_total("closed", level=lv)}
                         for lv in LEVEL_ORDER],
            "by_file_kind": [{"file_kind": k, "label": label, "on_file": files_total("on_file", file_kind=k)}
                             for k, label in FILE_KINDS.items()],
            "opened": files_total("opened"), "closed": files_total("closed"),
            "review_overdue": files_total("review_overdue"),
        },
        "aid_paid": {
            **net(aid),
            "by_campaign": [{"campaign_id": cid, "name": cname, "kind": ckind, "label": clabel,
                             **net(r for r in aid if r["campaign_id"] == cid)}
                            for cid, cname, ckind, clabel in campaigns],
            "cases": net(r for r in aid if r["source"] == "case"),
            "visits": net(r for r in aid if r["source"] == "visit"),
            "by_kind": [{"kind": k, "label": label, **net(r for r in aid if r["kind"] == k)}
                        for k, label in CASE_KIND_LABELS.items()],
        },
        "cases": {
            "opened": sum(c["cases"] for c in cases),
            "by_outcome": [{"outcome": o, "label": label, "cases": sum(c["cases"] for c in cases if c["outcome"] == o)}
                           for o, label in OUTCOMES.items()],
            "by_kind": [{"kind": k, "label": label, "cases": sum(c["cases"] for c in cases if c["kind"] == k)}
                        for k, label in CASE_KIND_LABELS.items()],
        },
    }


async def hotline_summary(conn: asyncpg.Connection, org_id: uuid.UUID, year: int, principal: Principal,
                          today: date, timezone: str) -> dict:
    """The 12351 hotline's year for the subtree under `org_id`: tickets by category, on time,
    overdue (resolved late, or open past the deadline), satisfaction (1–5; satisfied: 4 or 5)."""
    name = await _unit(conn, org_id, principal)
    _year_end(year, today)
    rows = {r["category"]: dict(r) for r in await conn.fetch(_TICKETS, org_id, year, timezone)}
    fields = ("opened", "resolved_on_time", "resolved_late", "open_within_deadline", "open_overdue", "rated",
              "satisfied", "satisfaction_sum", *(f"score_{s}" for s in _SCORES))

    def figures(found: list[dict]) -> dict:
        f = {k: sum(r[k] for r in found) for k in fields}
        return {
            "opened": f["opened"], "resolved": f["resolved_on_time"] + f["resolved_late"],
            "resolved_on_time": f["resolved_on_time"], "resolved_late": f["resolved_late"],
            "open_within_deadline": f["open_within_deadline"], "open_overdue": f["open_overdue"],
            "overdue": f["resolved_late"] + f["open_overdue"],
            "on_time_rate": _share(f["resolved_on_time"], f["opened"]),
            "satisfaction": {"rated": f["rated"], "average": round(f["satisfaction_sum"] / f["rated"], 2)
                             if f["rated"] else None, "satisfied": f["satisfied"],
                             "satisfied_rate": _share(f["satisfied"], f["rated"]),
                             "by_score": {str(s): f[f"score_{s}"] for s in _SCORES}},
        }
    return {
        "org_id": org_id, "org_name": name, "year": year,
        **figures(list(rows.values())),
        "by_category": [{"category": c, "label": label, **figures([rows[c]] if c in rows else [])}
                        for c, label in CATEGORIES.items()],
    }


# Disputes applied for in the year ($2) under the subtree ($1), by kind and where they stand.
_DISPUTES = """
SELECT kind, status, count(*) AS disputes, count(*) FILTER (WHERE collective) AS collective,
       count(*) FILTER (WHERE legal_aid_case_id IS NOT NULL) AS referred,
       coalesce(sum(workers_concerned), 0)::bigint AS workers
FROM labour_disputes
WHERE $1 = ANY(org_path) AND applied_on >= make_date($2, 1, 1) AND applied_on < make_date($2 + 1, 1, 1)
GROUP BY kind, status
"""


async def disputes_summary(conn: asyncpg.Connection, org_id: uuid.UUID, year: int, principal: Principal,
                           today: date) -> dict:
    """Labour-dispute mediation of the subtree under `org_id` for the disputes applied for in
    `year`: by kind and outcome (调解中, 达成协议, 调解不成), the share mediated successfully among
    the concluded ones (调解成功率), collective disputes and referrals to legal aid."""
    name = await _unit(conn, org_id, principal)
    _year_end(year, today)
    rows = [dict(r) for r in await conn.fetch(_DISPUTES, org_id, year)]

    def figures(found: list[dict]) -> dict:
        by = {st: sum(r["disputes"] for r in found if r["status"] == st) for st in dispute_rules.STATUSES}
        return {"disputes": sum(by.values()), "workers_concerned": sum(r["workers"] for r in found),
                "by_outcome": [{"outcome": st, "label": label, "disputes": by[st]}
                               for st, label in dispute_rules.STATUSES.items()],
                "mediated_successfully_rate": _share(by["agreed"], by["agreed"] + by["failed"]),
                "collective": sum(r["collective"] for r in found),
                "referred_to_legal_aid": sum(r["referred"] for r in found)}
    return {"org_id": org_id, "org_name": name, "year": year, **figures(rows),
            "by_kind": [{"kind": k, "label": label, **figures([r for r in rows if r["kind"] == k])}
                        for k, label in dispute_rules.KINDS.items()]}
