"""HTTP API of registration (报名): teams of units (with the waiting list and withdrawal) and
individual entries. Organisers see all teams and entries; units below them their own."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Header
from pydantic import Field

from competitions.api.bodies import Out, shaped
from competitions.commands import teams as cmd
from competitions.queries import contests as query
from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep
from unionops.inputs import Flag, UnitName

router = APIRouter()


class TeamMemberIn(Body):
    member_id: uuid.UUID
    leader: Flag = Field(False, description="领队")
    event_id: uuid.UUID | None = Field(None, description="所参加的比赛项目")


class TeamIn(Body):
    union_id: uuid.UUID = Field(description="报名单位")
    name: UnitName | None = Field(None, min_length=1, max_length=100, description="队名，默认“单位名+代表队”")
    members: list[TeamMemberIn] = Field(min_length=1, max_length=100)


class TeamMemberOut(Out):
    member_id: uuid.UUID
    member_name: str
    is_leader: bool
    event_id: uuid.UUID | None
    entry_id: uuid.UUID | None = Field(description="registered teams only: the entry judges score")


class TeamOut(Out):
    id: uuid.UUID
    contest_id: uuid.UUID
    name: str
    union_id: uuid.UUID
    union_name: str
    status: Literal["registered", "waitlisted", "withdrawn"]
    waiting_position: int | None
    leader_member_id: uuid.UUID
    member_ids: list[uuid.UUID]
    members: list[TeamMemberOut]
    registered_at: datetime
    registered_by: str
    promoted_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_by: str | None


class WithdrawalOut(TeamOut):
    promoted_team_ids: list[uuid.UUID]


class EntryIn(Body):
    member_id: uuid.UUID
    event_id: uuid.UUID | None = None


class EntryOut(Out):
    id: uuid.UUID
    contest_id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    union_id: uuid.UUID
    union_name: str
    team_id: uuid.UUID | None
    event_id: uuid.UUID | None
    registered_at: datetime
    registered_by: str


@router.post("/contests/{contest_id}/teams", status_code=201, response_model=TeamOut, tags=["registration"],
             summary="Register a unit's team (单位组队报名); beyond the cap it joins the waiting list")
async def register_team(contest_id: uuid.UUID, body: TeamIn, commands: CommandsDep,
                        principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    team = cmd.RegisterTeam(
        contest_id=contest_id, union_id=body.union_id, name=body.name,
        members=tuple(cmd.TeamMemberIn(m.member_id, m.leader, m.event_id) for m in body.members))
    return await commands.create(lambda uow: shaped(TeamOut, cmd.register_team(uow, team, principal)),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/contests/{contest_id}/teams", response_model=list[TeamOut], tags=["registration"],
            summary="Teams in order of arrival: all for the organisers, the caller's own for units below")
async def list_teams(contest_id: uuid.UUID, pool: PoolDep, status: str | None = None,
                     principal: Principal = Depends(requires("read"))):
    return await query.teams(pool, contest_id, principal, status=status)


@router.get("/contests/{contest_id}/teams/{team_id}", response_model=TeamOut, tags=["registration"])
async def get_team(contest_id: uuid.UUID, team_id: uuid.UUID, pool: PoolDep,
                   principal: Principal = Depends(requires("read"))):
    return await query.team(pool, contest_id, team_id, principal)


@router.post("/contests/{contest_id}/teams/{team_id}/withdraw", response_model=WithdrawalOut, tags=["registration"],
             summary="Withdraw a team (退赛); the first waiting team moves up")
async def withdraw_team(contest_id: uuid.UUID, team_id: uuid.UUID, commands: CommandsDep,
                        principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: cmd.withdraw_team(uow, contest_id, team_id, principal))


# ---- individual entries -----------------------------------------------------------------------------

@router.post("/contests/{contest_id}/entries", status_code=201, response_model=EntryOut, tags=["registration"],
             summary="Register a member as a contestant (个人报名), in contests without teams")
async def register_contestant(contest_id: uuid.UUID, body: EntryIn, commands: CommandsDep,
                              principal: Principal = Depends(requires("write")),
                              idempotency_key: str | None = Header(None)):
    entry = cmd.RegisterContestant(contest_id=contest_id, member_id=body.member_id, event_id=body.event_id)
    return await commands.create(lambda uow: shaped(EntryOut, cmd.register_contestant(uow, entry, principal)),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/contests/{contest_id}/entries", response_model=list[EntryOut], tags=["registration"],
            summary="Entries (one per contestant, what judges score): all for the organisers, own members' below")
async def list_entries(contest_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await query.entries(pool, contest_id, principal)
