"""Notify's reads, for the API, the handlers and the dispatcher: `async def <noun>(conn, …)`.
Reads of one thing for a caller take the principal and answer "not found" alike for what does not
exist and what lies outside the caller's subtree. Every query is single statements: `conn` may
be a connection or the pool (the API passes its `PoolDep`, so a request refused for bad input never
takes a connection; several statements then run on the pool's connections, outside a transaction,
as they did on one connection)."""
from __future__ import annotations

import json
import uuid

import asyncpg

from notify.domain import notices as domain
from notify.domain.preferences import (
    DEFAULT_LANGUAGE, MEMBER_NOTICE_KINDS, Preferences, QuietHours, built_in_defaults, default_channels,
)
from unionops.auth import Principal
from unionops.problems import Problem, RuleViolation
from unionops.scope import row_in_scope

# ---- organisation units and members (projections) ---------------------------------------------


async def unit_name(conn: asyncpg.Connection, org_id) -> str | None:
    return await conn.fetchval("SELECT name FROM org_units WHERE org_id = $1", org_id)


async def union_name_of(conn: asyncpg.Connection, member_id) -> str | None:
    return await conn.fetchval("SELECT union_name FROM members WHERE member_id = $1", member_id)


async def unit_path_in_scope(conn: asyncpg.Connection, org_id: uuid.UUID, principal: Principal, field: str) -> list:
    """The path of a unit the caller may register things at; an unknown unit and one outside the
    caller's subtree are refused alike (422 naming `field`)."""
    path = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", org_id)
    if path is None or not principal.covers(path):  # out of scope: exactly as unknown
        raise RuleViolation("组织不存在或尚未同步到通知服务", field=field, kind="unknown-org")
    return path


async def unit_path(conn: asyncpg.Connection, org_id: uuid.UUID, principal: Principal) -> list:
    """The path of a unit named in a URL: one outside the caller's subtree is not found, as an unknown one."""
    path = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", org_id)
    if path is None or not principal.covers(path):
        raise Problem(404, "组织不存在或不在您的管辖范围内", type_="/problems/unit-not-found")
    return path


async def former_union_name(conn: asyncpg.Connection, member_id, from_union_id) -> str | None:
    """The name of the union a member is leaving: the unit's, else the members projection's."""
    return await conn.fetchval(
        "SELECT coalesce((SELECT name FROM org_units WHERE org_id = $2),"
        " (SELECT union_name FROM members WHERE member_id = $1))", member_id, from_union_id)


async def members_paid_by_campaign(conn: asyncpg.Connection, campaign_id) -> list[uuid.UUID]:
    """The members already holding a payment notice of a campaign."""
    return [r["recipient_id"] for r in await conn.fetch(
        "SELECT DISTINCT recipient_id FROM deliveries WHERE campaign_id = $1 AND template = 'campaign_payment_made'"
        " AND recipient_kind = 'member'", campaign_id)]


def member_not_found() -> Problem:
    """One answer for a member who is unknown and one outside the caller's subtree."""
    return Problem(404, "会员不存在或不在您的管辖范围内", type_="/problems/member-not-found")


async def member_org_path(conn: asyncpg.Connection, member_id: uuid.UUID) -> list[uuid.UUID] | None:
    """The member's unit path for staff scope: from the members projection, else from their
    latest delivery."""
    path = await conn.fetchval("SELECT org_path FROM members WHERE member_id = $1", member_id)
    if path is None:
        path = await conn.fetchval("SELECT org_path FROM deliveries WHERE member_id = $1 AND org_path IS NOT NULL"
                                   " ORDER BY created_at DESC LIMIT 1", member_id)
    return path


async def authorise_member(conn: asyncpg.Connection, principal: Principal, member_id: uuid.UUID,
                           permission: str) -> None:
    """The member themself, or staff with `permission` whose subtree holds the member's unit."""
    if principal.is_member(member_id):
        return
    principal.require(permission)
    path = await member_org_path(conn, member_id)
    if path is None or not principal.covers(path):
        raise member_not_found()  # out of scope: exactly as unknown


# ---- deliveries --------------------------------------------------------------------------------

DELIVERY_COLUMNS = (
    "id, source_event_id, source_event_type, member_id, channel, template, template_version, context, status,"
    " attempts, next_attempt_at, last_error, failure_reason, created_at, delivered_at, failed_at, undeliverable_at,"
    " org_path, recipient_kind, recipient_id")


async def deliveries(conn: asyncpg.Connection, principal: Principal, *, member_id, source_event_id, status,
                     recipient_kind, recipient_id, limit: int) -> list[dict]:
    """Deliveries in the caller's subtree, newest first."""
    # `org_path @> [org]` is Principal.covers in SQL, so the limit applies after the scope.
    rows = await conn.fetch(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE org_path @> ARRAY[$1]::uuid[]"
        " AND ($2::uuid IS NULL OR member_id = $2) AND ($3::uuid IS NULL OR source_event_id = $3)"
        " AND ($4::text IS NULL OR status = $4) AND ($6::text IS NULL OR recipient_kind = $6)"
        " AND ($7::uuid IS NULL OR recipient_id = $7) ORDER BY created_at DESC, id LIMIT $5",
        principal.org_id, member_id, source_event_id, status, limit, recipient_kind, recipient_id)
    return [dict(r) for r in rows if principal.covers(r["org_path"])]


async def delivery(conn: asyncpg.Connection, delivery_id: uuid.UUID, principal: Principal) -> dict:
    return dict(await row_in_scope(conn, principal, Problem(404, "投递记录不存在或不在您的管辖范围内"),
                                   f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1", delivery_id))


async def fanout(conn: asyncpg.Connection, source_event_id: uuid.UUID, principal: Principal) -> dict:
    """A fan-out's counters and its deliveries by status (one index range scan)."""
    row = await conn.fetchrow(
        "SELECT f.*, d.pending, d.sending, d.delivered, d.failed, d.undeliverable FROM fanouts f,"
        " LATERAL (SELECT count(*) FILTER (WHERE status = 'pending') AS pending,"
        "                 count(*) FILTER (WHERE status = 'sending') AS sending,"
        "                 count(*) FILTER (WHERE status = 'delivered') AS delivered,"
        "                 count(*) FILTER (WHERE status = 'failed') AS failed,"
        "                 count(*) FILTER (WHERE status = 'undeliverable') AS undeliverable"
        "          FROM deliveries WHERE source_event_id = f.source_event_id) d"
        " WHERE f.source_event_id = $1", source_event_id)
    if row is None or not principal.covers(row["org_path"]):
        raise Problem(404, "群发任务不存在或不在您的管辖范围内")
    return dict(row)


# The scrape-time gauges: the queue per channel, the dead letters, the fan-outs still running.
# One query, served by the partial indexes on pending, sending, unpublished dead letters and
# running fan-outs; the dead-letter count reads delivery_dlq, which holds failed deliveries only.
_GAUGES = """
SELECT 'queue' AS part, channel AS k1, status AS k2, count(*)::float8 AS n,
       coalesce(extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE status = 'pending'
                                                                      AND next_attempt_at <= now())), 0)::float8 AS age
FROM deliveries WHERE status IN ('pending', 'sending') GROUP BY channel, status
UNION ALL
SELECT 'dlq', reason, (published_at IS NOT NULL)::text, count(*), 0 FROM delivery_dlq GROUP BY 2, 3
UNION ALL
SELECT 'fanout', NULL, NULL, count(*), coalesce(sum(greatest(members_total - members_done, 0)), 0)
FROM fanouts WHERE status = 'running'
"""


async def gauge_rows(conn: asyncpg.Connection) -> list:
    return await conn.fetch(_GAUGES)


# ---- preferences -------------------------------------------------------------------------------

def _prefs(value) -> dict:
    if value is None:
        return {}
    if isinstance(value, str):
        return json.loads(value)
    return dict(value)


async def channels_for(conn: asyncpg.Connection, member_ids: list[uuid.UUID],
                       notice_kind: str) -> dict[uuid.UUID, list[str]]:
    """The channels on which each member gets a notice of this kind (domain.preferences): their
    own choices, else their office's defaults for the kind, else the built-in ones. One query for
    any number of members (fan-out batches call it per batch)."""
    if not member_ids:
        return {}
    rows = await conn.fetch(
        f"""
        SELECT m.id AS member_id, p.prefs, o.defaults
        FROM unnest($1::uuid[]) AS m(id)
        LEFT JOIN members mm ON mm.member_id = m.id
        LEFT JOIN LATERAL (
            SELECT jsonb_object_agg(channel, opted_in) AS prefs FROM channel_preferences WHERE member_id = m.id
        ) p ON true
        LEFT JOIN LATERAL ({_OFFICE_DEFAULTS.format(path="mm.org_path")}) o ON true
        """,
        list(dict.fromkeys(member_ids)), notice_kind,
    )
    out: dict[uuid.UUID, list[str]] = {}
    for r in rows:
        prefs = _prefs(r["prefs"])
        out[r["member_id"]] = default_channels(
            notice_kind, sms_opt_in=prefs.get("sms"),
            email_opt_in=prefs.get("email"), inapp_opt_in=prefs.get("inapp"), office=_prefs(r["defaults"]),
        )
    return out


# The office defaults of one notice kind ($2) that hold on a path: per channel, the nearest unit's.
_OFFICE_DEFAULTS = """
SELECT jsonb_object_agg(channel, opted_in) AS defaults FROM (
    SELECT DISTINCT ON (d.channel) d.channel, d.opted_in FROM notice_defaults d
    WHERE d.notice_kind = $2 AND d.org_id = ANY({path})
    ORDER BY d.channel, array_position({path}, d.org_id) DESC
) nearest
"""


async def office_defaults(conn: asyncpg.Connection, path: list[uuid.UUID] | None) -> dict[str, dict[str, bool]]:
    """Per member notice kind, the channels a member on `path` gets when they chose nothing
    (the offices' defaults on the path over the built-in ones)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (notice_kind, channel) notice_kind, channel, opted_in FROM notice_defaults"
        " WHERE org_id = ANY($1::uuid[]) ORDER BY notice_kind, channel, array_position($1::uuid[], org_id) DESC",
        list(path or ()))
    office: dict[str, dict[str, bool]] = {}
    for r in rows:
        office.setdefault(r["notice_kind"], {})[r["channel"]] = r["opted_in"]
    return {kind: built_in_defaults(kind) | office.get(kind, {}) for kind in MEMBER_NOTICE_KINDS}


async def unit_notice_defaults(conn: asyncpg.Connection, org_id: uuid.UUID) -> dict[str, dict[str, bool]]:
    """The defaults a unit set itself, per notice kind and channel."""
    own: dict[str, dict[str, bool]] = {}
    for r in await conn.fetch("SELECT notice_kind, channel, opted_in FROM notice_defaults WHERE org_id = $1"
                              " ORDER BY notice_kind, channel", org_id):
        own.setdefault(r["notice_kind"], {})[r["channel"]] = r["opted_in"]
    return own


async def member_channels(conn: asyncpg.Connection, member_ids: list[uuid.UUID],
                          notice_kind: str) -> dict[uuid.UUID, list[str]]:
    """Each member's channels for a notice kind (the template name); a member missing from the
    answer gets e-mail."""
    chosen = await channels_for(conn, member_ids, notice_kind)
    return {m: list(chosen.get(m, ["email"])) for m in member_ids}


async def preferences(conn: asyncpg.Connection, member_id: uuid.UUID) -> Preferences:
    rows = await conn.fetch("SELECT channel, opted_in FROM channel_preferences WHERE member_id = $1", member_id)
    s = await conn.fetchrow("SELECT language, quiet_start, quiet_end FROM member_settings WHERE member_id = $1",
                            member_id)
    quiet = QuietHours(s["quiet_start"], s["quiet_end"]) if s and s["quiet_start"] is not None else None
    return Preferences({r["channel"]: r["opted_in"] for r in rows},
                       (s and s["language"]) or DEFAULT_LANGUAGE, quiet)


# ---- officers ----------------------------------------------------------------------------------

OFFICER_COLUMNS = ("id, name, org_id, org_path, roles, email_masked, phone_masked, inapp_user_id, active, created_by,"
                   " created_at, updated_at")


def officer_not_found() -> Problem:
    return Problem(404, "工作人员不存在或不在您的管辖范围内")


async def officers(conn: asyncpg.Connection, principal: Principal, *, role: str | None, unit: uuid.UUID | None,
                   limit: int) -> list[dict]:
    """Officers in the caller's subtree."""
    rows = await conn.fetch(
        f"SELECT {OFFICER_COLUMNS} FROM officers WHERE org_path @> ARRAY[$1]::uuid[]"
        " AND ($2::text IS NULL OR $2 = ANY(roles)) AND ($3::uuid IS NULL OR org_id = $3)"
        " ORDER BY org_path, name, id LIMIT $4", principal.org_id, role, unit, limit)
    return [dict(r) for r in rows if principal.covers(r["org_path"])]


async def officer(conn: asyncpg.Connection, officer_id: uuid.UUID, principal: Principal) -> dict:
    return dict(await row_in_scope(conn, principal, officer_not_found(),
                                   f"SELECT {OFFICER_COLUMNS} FROM officers WHERE id = $1", officer_id))


def _officer(row) -> domain.Officer:
    return domain.Officer(id=row["id"], org_id=row["org_id"], has_email=row["has_email"],
                          inapp_user_id=row["inapp_user_id"])


async def recipients(conn: asyncpg.Connection, notice: domain.OfficerNotice) -> list[domain.Officer]:
    """The officers a notice goes to: a named assignee the directory knows, else the holders of
    the role at the nearest unit upward (domain.nearest_holders). One statement; a handful of rows."""
    rows = await conn.fetch(
        "SELECT id, org_id, email_enc IS NOT NULL AS has_email, inapp_user_id, inapp_user_id = $3 AS assigned"
        " FROM officers"
        " WHERE active AND ((org_id = ANY($1::uuid[]) AND $2 = ANY(roles)) OR inapp_user_id = $3)",
        notice.search_path, notice.role, notice.assignee,
    )
    assigned = [_officer(r) for r in rows if r["assigned"]]
    if assigned:
        return assigned
    return domain.nearest_holders(notice.search_path, [_officer(r) for r in rows])


# ---- group-chat robots -------------------------------------------------------------------------

BOT_COLUMNS = ("id, name, org_unit_id, org_path, officer_group, flavour, url_masked,"
               " secret_enc IS NOT NULL AS has_secret, notice_kinds, enabled, created_at, updated_at")


def bot_not_found() -> Problem:
    return Problem(404, "群机器人不存在或不在您的管辖范围内")


async def bots(conn: asyncpg.Connection, principal: Principal, *, unit: uuid.UUID | None, notice_kind: str | None,
               limit: int) -> list:
    """Bots in the caller's subtree."""
    rows = await conn.fetch(
        f"SELECT {BOT_COLUMNS} FROM webhook_bots WHERE org_path @> ARRAY[$1]::uuid[]"
        " AND ($2::uuid IS NULL OR org_unit_id = $2) AND ($3::text IS NULL OR $3 = ANY(notice_kinds))"
        " ORDER BY org_path, name, id LIMIT $4", principal.org_id, unit, notice_kind, limit)
    return [r for r in rows if principal.covers(r["org_path"])]


async def bot(conn: asyncpg.Connection, bot_id: uuid.UUID, principal: Principal):
    return await row_in_scope(conn, principal, bot_not_found(), f"SELECT {BOT_COLUMNS} FROM webhook_bots WHERE id = $1",
                              bot_id)


# ---- in-app inbox ------------------------------------------------------------------------------
# `inbox_messages.member_id` holds the recipient: a member id (recipient_kind 'member') or an
# officer id ('officer').

INBOX_COLUMNS = "id, recipient_kind, member_id, source_event_type, template, subject, body, created_at, read_at"


async def officer_ids(conn: asyncpg.Connection, user: str) -> list[uuid.UUID]:
    """The directory entries of one in-app account (a person may hold posts in several units;
    past posts included: their messages stay readable)."""
    return [r["id"] for r in await conn.fetch("SELECT id FROM officers WHERE inapp_user_id = $1", user)]


async def inbox_messages(conn: asyncpg.Connection, recipient_ids: list[uuid.UUID], *, kind: str = "member",
                         unread_only: bool = False, limit: int = 100) -> list:
    return await conn.fetch(
        f"SELECT {INBOX_COLUMNS} FROM inbox_messages WHERE member_id = ANY($1::uuid[]) AND recipient_kind = $2"
        " AND ($3 = false OR read_at IS NULL)"
        " ORDER BY created_at DESC LIMIT $4", recipient_ids, kind, unread_only, limit)


async def unread_count(conn: asyncpg.Connection, recipient_ids: list[uuid.UUID], *, kind: str = "member") -> int:
    return await conn.fetchval("SELECT count(*) FROM inbox_messages WHERE member_id = ANY($1::uuid[])"
                               " AND recipient_kind = $2 AND read_at IS NULL", recipient_ids, kind)


async def own_recipients(conn: asyncpg.Connection, principal: Principal) -> tuple[str, list[uuid.UUID]]:
    """Whose inbox `/inbox` is: the member's own, or the officer entries of a staff account."""
    if principal.role == "member":
        try:
            return "member", [uuid.UUID(principal.subject)]
        except ValueError:
            raise Problem(403, "令牌中的会员编号无效", type_="/problems/forbidden-role") from None
    if principal.role == "service":
        raise Problem(403, "收件箱仅供会员和工作人员本人使用", type_="/problems/forbidden-role")
    ids = await officer_ids(conn, principal.subject)
    if not ids:
        raise Problem(404, "工作人员名录中没有登记此账号（inapp_user_id），没有站内消息",
                      type_="/problems/officer-not-found")
    return "officer", ids
