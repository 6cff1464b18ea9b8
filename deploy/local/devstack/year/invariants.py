"""Every invariant of the year (issue 15), checked at the end against the services' own databases,
their APIs and the local sinks — never against what the driver believes it did.

    findings = await check_all(Sources(dsn=..., urls=..., ...))   # one Finding per invariant

Each check is set-based SQL sized for a city of 1,000,000 members: what one service's database
must agree with another's travels once, by binary COPY, into a temporary table of the other's
database (dropped at commit), and the comparison is one join there; only counts and at most
`EXAMPLES` ids come back — ids of members, unions, funds, entries, deliveries, events; never a
name, number or address. A check that cannot run is a broken invariant ("could not be checked"),
and does not stop the others.

What is compared is what the services keep: the relay purges published outbox rows after
OUTBOX_RETENTION_DAYS and applied inbox rows after INBOX_RETENTION_DAYS (longer) of the services'
clock, so a run that wants the whole year compared keeps both longer than the year (the year's
driver does: devstack.year.drive.KEPT_FOR_THE_YEAR); the outbox-based findings say how many
events they compared."""
from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Awaitable, Callable

import asyncpg
import httpx

EXAMPLES = 5
SERVICES = ("membership", "welfare", "competitions", "notify")
SINK_API_LIMIT = 100_000  # the most the sinks' listing APIs return in one answer

PERSON_IN_ONE_UNION = "every person is in exactly one union"
COUNTS_PER_UNION = "membership's member counts per union equal every projection's"
CHANGES_REFLECTED = "every transfer, departure and merge is reflected in every projection"
FUND_FIGURES = "every fund's budget equals available plus committed plus disbursed"
FUNDS_NEVER_NEGATIVE = "no fund ever went below zero"
PAYMENTS_MATCH_EVENTS = "the payments equal the payment events"
DELIVERED_ONCE = "every notification due was delivered exactly once per event, recipient and channel"
NONE_TO_OPTED_OUT = "no notification went to a recipient who opted out"
NONE_IN_QUIET_HOURS = "no SMS went out inside its recipient's quiet hours"
CONSUMED_ONCE = "every published event was consumed exactly once by every subscriber"
NO_DEAD_LETTERS = "nothing is left in a dead-letter queue"
ONE_TRACE = "every sampled business action is one trace across the services it touched"


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str
    checked: int  # what was compared: members, unions, funds, entries, deliveries, events, traces


@dataclass
class Sources:
    dsn: dict[str, str]                 # service -> DSN: membership, welfare, competitions, notify, traces
    urls: dict[str, list[str]]          # service -> replica base URLs
    admin_token: str                    # city-root federation_admin JWT
    smtpsink_url: str
    httpsink_url: str
    tracesink_url: str
    bootstrap: str
    trace_samples: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)  # (action, trace id, services)
    quiet_hours: str = "21:00-08:00"    # notify's NOTIFY_QUIET_HOURS: the SMS window of members without their own
    # "smtpsink" / "httpsink" -> the sink's --dir: its messages.jsonl is read instead of the listing API,
    # which returns at most SINK_API_LIMIT receipts (a city's year of mail is more).
    sink_dirs: dict[str, Path] = field(default_factory=dict)
    trace_wait: float = 15.0            # seconds the spans of a sampled action may still be on their way


# ---- plumbing ----------------------------------------------------------------------------------

class _Databases:
    """One connection per database, opened when first asked for."""

    def __init__(self, dsn: dict[str, str]) -> None:
        self.dsn = dsn
        self.conns: dict[str, asyncpg.Connection] = {}

    async def __call__(self, name: str) -> asyncpg.Connection:
        if name not in self.conns:
            self.conns[name] = await asyncpg.connect(self.dsn[name], command_timeout=600)
        return self.conns[name]

    async def close(self) -> None:
        for conn in self.conns.values():
            with contextlib.suppress(Exception):
                await conn.close()


async def _ship(source: asyncpg.Connection, query: str, args: tuple, target: asyncpg.Connection,
                table: str, columns: str) -> int:
    """Copy what `query` selects on `source` into a temporary table of `target` (inside the
    caller's transaction on `target`, dropped at its commit). Binary COPY both ways: a million
    members are some tens of megabytes, moved in seconds, with no Python per row."""
    buffer = io.BytesIO()

    async def write(chunk: bytes) -> None:
        buffer.write(chunk)

    await source.copy_from_query(query, *args, output=write, format="binary")
    await target.execute(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP")
    buffer.seek(0)
    status = await target.copy_to_table(table, source=buffer, format="binary")
    await target.execute(f"ANALYZE {table}")
    return int(status.split()[-1])


def _ids(values) -> str:
    return ", ".join(str(v) for v in list(values)[:EXAMPLES])


def _parts(counts: dict[str, tuple[int, list]]) -> list[str]:
    """'3 missing (e.g. id, id)' for every kind of breach that occurred."""
    return [f"{n} {what} (e.g. {_ids(examples)})" for what, (n, examples) in counts.items() if n]


async def _tally(conn: asyncpg.Connection, bad_sql: str, *args) -> dict[str, tuple[int, list]]:
    """Run `bad_sql` — rows (kind, id) of what broke — and return {kind: (count, a few ids)}."""
    rows = await conn.fetch(
        f"SELECT kind, count(*) AS n, (array_agg(id::text))[1:{EXAMPLES}] AS examples"
        f" FROM ({bad_sql}) AS bad WHERE kind IS NOT NULL GROUP BY kind ORDER BY kind", *args)
    return {r["kind"]: (r["n"], list(r["examples"])) for r in rows}


# ---- 1. every person in exactly one union, and every projection agrees -------------------------

async def _members(src: Sources, db: _Databases) -> list[Finding]:
    membership = await db("membership")
    kept = await membership.fetchval("SELECT count(*) FROM members WHERE status <> 'left'")
    # The keyed hash of the ID number is the person: no two kept memberships for one hash, and
    # each kept membership in a unit that still exists (not merged, not dissolved).
    bad = await _tally(membership, """
        SELECT 'people with two memberships' AS kind, min(id::text) AS id FROM members
         WHERE status <> 'left' GROUP BY id_number_hash HAVING count(*) > 1
        UNION ALL
        SELECT 'members of a union that is closed or unknown', m.id::text FROM members m
          LEFT JOIN org_units u ON u.id = m.union_id
         WHERE m.status <> 'left' AND (u.id IS NULL OR u.status <> 'active')""")
    findings = [Finding(PERSON_IN_ONE_UNION, not bad,
                        "; ".join(_parts(bad)) or f"{kept} members, each in one open union", kept)]

    # Counts per union: membership's active members against welfare's and competitions' active
    # ones; notify keeps no status but who left (a retained member is still told).
    truth = {r["union_id"]: (r["active"], r["kept"]) for r in await membership.fetch(
        "SELECT union_id, count(*) FILTER (WHERE status = 'active') AS active,"
        " count(*) FILTER (WHERE status <> 'left') AS kept FROM members GROUP BY union_id")}
    projected = {
        "welfare": ("SELECT union_id, count(*) FILTER (WHERE status = 'active') AS n FROM members GROUP BY 1", 0),
        "competitions": ("SELECT union_id, count(*) FILTER (WHERE status = 'active') AS n FROM members GROUP BY 1", 0),
        "notify": ("SELECT union_id, count(*) FILTER (WHERE left_on IS NULL) AS n FROM members GROUP BY 1", 1),
    }
    problems, unions = [], 0
    for service, (sql, which) in projected.items():
        theirs = {r["union_id"]: r["n"] for r in await (await db(service)).fetch(sql)}
        differ = [(u, truth.get(u, (0, 0))[which], theirs.get(u, 0)) for u in truth.keys() | theirs.keys()
                  if truth.get(u, (0, 0))[which] != theirs.get(u, 0)]
        unions = max(unions, len(truth.keys() | theirs.keys()))
        if differ:
            differ.sort(key=lambda d: str(d[0]))
            problems.append(f"{service}: {len(differ)} unions differ (e.g. " + ", ".join(
                f"{u} membership {a} / {service} {b}" for u, a, b in differ[:EXAMPLES]) + ")")
    findings.append(Finding(COUNTS_PER_UNION, not problems, "; ".join(problems)
                            or f"{unions} unions agree in welfare, competitions and notify", unions))

    # Member by member: every projection has each member in membership's union with its status
    # (transfers and merges move members, departures mark or forget them).
    statuses = {  # (what membership's status means there, what the projection's row says)
        "welfare": ("m.status", "p.status"),
        "competitions": ("m.status", "p.status"),  # a member who left is forgotten (no row)
        "notify": ("CASE WHEN m.status = 'left' THEN 'left' ELSE 'member' END",
                   "CASE WHEN p.left_on IS NULL THEN 'member' ELSE 'left' END"),
    }
    problems, compared = [], 0
    for service, (want, got) in statuses.items():
        conn = await db(service)
        async with conn.transaction():
            compared = max(compared, await _ship(
                membership, "SELECT id, union_id, status FROM members", (), conn,
                "year_membership", "member_id uuid, union_id uuid, status text"))
            bad = await _tally(conn, f"""
                SELECT CASE WHEN m.member_id IS NULL THEN 'unknown to membership'
                            WHEN p.member_id IS NULL AND m.status <> 'left' THEN 'missing'
                            WHEN p.member_id IS NULL THEN NULL
                            WHEN {want} IS DISTINCT FROM {got} THEN 'with another status'
                            WHEN m.status <> 'left' AND p.union_id <> m.union_id THEN 'in another union'
                       END AS kind, coalesce(m.member_id, p.member_id) AS id
                  FROM year_membership m FULL JOIN members p ON p.member_id = m.member_id""")
        if bad:
            problems.append(f"{service}: " + ", ".join(_parts(bad)))
    findings.append(Finding(CHANGES_REFLECTED, not problems, "; ".join(problems)
                            or f"{compared} members agree in welfare, competitions and notify", compared))
    return findings


# ---- 2. every fund --------------------------------------------------------------------------------

# Each entry's effect on its fund's four figures (welfare.domain.money.EFFECTS and REVERSAL_EFFECTS,
# written again in SQL so that the check does not trust the code it checks).
_DELTAS = """
WITH entries AS (
    SELECT e.fund_id, e.seq, e.kind, e.amount_fen AS a, r.kind AS reversed
      FROM ledger_entries e LEFT JOIN ledger_entries r ON r.id = e.reverses_entry_id
), deltas AS (
    SELECT fund_id, seq,
           CASE WHEN kind = 'allocation_in' OR reversed = 'allocation_out' THEN a
                WHEN kind = 'allocation_out' OR reversed = 'allocation_in' THEN -a ELSE 0 END AS allocated,
           CASE WHEN kind IN ('allocation_in', 'commitment_release') OR reversed IN ('allocation_out', 'disbursement') THEN a
                WHEN kind IN ('allocation_out', 'commitment') OR reversed = 'allocation_in' THEN -a ELSE 0 END AS available,
           CASE WHEN kind = 'commitment' THEN a WHEN kind IN ('commitment_release', 'disbursement') THEN -a
                ELSE 0 END AS committed,
           CASE WHEN kind = 'disbursement' THEN a WHEN reversed = 'disbursement' THEN -a ELSE 0 END AS disbursed
      FROM entries
)
"""


async def _funds(src: Sources, db: _Databases) -> list[Finding]:
    welfare = await db("welfare")
    funds = await welfare.fetchval("SELECT count(*) FROM funds")
    entries = await welfare.fetchval("SELECT count(*) FROM ledger_entries")
    bad = await _tally(welfare, _DELTAS + """
        , sums AS (SELECT fund_id, sum(allocated) AS al, sum(available) AS av, sum(committed) AS co,
                          sum(disbursed) AS di FROM deltas GROUP BY fund_id)
        SELECT CASE WHEN b.fund_id IS NULL THEN 'funds without a balance'
                    WHEN b.allocated_fen <> b.available_fen + b.committed_fen + b.disbursed_fen
                         THEN 'funds whose budget is not available + committed + disbursed'
                    WHEN (b.allocated_fen, b.available_fen, b.committed_fen, b.disbursed_fen)
                         <> (coalesce(s.al, 0), coalesce(s.av, 0), coalesce(s.co, 0), coalesce(s.di, 0))
                         THEN 'funds whose balance is not what their ledger adds up to'
               END AS kind, f.id
          FROM funds f LEFT JOIN fund_balances b ON b.fund_id = f.id LEFT JOIN sums s ON s.fund_id = f.id""")
    findings = [Finding(FUND_FIGURES, not bad, "; ".join(_parts(bad))
                        or f"{funds} funds: budget = available + committed + disbursed, as their ledgers add up", funds)]

    # The balance after every entry, in the ledger's order (seq follows the balance row's lock).
    bad = await _tally(welfare, _DELTAS + """
        , running AS (SELECT fund_id, seq, sum(allocated) OVER w AS al, sum(available) OVER w AS av,
                             sum(committed) OVER w AS co, sum(disbursed) OVER w AS di
                        FROM deltas WINDOW w AS (PARTITION BY fund_id ORDER BY seq))
        SELECT DISTINCT 'funds below zero after an entry' AS kind, fund_id AS id
          FROM running WHERE least(al, av, co, di) < 0""")
    findings.append(Finding(FUNDS_NEVER_NEGATIVE, not bad, "; ".join(_parts(bad))
                            or f"{entries} ledger entries of {funds} funds walked in order: never below zero", entries))

    # Payments against AidDisbursed / AidReversed in welfare's outbox, entry by entry (campaign
    # payments, cases and visits' gifts alike). Entries older than the oldest outbox row kept are
    # not compared (the relay purged their events).
    payments = """
        WITH horizon AS (SELECT coalesce(min(occurred_at), '-infinity') AS t FROM outbox),
        paid AS (
            SELECT e.id, e.kind, e.amount_fen FROM ledger_entries e LEFT JOIN ledger_entries r ON r.id = e.reverses_entry_id
             WHERE (e.kind = 'disbursement' OR e.kind = 'reversal' AND r.kind = 'disbursement')
               AND e.created_at >= (SELECT t FROM horizon)),
        told AS (
            SELECT CASE event_type WHEN 'AidDisbursed' THEN payload ->> 'ledger_entry_id'
                                   ELSE payload ->> 'reversal_entry_id' END::uuid AS id,
                   CASE event_type WHEN 'AidDisbursed' THEN 'disbursement' ELSE 'reversal' END AS kind,
                   count(*) AS events, sum((payload ->> 'amount_fen')::bigint) AS amount_fen
              FROM outbox WHERE event_type IN ('AidDisbursed', 'AidReversed') GROUP BY 1, 2)
    """
    totals = await welfare.fetchrow(payments + """
        SELECT (SELECT count(*) FROM paid) AS entries,
               (SELECT coalesce(sum(amount_fen), 0)::bigint FROM paid WHERE kind = 'disbursement') AS paid_fen,
               (SELECT coalesce(sum(amount_fen), 0)::bigint FROM told WHERE kind = 'disbursement') AS told_fen,
               (SELECT coalesce(sum(amount_fen), 0)::bigint FROM paid WHERE kind = 'reversal') AS reversed_fen,
               (SELECT coalesce(sum(amount_fen), 0)::bigint FROM told WHERE kind = 'reversal') AS told_reversed_fen""")
    bad = await _tally(welfare, payments + """
        SELECT CASE WHEN t.id IS NULL THEN 'payments without their event'
                    WHEN p.id IS NULL THEN 'payment events without their ledger entry'
                    WHEN t.events > 1 THEN 'payments with more than one event'
                    WHEN t.amount_fen <> p.amount_fen OR t.kind <> p.kind THEN 'payments whose event says another amount'
               END AS kind, coalesce(p.id, t.id) AS id
          FROM paid p FULL JOIN told t ON t.id = p.id""")
    sums = (f"paid {totals['paid_fen']} fen, AidDisbursed {totals['told_fen']} fen; reversed {totals['reversed_fen']}"
            f" fen, AidReversed {totals['told_reversed_fen']} fen")
    ok = not bad and totals["paid_fen"] == totals["told_fen"] and totals["reversed_fen"] == totals["told_reversed_fen"]
    findings.append(Finding(PAYMENTS_MATCH_EVENTS, ok, "; ".join([*_parts(bad), sums]), totals["entries"]))
    return findings


# ---- 3. every notification ---------------------------------------------------------------------

_MESSAGE_ID = re.compile(r"<?([0-9a-fA-F-]{36})@")


def _uuid(text: str | None) -> uuid.UUID | None:
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        return uuid.UUID(text)
    return None


def _receipt(channel: str, key: str | None, received_at: str | None) -> tuple:
    when = datetime.fromisoformat(received_at) if received_at else None
    return channel, _uuid(key), when


async def _sink_receipts(src: Sources) -> tuple[list[tuple], list[str]]:
    """Every receipt the sinks keep as (channel, delivery id or None, received at): the mail's
    Message-ID <delivery-id@…>, the SMS and robot calls' Idempotency-Key (the delivery id). From
    the sinks' files when their folders are known, else from their listing APIs; a listing that
    cannot hold them all is a reason the count cannot be trusted."""
    receipts, problems = [], []

    def mail(r: dict) -> tuple:
        match = _MESSAGE_ID.match(r.get("message_id") or "")
        return _receipt("email", match.group(1) if match else None, r.get("received_at"))

    def provider(r: dict) -> tuple:
        return _receipt("sms" if r.get("kind") == "sms" else "webhook", r.get("idempotency_key"), r.get("received_at"))

    for sink, parse in (("smtpsink", mail), ("httpsink", provider)):
        if sink in src.sink_dirs:
            path = Path(src.sink_dirs[sink]) / "messages.jsonl"
            if path.exists():
                with path.open(encoding="utf-8") as lines:
                    receipts += [parse(json.loads(line)) for line in lines if line.strip()]
            continue
        async with httpx.AsyncClient(timeout=120) as http:
            if sink == "smtpsink":
                answers = [("mail", (await http.get(f"{src.smtpsink_url}/messages",
                                                    params={"all": "true", "limit": SINK_API_LIMIT})).json(), "messages")]
            else:
                answers = [(kind, (await http.get(f"{src.httpsink_url}/{kind}",
                                                  params={"all": "true", "limit": SINK_API_LIMIT})).json(), kind)
                           for kind in ("sms", "webhooks")]
        for kind, answer, key in answers:
            listed = answer[key]
            if answer["count"] > len(listed):
                problems.append(f"the {sink} holds {answer['count']} {kind} receipts and lists only {len(listed)}:"
                                " give its folder (Sources.sink_dirs)")
            receipts += [parse(r) for r in listed]
    return receipts, problems


def _window(text: str) -> tuple[str, str]:
    """'21:00-08:00' -> ('21:00', '08:00'); 'off' / '' -> no window (start = end)."""
    text = (text or "").strip()
    if text.lower() in ("", "off", "none"):
        return "00:00", "00:00"
    start, end = (part.strip() for part in text.split("-", 1))
    return start, end


async def _notifications(src: Sources, db: _Databases) -> list[Finding]:
    notify = await db("notify")
    receipts, problems = await _sink_receipts(src)
    start, end = _window(src.quiet_hours)
    async with notify.transaction():
        await notify.execute("CREATE TEMP TABLE year_receipts (channel text, delivery_id uuid, received_at timestamptz)"
                             " ON COMMIT DROP")
        await notify.copy_records_to_table("year_receipts", records=receipts)
        await notify.execute("CREATE INDEX ON year_receipts (delivery_id); ANALYZE year_receipts")
        deliveries = await notify.fetchval("SELECT count(*) FROM deliveries")
        # Sent channels are counted at the sinks; a second receipt of one delivery is a second
        # message, allowed only as the documented window: a send whose answer was lost (the
        # dispatcher killed, the lease expired) started again — never more receipts than sends.
        bad = await _tally(notify, """
            WITH received AS (SELECT delivery_id, count(*) AS n FROM year_receipts GROUP BY delivery_id)
            SELECT CASE WHEN d.status IN ('pending', 'sending') AND d.next_attempt_at <= now()
                             THEN 'due and not delivered'
                        WHEN d.status = 'failed' THEN 'failed'
                        WHEN d.status = 'delivered' AND d.channel <> 'inapp' AND r.n IS NULL
                             THEN 'delivered but not received'
                        WHEN d.status <> 'delivered' AND r.n IS NOT NULL THEN 'received but not delivered'
                        WHEN r.n > greatest(d.attempts, 1) THEN 'received more than once'
                        WHEN d.status = 'delivered' AND d.channel = 'inapp' AND i.id IS NULL
                             THEN 'in-app without its inbox message'
                   END AS kind, d.id
              FROM deliveries d LEFT JOIN received r ON r.delivery_id = d.id LEFT JOIN inbox_messages i ON i.id = d.id
            UNION ALL
            SELECT 'received with no delivery of notify', r.delivery_id FROM year_receipts r
             WHERE r.delivery_id IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = r.delivery_id)
            UNION ALL
            SELECT 'inbox messages of no delivered in-app delivery', i.id FROM inbox_messages i
             WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = i.id AND d.channel = 'inapp'
                                                           AND d.status = 'delivered')""")
        resent = await notify.fetchval("""
            SELECT count(*) FROM (SELECT delivery_id FROM year_receipts GROUP BY 1 HAVING count(*) > 1) AS r""")
        findings = [Finding(DELIVERED_ONCE, not bad and not problems, "; ".join([*problems, *_parts(bad)])
                            or f"{deliveries} deliveries, {len(receipts)} receipts at the sinks"
                               f" ({resent} re-sent after a lost answer, folded by the recipient side)", deliveries)]

        # The choice in force when the delivery was made: the member's own for the channel, else
        # the nearest office default on their path for the notice kind and channel.
        bad = await _tally(notify, """
            SELECT CASE WHEN NOT coalesce(own.opted_in, office.opted_in, true)
                        THEN 'delivered on a channel the recipient opted out of' END AS kind, d.id
              FROM deliveries d
              LEFT JOIN channel_preferences own ON own.member_id = d.recipient_id AND own.channel = d.channel
                                               AND own.updated_at <= d.created_at
              LEFT JOIN LATERAL (
                    SELECT nd.opted_in FROM notice_defaults nd
                     WHERE nd.notice_kind = d.template AND nd.channel = d.channel AND nd.org_id = ANY (d.org_path)
                       AND nd.updated_at <= d.created_at
                     ORDER BY array_position(d.org_path, nd.org_id) DESC LIMIT 1) office ON true
             WHERE d.recipient_kind = 'member' AND d.status = 'delivered'""")
        member_deliveries = await notify.fetchval(
            "SELECT count(*) FROM deliveries WHERE recipient_kind = 'member' AND status = 'delivered'")
        findings.append(Finding(NONE_TO_OPTED_OUT, not bad, "; ".join(_parts(bad))
                                or f"{member_deliveries} deliveries to members, none against their choice",
                                member_deliveries))

        # When the SMS reached the provider (the sink's clock), in Beijing time, against the
        # member's own window or the service's; a send decided just before the window began may
        # arrive in its first minute.
        bad = await _tally(notify, """
            WITH sent AS (
                SELECT r.delivery_id AS id, (r.received_at AT TIME ZONE 'Asia/Shanghai')::time AS t,
                       coalesce(ms.quiet_start, $1::time) AS qs, coalesce(ms.quiet_end, $2::time) AS qe
                  FROM year_receipts r JOIN deliveries d ON d.id = r.delivery_id
                  LEFT JOIN member_settings ms ON ms.member_id = d.member_id
                 WHERE r.channel = 'sms')
            SELECT CASE WHEN qs <> qe AND (CASE WHEN qs < qe THEN t >= qs + interval '1 minute' AND t < qe
                                                ELSE t >= qs + interval '1 minute' OR t < qe END)
                        THEN 'SMS sent inside quiet hours' END AS kind, id
              FROM sent""", datetime.strptime(start, "%H:%M").time(), datetime.strptime(end, "%H:%M").time())
        sms = sum(1 for r in receipts if r[0] == "sms")
        findings.append(Finding(NONE_IN_QUIET_HOURS, not bad, "; ".join(_parts(bad))
                                or f"{sms} SMS receipts, none inside quiet hours (default {src.quiet_hours})", sms))
    return findings


# ---- 4. every event consumed by every subscriber -------------------------------------------------

_HANDLES = re.compile(r"Handles (.+?) exactly once")


def _consumer_name(channel: str) -> str:
    """'membership.member.v1:WelfareMembers' -> 'welfare.members': the subscriber's function is
    named for its consumer (unionops.service._subscribe), and FastStream names the channel for it."""
    words = re.findall(r"[A-Z][a-z0-9]*", channel.rsplit(":", 1)[-1])
    return ".".join(w.lower() for w in words)


@dataclass(frozen=True)
class Subscription:
    service: str
    consumer: str      # the consumer's name: its inbox's `consumer` and its Kafka group id
    topic: str
    handles: frozenset[str]


async def subscriptions(urls: dict[str, str]) -> list[Subscription]:
    """Every consumer of every service with the topic it reads and the event types it handles,
    from each service's AsyncAPI document (`urls`: service -> a base URL)."""
    out: list[Subscription] = []
    async with httpx.AsyncClient(timeout=30) as http:
        for service in SERVICES:
            doc = (await http.get(f"{urls[service]}/asyncapi.json")).json()
            for name, channel in (doc.get("channels") or {}).items():
                match = _HANDLES.search(channel.get("description") or "")
                if match:
                    handled = frozenset(t.strip() for t in match.group(1).split(",") if t.strip())
                    out.append(Subscription(service, _consumer_name(name), channel.get("address") or name.rsplit(":", 1)[0],
                                            handled))
    return out


async def _subscriptions(src: Sources) -> dict[str, dict[str, set[str]]]:
    """service -> consumer name -> the event types it handles."""
    out: dict[str, dict[str, set[str]]] = {}
    for sub in await subscriptions({s: src.urls[s][0] for s in SERVICES}):
        out.setdefault(sub.service, {}).setdefault(sub.consumer, set()).update(sub.handles)
    return out


async def _events(src: Sources, db: _Databases) -> list[Finding]:
    subscriptions = await _subscriptions(src)
    problems, compared, consumers = [], 0, 0
    for service in SERVICES:
        unpublished = await (await db(service)).fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        if unpublished:
            problems.append(f"{service}: {unpublished} outbox rows never published")
    for service, by_consumer in subscriptions.items():
        conn = await db(service)
        for consumer, types in sorted(by_consumer.items()):
            consumers += 1
            for producer in SERVICES:
                async with conn.transaction():
                    shipped = await _ship(
                        await db(producer), "SELECT event_id FROM outbox WHERE published_at IS NOT NULL"
                                            " AND event_type = ANY($1::text[])", (sorted(types),),
                        conn, "year_published", "event_id uuid")
                    if not shipped:
                        continue
                    compared += shipped
                    bad = await _tally(conn, """
                        SELECT CASE WHEN i.event_id IS NULL THEN 'not consumed'
                                    WHEN i.status <> 'applied' THEN 'dead-lettered, not applied' END AS kind,
                               p.event_id AS id
                          FROM year_published p LEFT JOIN inbox i ON i.consumer = $1 AND i.event_id = p.event_id""",
                        consumer)
                if bad:
                    problems.append(f"{consumer} of {producer}'s {shipped} events: " + ", ".join(_parts(bad)))
    findings = [Finding(CONSUMED_ONCE, not problems and consumers > 0,
                        "; ".join(problems) or (f"{compared} deliveries of published events to {consumers} consumers,"
                                                " each in its consumer's inbox once, applied" if consumers
                                                else "no subscriber found in the services' AsyncAPI documents"),
                        compared)]

    left, held = [], 0
    for service in SERVICES:
        conn = await db(service)
        pending = await conn.fetch("SELECT consumer, count(*) AS n, (array_agg(id::text))[1:5] AS ids FROM dead_letters"
                                   " WHERE status = 'pending' GROUP BY consumer ORDER BY consumer")
        left += [f"{service} {r['consumer']}: {r['n']} dead letters pending (e.g. {_ids(r['ids'])})" for r in pending]
        held += await conn.fetchval("SELECT count(*) FROM dead_letters")
    notify = await db("notify")
    failed = await notify.fetchrow("SELECT count(*) AS n, (array_agg(delivery_id::text))[1:5] AS ids FROM delivery_dlq")
    if failed["n"]:
        left.append(f"notify: {failed['n']} notifications dead-lettered (e.g. {_ids(failed['ids'])})")
    findings.append(Finding(NO_DEAD_LETTERS, not left, "; ".join(left)
                            or f"no dead letter pending in any service ({held} resolved)", held + failed["n"]))
    return findings


# ---- 5. every business action one trace ----------------------------------------------------------

async def _traces(src: Sources, db: _Databases) -> list[Finding]:
    if not src.trace_samples:
        return [Finding(ONE_TRACE, False, "no trace samples were recorded", 0)]
    traces = await db("traces")
    ids = sorted({trace_id.lower() for _, trace_id, _ in src.trace_samples})
    deadline = time.monotonic() + src.trace_wait
    while True:  # the services export spans in batches: the last ones may still be on their way
        rows = {r["trace_id"]: r for r in await traces.fetch("""
            WITH s AS (SELECT trace_id, span_id, parent_span_id, service FROM spans WHERE trace_id = ANY ($1::text[]))
            SELECT s.trace_id, array_agg(DISTINCT s.service) AS services, count(*) AS spans,
                   count(*) FILTER (WHERE p.span_id IS NULL) AS roots
              FROM s LEFT JOIN s AS p ON p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
             GROUP BY s.trace_id""", ids)}
        broken = []
        for action, trace_id, expected in src.trace_samples:
            row = rows.get(trace_id.lower())
            if row is None:
                broken.append(f"{action} ({trace_id}): no spans")
                continue
            missing = sorted(set(expected) - set(row["services"]))
            if missing:
                broken.append(f"{action} ({trace_id}): no span of {', '.join(missing)}")
            if row["roots"] != 1:
                broken.append(f"{action} ({trace_id}): {row['roots']} roots, not one tree")
        if not broken or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    return [Finding(ONE_TRACE, not broken, "; ".join(broken[:EXAMPLES * 2])
                    or f"{len(src.trace_samples)} sampled actions, each one tree over the services it touched",
                    len(src.trace_samples))]


# ---- all of them ----------------------------------------------------------------------------------

CHECKS: list[tuple[tuple[str, ...], Callable[[Sources, _Databases], Awaitable[list[Finding]]]]] = [
    ((PERSON_IN_ONE_UNION, COUNTS_PER_UNION, CHANGES_REFLECTED), _members),
    ((FUND_FIGURES, FUNDS_NEVER_NEGATIVE, PAYMENTS_MATCH_EVENTS), _funds),
    ((DELIVERED_ONCE, NONE_TO_OPTED_OUT, NONE_IN_QUIET_HOURS), _notifications),
    ((CONSUMED_ONCE, NO_DEAD_LETTERS), _events),
    ((ONE_TRACE,), _traces),
]


async def check_all(src: Sources) -> list[Finding]:
    """Every invariant, one Finding each, in the issue's order."""
    db = _Databases(src.dsn)
    findings: list[Finding] = []
    try:
        for names, check in CHECKS:
            try:
                findings += await check(src, db)
            except Exception as exc:  # one check that cannot run is a broken invariant, not the end of the others
                reason = f"could not be checked: {type(exc).__name__}: {str(exc)[:300]}"
                findings += [Finding(name, False, reason, 0) for name in names]
    finally:
        await db.close()
    return findings
