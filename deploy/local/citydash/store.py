"""The dashboard's state: an SQLite file (stdlib) holding every CloudEvent id applied and the facts
the figures are built from. Applying an event and recording its id are one transaction, so an
event read again (a rebalance, the broker restarted and the services published again, the
dashboard restarted) changes nothing; memory stays bounded because everything lives on disk.

Histories rather than counters: a member's union and status, and a unit's place in the tree, are
kept with the Beijing business date they took effect (and the event's time as a tie-breaker), so
the figures at a month's end do not depend on the order the topics' partitions are read in."""
from __future__ import annotations

import json
import sqlite3
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
# Before any business date: a unit's first place in the tree holds for members registered
# with dates earlier than its own founding date (imports of the existing register).
BEGINNING = "0001-01-01"
MEMBER_STATUSES = ("active", "retained")

_SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS span (what TEXT PRIMARY KEY, first_month TEXT, last_month TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejected (id TEXT PRIMARY KEY, type TEXT, reason TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orgs (org_id TEXT PRIMARY KEY, parent_id TEXT, name TEXT, level TEXT, kind TEXT,
    established_on TEXT, closed_on TEXT, closed_how TEXT);
CREATE TABLE IF NOT EXISTS org_paths (org_id TEXT, from_date TEXT, seq INTEGER, path TEXT);
CREATE INDEX IF NOT EXISTS org_paths_org ON org_paths (org_id, from_date, seq);
CREATE TABLE IF NOT EXISTS moves (event_id TEXT PRIMARY KEY, old_path TEXT, new_path TEXT, moved_on TEXT,
    seq INTEGER);
CREATE TABLE IF NOT EXISTS member_unions (member_id TEXT, from_date TEXT, seq INTEGER, union_id TEXT);
CREATE INDEX IF NOT EXISTS member_unions_member ON member_unions (member_id, from_date, seq);
CREATE TABLE IF NOT EXISTS member_statuses (member_id TEXT, from_date TEXT, seq INTEGER, status TEXT);
CREATE INDEX IF NOT EXISTS member_statuses_member ON member_statuses (member_id, from_date, seq);
CREATE TABLE IF NOT EXISTS coverage (org_id TEXT PRIMARY KEY, as_of TEXT, body TEXT);
CREATE TABLE IF NOT EXISTS campaigns (campaign_id TEXT PRIMARY KEY, name TEXT, kind TEXT, org_id TEXT,
    budget_fen INTEGER, starts_on TEXT, ends_on TEXT);
CREATE TABLE IF NOT EXISTS payments (ledger_entry_id TEXT PRIMARY KEY, campaign_id TEXT, campaign_name TEXT,
    kind TEXT, amount_fen INTEGER, paid_on TEXT);
CREATE TABLE IF NOT EXISTS reversals (reversal_entry_id TEXT PRIMARY KEY, ledger_entry_id TEXT, campaign_id TEXT,
    amount_fen INTEGER, reversed_on TEXT);
CREATE TABLE IF NOT EXISTS results (contest_id TEXT PRIMARY KEY, contest_name TEXT, revision INTEGER,
    published_at TEXT, placings TEXT);
CREATE TABLE IF NOT EXISTS notifications (notification_id TEXT PRIMARY KEY, outcome TEXT, channel TEXT,
    month TEXT, source_event_id TEXT, source_event_type TEXT, template TEXT);
CREATE INDEX IF NOT EXISTS notifications_source ON notifications (source_event_id);
"""


def beijing_month(moment: str) -> str:
    """YYYY-MM of an ISO instant on the federation's wall clock (a naive one is taken as UTC)."""
    t = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo("UTC"))
    return t.astimezone(BEIJING).strftime("%Y-%m")


def _seq(time: datetime | None) -> int:
    """The event's own time in microseconds: orders two facts of one business day."""
    return int(time.timestamp() * 1_000_000) if time is not None else 0


def _month_end(month: str) -> str:
    y, m = (int(x) for x in month.split("-"))
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1).isoformat()


def _months(first: str, last: str) -> list[str]:
    y, m = (int(x) for x in first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


class Store:
    """One SQLite file; `apply` from the consumer, `figures` from any thread (own connection)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.db = self._connect()
        self.db.executescript(_SCHEMA)
        # Month-end figures are kept between computations; an event dated D makes the months ending
        # on or after D stale (every month at start). Set after the commit that made it true.
        self._lock = threading.Lock()
        self._stale_from: str | None = BEGINNING
        self._months: dict[str, tuple[dict[str, int], dict[str, int]]] = {}

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA cache_size = -16000")  # 16 MB: memory stays bounded, the rest is on disk
        return db

    def close(self) -> None:
        self.db.close()

    # ---- applying events ------------------------------------------------------------------------

    def seen(self, event_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM seen WHERE id = ?", (event_id,)).fetchone() is not None

    def apply_many(self, events: list[tuple[str, str, datetime | None, dict[str, Any]]]) -> int:
        """Apply (id, type, time, data) events in one transaction; returns how many were new."""
        applied, stale = 0, None
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            for event_id, event_type, time, data in events:
                if db.execute("INSERT OR IGNORE INTO seen (id) VALUES (?)", (event_id,)).rowcount == 0:
                    continue  # already counted: a replay, a rebalance, a restarted broker
                handler = _HANDLERS.get(event_type)
                if handler is not None:
                    handler(db, event_id, _seq(time), data)
                    if event_type in _TREE_AND_REGISTER:
                        if time is not None:
                            _widen_span(db, time)
                        day = _dated(db, event_type, data)
                        stale = day if stale is None else min(stale, day)
                applied += 1
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if stale is not None:
            with self._lock:
                self._stale_from = stale if self._stale_from is None else min(self._stale_from, stale)
        return applied

    def reject(self, event_id: str, event_type: str, reason: str) -> None:
        """An event its published schema refuses: not counted, kept for the figures' `rejected`."""
        self.db.execute("INSERT OR IGNORE INTO rejected (id, type, reason) VALUES (?, ?, ?)",
                        (event_id, event_type, reason[:500]))

    # ---- figures --------------------------------------------------------------------------------

    def figures(self) -> dict[str, Any]:
        with self._lock:
            stale, self._stale_from = self._stale_from, None
            cached = {m: v for m, v in self._months.items() if stale is None or _month_end(m) < stale}
        db = self._connect()
        try:
            figures, months = _figures(db, cached)
        except BaseException:
            with self._lock:  # nothing was computed: still stale
                self._stale_from = stale if self._stale_from is None else min(self._stale_from, stale or BEGINNING)
            raise
        finally:
            db.close()
        with self._lock:
            self._months = months
        return figures

    def deliveries_by_source(self) -> dict[str, dict[str, int]]:
        """Delivered notifications per source event and channel (what reconcile compares)."""
        db = self._connect()
        try:
            out: dict[str, dict[str, int]] = {}
            for source, channel, n in db.execute(
                    "SELECT source_event_id, channel, count(*) FROM notifications WHERE outcome = 'delivered'"
                    " GROUP BY source_event_id, channel"):
                out.setdefault(source, {})[channel] = n
            return out
        finally:
            db.close()


_DAY_FIELD = {"MemberJoined": "joined_on", "MemberTransferred": "effective_on", "MemberStatusChanged": "changed_on",
              "MemberLeft": "left_on", "UnionMoved": "moved_on", "UnionMerged": "merged_on",
              "UnionDissolved": "dissolved_on"}


def _dated(db, event_type: str, data: dict[str, Any]) -> str:
    """The first business day whose month-end figures the event changes."""
    if event_type != "UnionEstablished":
        return data[_DAY_FIELD[event_type]]
    if data["level"] != "grassroots":  # a district or street: where every union below it counts
        return BEGINNING
    # A union's place holds from the beginning for members registered before it was founded.
    earliest = db.execute("SELECT min(from_date) FROM member_unions WHERE union_id = ?", (data["org_id"],)).fetchone()[0]
    return min(data["established_on"], earliest or data["established_on"])


def _widen_span(db, time: datetime) -> None:
    """The months the register and the tree changed in (by the events' own time): the range the
    series show. Business dates alone would reach back to every member's joining year."""
    month = time.astimezone(BEIJING).strftime("%Y-%m")
    db.execute("INSERT INTO span VALUES ('register', ?, ?) ON CONFLICT (what) DO UPDATE SET"
               " first_month = min(first_month, excluded.first_month), last_month = max(last_month, excluded.last_month)",
               (month, month))


# ---- handlers: one per event type the figures use ------------------------------------------------

def _union_established(db, event_id, seq, d) -> None:
    db.execute("INSERT INTO orgs (org_id, parent_id, name, level, kind, established_on) VALUES (?, ?, ?, ?, ?, ?)"
               " ON CONFLICT (org_id) DO UPDATE SET parent_id = excluded.parent_id, name = excluded.name,"
               " level = excluded.level, kind = excluded.kind, established_on = excluded.established_on",
               (d["org_id"], d.get("parent_id"), d["name"], d["level"], d["kind"], d["established_on"]))
    path = list(d["org_path"])
    rows = [(BEGINNING, seq, path)]
    # A move read before this founding (another partition) still applies to it when it happened later.
    for old, new, moved_on, move_seq in db.execute(
            "SELECT old_path, new_path, moved_on, seq FROM moves ORDER BY moved_on, seq").fetchall():
        old, new = json.loads(old), json.loads(new)
        if move_seq > seq and path[:len(old)] == old:
            path = new + path[len(old):]
            rows.append((moved_on, move_seq, path))
    db.executemany("INSERT INTO org_paths VALUES (?, ?, ?, ?)",
                   [(d["org_id"], day, s, json.dumps(p)) for day, s, p in rows])


def _current_paths(db) -> dict[str, list[str]]:
    rows = db.execute("SELECT org_id, path FROM org_paths ORDER BY org_id, from_date, seq").fetchall()
    return {org_id: json.loads(path) for org_id, path in rows}


def _union_moved(db, event_id, seq, d) -> None:
    old, new = list(d["old_path"]), list(d["new_path"])
    db.execute("INSERT OR IGNORE INTO moves VALUES (?, ?, ?, ?, ?)",
               (event_id, json.dumps(old), json.dumps(new), d["moved_on"], seq))
    for org_id, path in _current_paths(db).items():
        if path[:len(old)] == old:
            db.execute("INSERT INTO org_paths VALUES (?, ?, ?, ?)",
                       (org_id, d["moved_on"], seq, json.dumps(new + path[len(old):])))
    db.execute("UPDATE orgs SET parent_id = ? WHERE org_id = ?", (new[-2] if len(new) > 1 else None, d["org_id"]))


def _closed(how: str, day_field: str) -> Callable:
    def handler(db, event_id, seq, d) -> None:
        # The founding may come later (another partition): keep the closing on a stub row.
        db.execute("INSERT INTO orgs (org_id, closed_on, closed_how) VALUES (?, ?, ?)"
                   " ON CONFLICT (org_id) DO UPDATE SET closed_on = excluded.closed_on, closed_how = excluded.closed_how",
                   (d["org_id"], d[day_field], how))
    return handler


def _member_union(db, member_id, day, seq, union_id) -> None:
    db.execute("INSERT INTO member_unions VALUES (?, ?, ?, ?)", (member_id, day, seq, union_id))


def _member_status(db, member_id, day, seq, status) -> None:
    db.execute("INSERT INTO member_statuses VALUES (?, ?, ?, ?)", (member_id, day, seq, status))


def _member_joined(db, event_id, seq, d) -> None:
    _member_union(db, d["member_id"], d["joined_on"], seq, d["union_id"])
    _member_status(db, d["member_id"], d["joined_on"], seq, "active")


def _member_transferred(db, event_id, seq, d) -> None:
    _member_union(db, d["member_id"], d["effective_on"], seq, d["to_union_id"])


def _member_status_changed(db, event_id, seq, d) -> None:
    _member_status(db, d["member_id"], d["changed_on"], seq, d["to_status"])


def _member_left(db, event_id, seq, d) -> None:
    _member_status(db, d["member_id"], d["left_on"], seq, "left")


def _coverage(db, event_id, seq, d) -> None:
    db.execute("INSERT INTO coverage VALUES (?, ?, ?) ON CONFLICT (org_id) DO UPDATE SET as_of = excluded.as_of,"
               " body = excluded.body WHERE excluded.as_of >= coverage.as_of",
               (d["org_id"], _sortable(d["as_of"]), json.dumps(d, ensure_ascii=False)))


def _sortable(moment: str) -> str:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(ZoneInfo("UTC")).isoformat()


def _campaign(db, event_id, seq, d) -> None:
    db.execute("INSERT OR REPLACE INTO campaigns VALUES (?, ?, ?, ?, ?, ?, ?)",
               (d["campaign_id"], d["name"], d["kind"], d["org_id"], d["budget_fen"], d["starts_on"], d["ends_on"]))


def _disbursed(db, event_id, seq, d) -> None:
    db.execute("INSERT OR IGNORE INTO payments VALUES (?, ?, ?, ?, ?, ?)",
               (d["ledger_entry_id"], d.get("campaign_id"), d.get("campaign_name"), d["kind"], d["amount_fen"],
                d["paid_on"]))


def _reversed(db, event_id, seq, d) -> None:
    db.execute("INSERT OR IGNORE INTO reversals VALUES (?, ?, ?, ?, ?)",
               (d["reversal_entry_id"], d["ledger_entry_id"], d.get("campaign_id"), d["amount_fen"],
                d["reversed_on"]))


def _results(db, event_id, seq, d) -> None:
    db.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?) ON CONFLICT (contest_id) DO UPDATE SET"
               " contest_name = excluded.contest_name, revision = excluded.revision,"
               " published_at = excluded.published_at, placings = excluded.placings"
               " WHERE excluded.revision > results.revision",
               (d["contest_id"], d["contest_name"], d["revision"], d["published_at"],
                json.dumps(d["placings"], ensure_ascii=False)))


def _notification(outcome: str, at: str) -> Callable:
    def handler(db, event_id, seq, d) -> None:
        # A failure may be followed by a delivery of the same notification (retried): the last word counts.
        db.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (notification_id) DO UPDATE"
                   " SET outcome = excluded.outcome, month = excluded.month WHERE excluded.outcome = 'delivered'",
                   (d["notification_id"], outcome, d["channel"], beijing_month(d[at]), d["source_event_id"],
                    d["source_event_type"], d["template"]))
    return handler


_HANDLERS: dict[str, Callable] = {
    "UnionEstablished": _union_established,
    "UnionMoved": _union_moved,
    "UnionMerged": _closed("merged", "merged_on"),
    "UnionDissolved": _closed("dissolved", "dissolved_on"),
    "MemberJoined": _member_joined,
    "MemberTransferred": _member_transferred,
    "MemberStatusChanged": _member_status_changed,
    "MemberLeft": _member_left,
    "CoverageSummaryPublished": _coverage,
    "CampaignLaunched": _campaign,
    "AidDisbursed": _disbursed,
    "AidReversed": _reversed,
    "ContestResultsPublished": _results,
    "NotificationDelivered": _notification("delivered", "delivered_at"),
    "NotificationFailed": _notification("failed", "failed_at"),
}
HANDLED_TYPES = frozenset(_HANDLERS)
_TREE_AND_REGISTER = frozenset({"UnionEstablished", "UnionMoved", "UnionMerged", "UnionDissolved", "MemberJoined",
                                "MemberTransferred", "MemberStatusChanged", "MemberLeft"})


# ---- building the figures -----------------------------------------------------------------------

class _Tree:
    """Units' paths through time; the district of a unit on a day."""

    def __init__(self, db) -> None:
        self.levels = dict(db.execute("SELECT org_id, level FROM orgs WHERE level IS NOT NULL"))
        self.names = dict(db.execute("SELECT org_id, name FROM orgs WHERE name IS NOT NULL"))
        self.paths: dict[str, list[tuple[str, int, list[str]]]] = {}
        for org_id, day, seq, path in db.execute("SELECT org_id, from_date, seq, path FROM org_paths"
                                                 " ORDER BY org_id, from_date, seq"):
            self.paths.setdefault(org_id, []).append((day, seq, json.loads(path)))

    def path_on(self, org_id: str, day: str | None) -> list[str] | None:
        found = None
        for from_date, _, path in self.paths.get(org_id, ()):
            if day is None or from_date <= day:
                found = path
        return found

    def district_on(self, org_id: str, day: str | None) -> str | None:
        path = self.path_on(org_id, day)
        if not path:
            return None
        for unit in path:
            if self.levels.get(unit) == "district":
                return unit
        return path[1] if len(path) > 1 and self.levels.get(path[0]) == "city" else None


_LATEST = """
WITH u AS (SELECT member_id, union_id FROM (SELECT member_id, union_id, row_number() OVER
             (PARTITION BY member_id ORDER BY from_date DESC, seq DESC) AS rn FROM member_unions
             WHERE from_date <= :day) WHERE rn = 1),
     s AS (SELECT member_id, status FROM (SELECT member_id, status, row_number() OVER
             (PARTITION BY member_id ORDER BY from_date DESC, seq DESC) AS rn FROM member_statuses
             WHERE from_date <= :day) WHERE rn = 1)
SELECT u.union_id, count(*) FROM u JOIN s USING (member_id)
WHERE s.status IN ('active', 'retained') GROUP BY u.union_id
"""


def _members_by_district(db, tree: _Tree, day: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for union_id, n in db.execute(_LATEST, {"day": day}):
        district = tree.district_on(union_id, day) or "unknown"
        out[district] = out.get(district, 0) + n
    return out


def _unions_by_district(db, tree: _Tree, day: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for org_id, in db.execute("SELECT org_id FROM orgs WHERE level = 'grassroots' AND established_on <= ?"
                              " AND (closed_on IS NULL OR closed_on > ?)", (day, day)):
        district = tree.district_on(org_id, day) or "unknown"
        out[district] = out.get(district, 0) + 1
    return out


def _figures(db, cached: dict[str, tuple[dict[str, int], dict[str, int]]]) -> tuple[dict[str, Any], dict]:
    tree = _Tree(db)
    span = db.execute("SELECT first_month, last_month FROM span WHERE what = 'register'").fetchone()
    last_day = db.execute("SELECT max(d) FROM (SELECT max(from_date) AS d FROM member_unions UNION ALL"
                          " SELECT max(from_date) FROM member_statuses UNION ALL SELECT max(from_date) FROM org_paths"
                          " UNION ALL SELECT max(closed_on) FROM orgs)").fetchone()[0]
    if span is None and last_day not in (None, BEGINNING):
        span = (last_day[:7], last_day[:7])
    months = _months(span[0], max(span[1], (last_day or "")[:7])) if span else []
    computed = {m: cached.get(m) or (_members_by_district(db, tree, _month_end(m)),
                                     _unions_by_district(db, tree, _month_end(m))) for m in months}
    series_members = {m: computed[m][0] for m in months}
    series_unions = {m: computed[m][1] for m in months}
    # The last month ends on or after every business date applied: its end is now.
    members_now, unions_now = computed[months[-1]] if months else ({}, {})
    district_ids = sorted({d for m in months for d in series_members[m]} | set(members_now) | set(unions_now)
                          | {o for o, level in tree.levels.items() if level == "district"},
                          key=lambda d: (d == "unknown", tree.names.get(d, d)))
    districts = [{
        "id": d, "name": tree.names.get(d, "未知区" if d == "unknown" else d),
        "members": members_now.get(d, 0), "unions": unions_now.get(d, 0),
        "members_by_month": [series_members[m].get(d, 0) for m in months],
        "unions_by_month": [series_unions[m].get(d, 0) for m in months],
    } for d in district_ids]

    coverage = []
    for body, in db.execute("SELECT body FROM coverage"):
        c = json.loads(body)
        coverage.append({k: c.get(k) for k in (
            "org_id", "org_name", "level", "period", "as_of", "members_total", "members_target", "unions_total",
            "unions_founded_this_year", "unions_target", "non_public_employers_total", "non_public_employers_covered",
            "collective_contract_employers", "rights_rates")})
    coverage.sort(key=lambda c: ({"city": 0, "district": 1, "street": 2}.get(c["level"], 3), c["org_name"]))

    campaigns = []
    for row in db.execute(
            "WITH p AS (SELECT campaign_id, max(campaign_name) AS name, sum(amount_fen) AS paid, count(*) AS n"
            "           FROM payments GROUP BY campaign_id),"
            " r AS (SELECT campaign_id, sum(amount_fen) AS rev, count(*) AS n FROM reversals GROUP BY campaign_id),"
            " ids AS (SELECT campaign_id FROM p UNION SELECT campaign_id FROM r"
            "         UNION SELECT campaign_id FROM campaigns)"
            " SELECT ids.campaign_id, coalesce(c.name, p.name), c.kind, c.budget_fen, coalesce(p.paid, 0),"
            " coalesce(p.n, 0), coalesce(r.rev, 0), coalesce(r.n, 0) FROM ids"
            " LEFT JOIN campaigns c ON c.campaign_id IS ids.campaign_id LEFT JOIN p ON p.campaign_id IS ids.campaign_id"
            " LEFT JOIN r ON r.campaign_id IS ids.campaign_id ORDER BY c.starts_on, 2"):
        cid, name, kind, budget, paid, n, rev, nrev = row
        campaigns.append({"campaign_id": cid, "name": name or ("个案救助" if cid is None else cid), "kind": kind,
                          "budget_fen": budget, "paid_fen": paid, "paid_count": n, "reversed_fen": rev,
                          "reversed_count": nrev, "net_fen": paid - rev})

    contests = [{"contest_id": cid, "contest_name": name, "revision": rev, "published_at": at,
                 "placings": json.loads(placings)}
                for cid, name, rev, at, placings in db.execute(
                    "SELECT contest_id, contest_name, revision, published_at, placings FROM results"
                    " ORDER BY published_at, contest_name")]

    by_channel: dict[str, dict[str, int]] = {}
    note_months: set[str] = set()
    for outcome, channel, month, n in db.execute(
            "SELECT outcome, channel, month, count(*) FROM notifications GROUP BY outcome, channel, month"):
        by_channel.setdefault(f"{outcome}|{channel}", {})[month] = n
        note_months.add(month)
    note_months_sorted = sorted(note_months)
    channels = sorted({k.split("|")[1] for k in by_channel})
    notifications = {
        "months": note_months_sorted,
        "channels": [{
            "channel": ch,
            "delivered": sum(by_channel.get(f"delivered|{ch}", {}).values()),
            "failed": sum(by_channel.get(f"failed|{ch}", {}).values()),
            "delivered_by_month": [by_channel.get(f"delivered|{ch}", {}).get(m, 0) for m in note_months_sorted],
        } for ch in channels],
    }
    events_seen = db.execute("SELECT count(*) FROM seen").fetchone()[0]
    rejected = db.execute("SELECT count(*) FROM rejected").fetchone()[0]
    totals = {
        "members": sum(members_now.values()),
        "unions": sum(unions_now.values()),
        "aid_fen": sum(c["net_fen"] for c in campaigns),
        "aid_payments": sum(c["paid_count"] for c in campaigns),
        "notifications": sum(c["delivered"] for c in notifications["channels"]),
        "notifications_failed": sum(c["failed"] for c in notifications["channels"]),
        "contests_published": len(contests),
        "events": events_seen,
        "rejected": rejected,
    }
    return {"totals": totals, "months": months, "districts": districts, "coverage": coverage,
            "campaigns": campaigns, "contests": contests, "notifications": notifications}, computed
