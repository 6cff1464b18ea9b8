"""Registration (报名): a unit's team under the contest's rules, the waiting list beyond the team
cap, withdrawal with the first waiting team moving up, and individual entries for contests
without teams. Every command locks the contest row first, so registrations, withdrawals and
status changes of one contest happen one after another and the cap holds under races."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import asyncpg
from opentelemetry import trace

from competitions.domain.contests import UNKNOWN_MEMBER, UNKNOWN_UNIT, check_registration_open
from competitions.domain.teams import (
    TeamMemberCandidate, check_eligible, check_team_members, check_team_shape, check_team_women,
    check_teams_per_unit, check_unit_in_contest, contestant_registered, place_for_new_team, promotions, rules_of,
    team_registered,
)
from competitions.queries.contests import load_contest, team_view
from contracts.events import TeamWaitlisted, TeamWithdrawn
from unionops.auth import Principal
from unionops.problems import Problem, RuleViolation
from unionops.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class TeamMemberIn:
    member_id: uuid.UUID
    is_leader: bool = False
    event_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RegisterTeam:
    contest_id: uuid.UUID
    union_id: uuid.UUID                    # the registering unit (参赛单位)
    members: tuple[TeamMemberIn, ...]
    name: str | None = None                # default: 〈unit〉代表队


@dataclass(frozen=True)
class RegisterContestant:
    contest_id: uuid.UUID
    member_id: uuid.UUID
    event_id: uuid.UUID | None = None


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def _check_event_ids(conn: asyncpg.Connection, contest_id: uuid.UUID,
                           wanted: list[tuple[str, uuid.UUID | None]]) -> None:
    known = {r["id"] for r in await conn.fetch("SELECT id FROM contest_events WHERE contest_id = $1", contest_id)}
    for field, event_id in wanted:
        if event_id is not None and event_id not in known:
            raise RuleViolation("本竞赛无此比赛项目", field=field, kind="unknown-event")


async def _enter_members(uow: UnitOfWork, contest: asyncpg.Record, team_id: uuid.UUID,
                         actor: Principal) -> list[dict]:
    """One scoreable entry per member of a team that now holds a place, each staged as
    ContestantRegistered."""
    conn = uow.conn
    rows = await conn.fetch(
        "SELECT member_id, member_name, gender, union_id, union_name, org_path, event_id FROM contest_team_members"
        " WHERE team_id = $1 ORDER BY is_leader DESC, member_name, member_id", team_id)
    entries = [(uuid.uuid4(), r) for r in rows]
    await conn.executemany(
        "INSERT INTO contest_entries (id, contest_id, member_id, member_name, gender, union_id, union_name, org_path,"
        " registered_by, team_id, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        [(entry_id, contest["id"], r["member_id"], r["member_name"], r["gender"], r["union_id"], r["union_name"],
          r["org_path"], actor.subject, team_id, r["event_id"]) for entry_id, r in entries])
    await uow.stage(*(contestant_registered(contest, entry_id, r["member_id"]) for entry_id, r in entries))
    return [{"entry_id": entry_id, "member_id": r["member_id"]} for entry_id, r in entries]


async def register_team(uow: UnitOfWork, cmd: RegisterTeam, actor: Principal) -> dict:
    """报名: a unit of the contest's subtree fields a team. Beyond the team cap the team waits;
    any rule broken refuses the whole team and changes nothing."""
    conn = uow.conn
    contest = await load_contest(conn, cmd.contest_id, for_update=True)
    if not contest["team_based"]:
        raise RuleViolation("本竞赛为个人报名，不接受队伍报名", kind="not-team-based")
    unit = await conn.fetchrow("SELECT org_id, org_path, name FROM org_units WHERE org_id = $1", cmd.union_id)
    if unit is None or not actor.covers(unit["org_path"]):  # out of scope: exactly as unknown
        raise RuleViolation(UNKNOWN_UNIT, field="union_id", kind="unknown-unit")
    check_registration_open(contest["status"], contest["opens_at"], contest["closes_at"], _now())
    check_unit_in_contest(contest["org_id"], unit["org_path"])
    rules = rules_of(contest)
    form = [TeamMemberCandidate(member_id=m.member_id, is_leader=m.is_leader) for m in cmd.members]
    check_team_shape(rules, form)

    known = {r["member_id"]: r for r in await conn.fetch(
        "SELECT member_id, name, gender, union_id, union_name, org_path, status FROM members"
        " WHERE member_id = ANY($1::uuid[])", [m.member_id for m in cmd.members])}
    candidates = [
        TeamMemberCandidate(member_id=m.member_id, is_leader=m.is_leader,
                            gender=known[m.member_id]["gender"] if m.member_id in known else None,
                            org_path=tuple(known[m.member_id]["org_path"]) if m.member_id in known else None,
                            status=known[m.member_id]["status"] if m.member_id in known else None)
        for m in cmd.members]
    check_team_members(contest["org_id"], unit["org_id"], candidates)
    check_team_women(rules, candidates)
    await _check_event_ids(conn, contest["id"], [(f"members.{i}.event_id", m.event_id)
                                                 for i, m in enumerate(cmd.members)])

    taken = await conn.fetch(
        "SELECT member_id FROM contest_team_members WHERE contest_id = $1 AND member_id = ANY($2::uuid[])"
        " UNION SELECT member_id FROM contest_entries WHERE contest_id = $1 AND member_id = ANY($2::uuid[])",
        contest["id"], [m.member_id for m in cmd.members])
    if taken:
        names = "、".join(known[r["member_id"]]["name"] for r in taken)
        raise RuleViolation(f"每人每项竞赛只能参加一支队伍：{names} 已在其他队伍中", field="members", status=409,
                            kind="already-in-a-team")
    check_teams_per_unit(rules, await conn.fetchval(
        "SELECT count(*) FROM contest_teams WHERE contest_id = $1 AND union_id = $2 AND status <> 'withdrawn'",
        contest["id"], unit["org_id"]))

    registered = await conn.fetchval(
        "SELECT count(*) FROM contest_teams WHERE contest_id = $1 AND status = 'registered'", contest["id"])
    status = place_for_new_team(rules, registered)
    team_id = uuid.uuid4()
    name = cmd.name or f"{unit['name']}代表队"
    leader = next(m.member_id for m in cmd.members if m.is_leader)
    member_ids = [m.member_id for m in cmd.members]
    await conn.execute(
        "INSERT INTO contest_teams (id, contest_id, name, union_id, union_name, org_path, leader_member_id, member_ids,"
        " status, registered_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        team_id, contest["id"], name, unit["org_id"], unit["name"], unit["org_path"], leader, member_ids, status,
        actor.subject)
    await conn.executemany(
        "INSERT INTO contest_team_members (team_id, contest_id, member_id, member_name, gender, union_id, union_name,"
        " org_path, is_leader, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        [(team_id, contest["id"], m.member_id, known[m.member_id]["name"], known[m.member_id]["gender"],
          known[m.member_id]["union_id"], known[m.member_id]["union_name"], known[m.member_id]["org_path"],
          m.is_leader, m.event_id) for m in cmd.members])
    team = {"id": team_id, "name": name, "union_id": unit["org_id"], "org_path": unit["org_path"],
            "leader_member_id": leader, "member_ids": member_ids}
    if status == "registered":
        await _enter_members(uow, contest, team_id, actor)
        await uow.stage(team_registered(contest, team))
    else:
        position = await conn.fetchval(
            "SELECT count(*) FROM contest_teams WHERE contest_id = $1 AND status = 'waitlisted'", contest["id"])
        await uow.stage(TeamWaitlisted(contest_id=contest["id"], contest_name=contest["name"], team_id=team_id,
                                       team_name=name, union_id=unit["org_id"], org_path=unit["org_path"],
                                       leader_member_id=leader, member_ids=member_ids, waiting_position=position))
    span = trace.get_current_span()
    span.set_attribute("contest.team.id", str(team_id))
    span.set_attribute("contest.team.status", status)
    return await team_view(conn, team_id)


async def withdraw_team(uow: UnitOfWork, contest_id: uuid.UUID, team_id: uuid.UUID,
                        actor: Principal) -> dict:
    """退赛: a team gives up its place (or its place in the queue) before judging starts; when it
    held a place, the first waiting team moves up in the same transaction."""
    conn = uow.conn
    contest = await load_contest(conn, contest_id, for_update=True)
    team = await conn.fetchrow("SELECT id, union_id, org_path, status, member_ids FROM contest_teams"
                               " WHERE id = $1 AND contest_id = $2", team_id, contest_id)
    if team is None or not actor.covers(team["org_path"]):  # out of scope: exactly as unknown
        raise Problem(404, "本竞赛无此参赛队伍")
    if contest["status"] not in ("open", "closed"):
        raise RuleViolation("评审开始后不能退赛", status=409, kind="withdrawal-closed")
    if team["status"] == "withdrawn":
        raise RuleViolation("该队伍已退赛", status=409, kind="already-withdrawn")
    if await conn.fetchval("SELECT 1 FROM judge_scores s JOIN contest_entries e ON e.id = s.entry_id"
                           " WHERE e.team_id = $1 LIMIT 1", team_id):
        raise RuleViolation("该队伍已有评分，不能退赛", status=409, kind="withdrawal-closed")
    now = _now()
    await conn.execute("DELETE FROM contest_entries WHERE team_id = $1", team_id)
    await conn.execute("DELETE FROM contest_team_members WHERE team_id = $1", team_id)
    await conn.execute("UPDATE contest_teams SET status = 'withdrawn', withdrawn_at = $2, withdrawn_by = $3"
                       " WHERE id = $1", team_id, now, actor.subject)
    await uow.stage(TeamWithdrawn(contest_id=contest_id, team_id=team_id, union_id=team["union_id"],
                                  org_path=team["org_path"], member_ids=team["member_ids"]))

    promoted: list[uuid.UUID] = []
    if team["status"] == "registered":
        registered = await conn.fetchval(
            "SELECT count(*) FROM contest_teams WHERE contest_id = $1 AND status = 'registered'", contest_id)
        waiting = [r["id"] for r in await conn.fetch(
            "SELECT id FROM contest_teams WHERE contest_id = $1 AND status = 'waitlisted' ORDER BY seq", contest_id)]
        for next_id in promotions(rules_of(contest), registered, waiting):
            moved = await conn.fetchrow(
                "UPDATE contest_teams SET status = 'registered', promoted_at = $2 WHERE id = $1"
                " RETURNING id, name, union_id, org_path, leader_member_id, member_ids", next_id, now)
            await _enter_members(uow, contest, next_id, actor)
            await uow.stage(team_registered(contest, moved, promoted_from_waiting_list=True))
            promoted.append(next_id)
    return await team_view(conn, team_id) | {"promoted_team_ids": promoted}


async def register_contestant(uow: UnitOfWork, cmd: RegisterContestant, actor: Principal) -> dict:
    """个人报名: in a contest without teams, a member of the caller's subtree enters a contest of
    their own unit or one above it, while registration is open."""
    conn = uow.conn
    contest = await load_contest(conn, cmd.contest_id)
    member = await conn.fetchrow(
        "SELECT member_id, union_id, union_name, org_path, name, gender, status FROM members WHERE member_id = $1",
        cmd.member_id)
    if member is None or not actor.covers(member["org_path"]):  # out of scope: exactly as unknown
        raise RuleViolation(UNKNOWN_MEMBER, field="member_id", kind="unknown-member")
    if contest["team_based"]:
        raise RuleViolation("本竞赛以单位组队报名，请提交队伍报名", kind="team-based-contest")
    check_registration_open(contest["status"], contest["opens_at"], contest["closes_at"], _now())
    if member["status"] != "active":
        raise RuleViolation(f"该会员会籍状态为“{member['status']}”，不能参赛", field="member_id", kind="not-a-member")
    check_eligible(contest["org_id"], member["org_path"])
    await _check_event_ids(conn, contest["id"], [("event_id", cmd.event_id)])
    entry_id = uuid.uuid4()
    # One entry per member per contest; ON CONFLICT also settles two registrations racing.
    registered_at = await conn.fetchval(
        "INSERT INTO contest_entries (id, contest_id, member_id, member_name, gender, union_id, union_name, org_path,"
        " registered_by, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (contest_id, member_id) DO NOTHING RETURNING registered_at",
        entry_id, contest["id"], member["member_id"], member["name"], member["gender"], member["union_id"],
        member["union_name"], member["org_path"], actor.subject, cmd.event_id,
    )
    if registered_at is None:
        raise RuleViolation("该会员已报名本竞赛", field="member_id", status=409, kind="already-registered")
    await uow.stage(contestant_registered(contest, entry_id, member["member_id"]))
    trace.get_current_span().set_attribute("contest.entry.id", str(entry_id))
    return {"id": entry_id, "contest_id": contest["id"], "member_id": member["member_id"],
            "member_name": member["name"], "union_id": member["union_id"], "union_name": member["union_name"],
            "team_id": None, "event_id": cmd.event_id, "registered_at": registered_at, "registered_by": actor.subject}
