"""Contests: created as a draft with their announcement (主办、承办、协办, date and place, events,
registration window, team rules), then moved draft → open → closed → judging → published by the
organiser's staff (scores are recorded in judging only; publication ends it)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from opentelemetry import trace

from competitions.domain.contests import (
    UNKNOWN_UNIT, check_contest_kind, check_dates_and_sizes, check_events, check_transition, check_window,
    check_window_not_past,
)
from competitions.domain.teams import TeamRules
from competitions.queries.contests import contest_view, load_contest, require_organiser
from contracts.events import ContestCreated, RegistrationOpened
from unionops.auth import Principal
from unionops.clock import local_today
from unionops.problems import RuleViolation
from unionops.unit_of_work import UnitOfWork


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


async def create_contest(uow: UnitOfWork, cmd: CreateContest, actor: Principal) -> dict:
    """举办竞赛: a draft contest organised by a known unit of the caller's subtree."""
    conn = uow.conn
    check_contest_kind(cmd.kind)
    check_events((e.name, e.kind) for e in cmd.events)
    if cmd.opens_at is not None or cmd.closes_at is not None:
        check_window(cmd.opens_at, cmd.closes_at)
    rules = cmd.rules
    check_dates_and_sizes(cmd.starts_on, cmd.ends_on, rules.min_team_size, rules.max_team_size)
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
    await uow.stage(ContestCreated(contest_id=contest_id, name=cmd.name, kind=cmd.kind, org_id=unit["org_id"],
                                   starts_on=cmd.starts_on))
    trace.get_current_span().set_attribute("contest.id", str(contest_id))
    return await contest_view(conn, await load_contest(conn, contest_id))


async def set_status(uow: UnitOfWork, contest_id: uuid.UUID, status: str, actor: Principal, *,
                     today: date | None = None) -> dict:
    """Move a contest one step along draft → open → closed → judging → published. Only the
    organising unit's staff (or those above it) may; opening needs a registration window that is
    not wholly in the past, and stages RegistrationOpened. Locks the contest row, so it never
    interleaves with a registration. Publication calls this too (status "published")."""
    conn = uow.conn
    contest = await load_contest(conn, contest_id, for_update=True)
    await require_organiser(conn, contest, actor)
    check_transition(contest["status"], status)
    if status == "open":
        check_window(contest["opens_at"], contest["closes_at"])
        check_window_not_past(contest["closes_at"], today or local_today())
    changed_at = datetime.now(timezone.utc)
    await conn.execute("UPDATE contests SET status = $2, status_changed_at = $3, status_changed_by = $4 WHERE id = $1",
                       contest_id, status, changed_at, actor.subject)
    if status == "open":
        await uow.stage(RegistrationOpened(
            contest_id=contest_id, contest_name=contest["name"], org_id=contest["org_id"],
            org_path=contest["org_path"], opens_at=contest["opens_at"], closes_at=contest["closes_at"],
            team_cap=contest["team_cap"] if contest["team_based"] else None))
    trace.get_current_span().set_attribute("contest.status", status)
    return await contest_view(conn, await load_contest(conn, contest_id))
