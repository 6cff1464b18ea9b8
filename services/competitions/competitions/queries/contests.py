"""Reads of contests, teams and entries, and the scope checks of a contest: organisers (the
organising unit's subtree-holders) manage it; units below the organiser see it and their own
teams and entries, since their members may enter."""
from __future__ import annotations

import uuid

import asyncpg

from competitions.domain.contests import may_see_contest, organises
from unionops.auth import Principal
from unionops.problems import Problem

CONTEST_COLUMNS = (
    "c.id, c.name, c.kind, c.org_id, COALESCE(o.name, '') AS org_name, c.org_path, c.starts_on, c.ends_on, c.place,"
    " c.host_name, c.host_org_id, c.co_organisers, c.status, c.opens_at, c.closes_at, c.team_based, c.min_team_size,"
    " c.max_team_size, c.min_women, c.team_cap, c.max_teams_per_unit, c.created_at, c.created_by,"
    " c.status_changed_at, c.status_changed_by")

CONTEST_NOT_FOUND = "竞赛不存在或不在您的管辖范围内"


async def load_contest(conn: asyncpg.Connection, contest_id: uuid.UUID, *, for_update: bool = False) -> asyncpg.Record:
    """The contest; `for_update` locks its row, which serialises every registration, withdrawal
    and status change of that contest (two units racing for the last place)."""
    if for_update:
        await conn.execute("SELECT 1 FROM contests WHERE id = $1 FOR UPDATE", contest_id)
    row = await conn.fetchrow(
        f"SELECT {CONTEST_COLUMNS} FROM contests c LEFT JOIN org_units o ON o.org_id = c.org_id WHERE c.id = $1",
        contest_id)
    if row is None:
        raise Problem(404, CONTEST_NOT_FOUND)
    return row


async def require_organiser(conn: asyncpg.Connection, contest, actor: Principal) -> None:
    """Only the organisers manage a contest. Units below the organiser see the contest (their
    members may enter), so to them it is a 403; to anyone else it does not exist (404)."""
    if organises(actor, contest["org_path"]):
        return
    own = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", actor.org_id)
    if may_see_contest(actor, contest["org_id"], contest["org_path"], own):
        raise Problem(403, "仅主办单位可管理本竞赛", type_="/problems/out-of-scope")
    raise Problem(404, CONTEST_NOT_FOUND)


async def managed_contest(conn, contest_id: uuid.UUID, actor: Principal) -> asyncpg.Record:
    """The contest, for its organisers only (see `require_organiser`)."""
    contest = await load_contest(conn, contest_id)
    await require_organiser(conn, contest, actor)
    return contest


async def actor_unit_path(conn, principal: Principal) -> list[uuid.UUID]:
    return await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", principal.org_id) or []


async def visible_contest(conn, contest_id: uuid.UUID, principal: Principal) -> asyncpg.Record:
    """The contest, if the caller organises it or is below its organiser; else it does not exist."""
    try:
        row = await load_contest(conn, contest_id)
    except Problem:
        row = None
    if row is None or not may_see_contest(principal, row["org_id"], row["org_path"],
                                          await actor_unit_path(conn, principal)):
        raise Problem(404, CONTEST_NOT_FOUND)
    return row


async def contest_events(conn: asyncpg.Connection | asyncpg.Pool, contest_id: uuid.UUID) -> list[dict]:
    rows = await conn.fetch("SELECT id, name, kind, position FROM contest_events WHERE contest_id = $1"
                            " ORDER BY position", contest_id)
    return [dict(r) for r in rows]


async def contest_view(conn: asyncpg.Connection | asyncpg.Pool, contest: asyncpg.Record) -> dict:
    """The contest as the API shows it, with its events and how many teams stand."""
    counts = {r["status"]: r["n"] for r in await conn.fetch(
        "SELECT status, count(*) AS n FROM contest_teams WHERE contest_id = $1 GROUP BY status", contest["id"])}
    view = {k: contest[k] for k in contest.keys() if k != "org_path"}
    return view | {"events": await contest_events(conn, contest["id"]),
                   "teams_registered": counts.get("registered", 0), "teams_waiting": counts.get("waitlisted", 0)}


async def contests(conn, principal: Principal, *, status: str | None, limit: int) -> list[dict]:
    """Contests the caller organises or whose members may enter, newest first."""
    rows = await conn.fetch(
        f"SELECT {CONTEST_COLUMNS} FROM contests c LEFT JOIN org_units o ON o.org_id = c.org_id"
        " WHERE ($1 = ANY(c.org_path) OR c.org_id = ANY($2::uuid[])) AND ($3::text IS NULL OR c.status = $3)"
        " ORDER BY c.created_at DESC LIMIT $4",
        principal.org_id, await actor_unit_path(conn, principal), status, limit)
    return [await contest_view(conn, r) for r in rows]


async def contest(conn, contest_id: uuid.UUID, principal: Principal) -> dict:
    return await contest_view(conn, await visible_contest(conn, contest_id, principal))


# ---- teams and entries ----------------------------------------------------------------------------

async def team_view(conn: asyncpg.Connection | asyncpg.Pool, team_id: uuid.UUID) -> dict:
    team = await conn.fetchrow(
        "SELECT t.id, t.contest_id, t.name, t.union_id, t.union_name, t.status, t.leader_member_id, t.member_ids,"
        " t.registered_at, t.registered_by, t.promoted_at, t.withdrawn_at, t.withdrawn_by,"
        " CASE WHEN t.status = 'waitlisted' THEN (SELECT count(*) FROM contest_teams w WHERE w.contest_id ="
        " t.contest_id AND w.status = 'waitlisted' AND w.seq <= t.seq) END AS waiting_position"
        " FROM contest_teams t WHERE t.id = $1", team_id)
    members = await conn.fetch(
        "SELECT m.member_id, m.member_name, m.is_leader, m.event_id, e.id AS entry_id FROM contest_team_members m"
        " LEFT JOIN contest_entries e ON e.team_id = m.team_id AND e.member_id = m.member_id"
        " WHERE m.team_id = $1 ORDER BY m.is_leader DESC, m.member_name, m.member_id", team_id)
    return dict(team) | {"members": [dict(m) for m in members]}


async def teams(conn, contest_id: uuid.UUID, principal: Principal, *, status: str | None) -> list[dict]:
    """Teams in order of arrival: all for the organisers, the caller's own for units below."""
    contest = await visible_contest(conn, contest_id, principal)
    ids = await conn.fetch(
        "SELECT id FROM contest_teams WHERE contest_id = $1 AND ($2 OR $3 = ANY(org_path))"
        " AND ($4::text IS NULL OR status = $4) ORDER BY seq",
        contest_id, organises(principal, contest["org_path"]), principal.org_id, status)
    return [await team_view(conn, r["id"]) for r in ids]


async def team(conn, contest_id: uuid.UUID, team_id: uuid.UUID, principal: Principal) -> dict:
    await visible_contest(conn, contest_id, principal)
    path = await conn.fetchval("SELECT org_path FROM contest_teams WHERE id = $1 AND contest_id = $2",
                               team_id, contest_id)
    if path is None or not principal.covers(path):
        raise Problem(404, "本竞赛无此参赛队伍")
    return await team_view(conn, team_id)


async def entries(conn, contest_id: uuid.UUID, principal: Principal) -> list[dict]:
    """Entries (one per contestant, what judges score): all for the organisers, own members' below."""
    contest = await visible_contest(conn, contest_id, principal)
    rows = await conn.fetch(
        "SELECT id, contest_id, member_id, member_name, union_id, union_name, team_id, event_id, registered_at,"
        " registered_by FROM contest_entries WHERE contest_id = $1 AND ($2 OR $3 = ANY(org_path))"
        " ORDER BY registered_at, id",
        contest_id, organises(principal, contest["org_path"]), principal.org_id)
    return [dict(r) for r in rows]
