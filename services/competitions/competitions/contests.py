"""Contests: created as a draft with their announcement (主办、承办、协办, date and place, events,
registration window, team rules), then moved draft → open → closed → judging → published by the
organiser's staff. Each command runs in the caller's transaction and stages its events there."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import asyncpg
from opentelemetry import trace

from competitions.domain import (
    UNKNOWN_UNIT, TeamRules, check_contest_kind, check_events, check_transition, check_window, may_see_contest,
    organises,
)
from contracts.events import ContestCreated, RegistrationOpened
from unionops import outbox
from unionops.auth import Principal
from unionops.problems import Problem, RuleViolation


@dataclass(frozen=True)
class CoOrganiser:
    name: str
    org_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ContestEvent:
    name: str
    kind: str  # skill | fun


@dataclass(frozen=True)
class CreateContest:
    name: str
    kind: str
    org_id: uuid.UUID                      # 主办单位: its subtree may enter
    starts_on: date | None = None
    place: str | None = None
    ends_on: date | None = None
    host_name: str | None = None           # 承办单位
    host_org_id: uuid.UUID | None = None
    co_organisers: tuple[CoOrganiser, ...] = ()
    events: tuple[ContestEvent, ...] = ()
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    team_based: bool = True
    rules: TeamRules = field(default_factory=TeamRules)


CONTEST_COLUMNS = (
    "c.id, c.name, c.kind, c.org_id, COALESCE(o.name, '') AS org_name, c.org_path, c.starts_on, c.ends_on, c.place,"
    " c.host_name, c.host_org_id, c.co_organisers, c.status, c.opens_at, c.closes_at, c.team_based, c.min_team_size,"
    " c.max_team_size, c.min_women, c.team_cap, c.max_teams_per_unit, c.created_at, c.created_by,"
    " c.status_changed_at, c.status_changed_by")


def rules_of(contest: asyncpg.Record) -> TeamRules:
    return TeamRules(min_team_size=contest["min_team_size"], max_team_size=contest["max_team_size"],
                     min_women=contest["min_women"], team_cap=contest["team_cap"],
                     max_teams_per_unit=contest["max_teams_per_unit"])


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


async def create_contest(conn: asyncpg.Connection, cmd: CreateContest, actor: Principal) -> dict:
    """举办竞赛: a draft contest organised by a known unit of the caller's subtree."""
    check_contest_kind(cmd.kind)
    check_events((e.name, e.kind) for e in cmd.events)
    if cmd.opens_at is not None or cmd.closes_at is not None:
        check_window(cmd.opens_at, cmd.closes_at)
    if cmd.starts_on and cmd.ends_on and cmd.ends_on < cmd.starts_on:
        raise RuleViolation("比赛结束日期不能早于开始日期", field="ends_on")
    rules = cmd.rules
    if rules.max_team_size is not None and rules.max_team_size < rules.min_team_size:
        raise RuleViolation("每队人数上限不能小于下限", field="max_team_size")
    unit = await conn.fetchrow("SELECT org_id, org_path, name FROM org_units WHERE org_id = $1", cmd.org_id)
    if unit is None or not actor.covers(unit["org_path"]):  # out of scope: exactly as unknown
        raise RuleViolation(UNKNOWN_UNIT, field="org_id", kind="unknown-unit")
    if cmd.host_org_id is not None and not await conn.fetchval("SELECT 1 FROM org_units WHERE org_id = $1",
                                                               cmd.host_org_id):
        raise RuleViolation(UNKNOWN_UNIT, field="host_org_id", kind="unknown-unit")
    contest_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO contests (id, name, kind, org_id, org_path, starts_on, ends_on, place, host_name, host_org_id,"
        " co_organisers, opens_at, closes_at, team_based, min_team_size, max_team_size, min_women, team_cap,"
        " max_teams_per_unit, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        contest_id, cmd.name, cmd.kind, unit["org_id"], unit["org_path"], cmd.starts_on, cmd.ends_on, cmd.place,
        cmd.host_name, cmd.host_org_id,
        [{"name": c.name, "org_id": str(c.org_id) if c.org_id else None} for c in cmd.co_organisers],
        cmd.opens_at, cmd.closes_at, cmd.team_based, rules.min_team_size, rules.max_team_size, rules.min_women,
        rules.team_cap, rules.max_teams_per_unit, actor.subject,
    )
    if cmd.events:
        await conn.executemany(
            "INSERT INTO contest_events (id, contest_id, name, kind, position) VALUES ($1, $2, $3, $4, $5)",
            [(uuid.uuid4(), contest_id, e.name, e.kind, i) for i, e in enumerate(cmd.events, start=1)])
    await outbox.record(conn, ContestCreated(contest_id=contest_id, name=cmd.name, kind=cmd.kind, org_id=unit["org_id"],
                                             starts_on=cmd.starts_on))
    trace.get_current_span().set_attribute("contest.id", str(contest_id))
    return await contest_view(conn, await load_contest(conn, contest_id))


async def set_status(conn: asyncpg.Connection, contest_id: uuid.UUID, status: str, actor: Principal) -> dict:
    """Move a contest one step along draft → open → closed → judging → published. Only the
    organising unit's staff (or those above it) may; opening needs a registration window and
    stages RegistrationOpened. Locks the contest row, so it never interleaves with a registration.
    Judging and publication call this too (status "judging", "published")."""
    contest = await load_contest(conn, contest_id, for_update=True)
    await require_organiser(conn, contest, actor)
    check_transition(contest["status"], status)
    if status == "open":
        check_window(contest["opens_at"], contest["closes_at"])
    changed_at = datetime.now(timezone.utc)
    await conn.execute("UPDATE contests SET status = $2, status_changed_at = $3, status_changed_by = $4 WHERE id = $1",
                       contest_id, status, changed_at, actor.subject)
    if status == "open":
        await outbox.record(conn, RegistrationOpened(
            contest_id=contest_id, contest_name=contest["name"], org_id=contest["org_id"],
            org_path=contest["org_path"], opens_at=contest["opens_at"], closes_at=contest["closes_at"],
            team_cap=contest["team_cap"] if contest["team_based"] else None))
    trace.get_current_span().set_attribute("contest.status", status)
    return await contest_view(conn, await load_contest(conn, contest_id))
