"""HTTP API of nomination batches for 五一劳动奖章 / 五一劳动奖状 / 工人先锋号 / 劳模: the list, its
nominees, each quota against it, submission (上报) and the grant (授予). The nominating unit's
staff (and those above it) manage its batches; anyone else gets 404."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, Field, model_validator

from competitions.api.dependencies import business_day
from competitions.commands import awards as cmd
from competitions.queries import awards as query
from competitions.settings import Settings
from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep
from unionops.inputs import Flag, UnitName, Year

router = APIRouter()

AwardKind = Literal["may_day_medal", "may_day_certificate", "worker_pioneer", "model_worker"]


class BatchIn(Body):
    org_id: uuid.UUID = Field(description="推荐单位")
    award: AwardKind = Field(description="may_day_medal 五一劳动奖章, may_day_certificate 五一劳动奖状,"
                                         " worker_pioneer 工人先锋号, model_worker 劳动模范")
    year: Year


class NomineeIn(Body):
    member_id: uuid.UUID | None = Field(None, description="个人奖项：被推荐会员")
    union_id: uuid.UUID | None = Field(None, description="集体奖项：被推荐单位（或班组所在单位）")
    team_name: UnitName | None = Field(None, min_length=1, max_length=100, description="集体奖项：班组名称")
    front_line: Flag = Field(description="一线职工（产业工人）/ 基层一线集体")
    unit_head: Flag = Field(False, description="单位负责人（个人奖项）")

    @model_validator(mode="after")
    def _one_nominee(self):
        if (self.member_id is None) == (self.union_id is None):
            raise ValueError("须且只能指定 member_id（个人）或 union_id（集体）之一")
        return self


class NomineeOut(BaseModel):
    id: uuid.UUID
    batch_id: uuid.UUID
    member_id: uuid.UUID | None
    union_id: uuid.UUID
    name: str
    gender: str | None
    migrant_worker: bool
    front_line: bool
    unit_head: bool
    nominated_by: str
    nominated_at: datetime


class QuotaOut(BaseModel):
    attribute: str
    label: str
    bound: Literal["min", "max"]
    percent: int
    count: int
    total: int
    share: str
    holds: bool


class BatchOut(BaseModel):
    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str
    award: str
    title: str
    year: int
    status: Literal["draft", "submitted", "granted"]
    created_by: str
    created_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    granted_by: str | None
    granted_at: datetime | None
    nominees: list[NomineeOut]
    quotas: list[QuotaOut]
    quotas_hold: bool


@router.post("/nomination-batches", status_code=201, response_model=BatchOut, tags=["nominations"],
             summary="Start a unit's nomination list for an award and year")
async def create_batch(body: BatchIn, commands: CommandsDep, settings: SettingsDep[Settings],
                       principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    async def command(uow):
        batch_id = await cmd.create_batch(uow, body.org_id, body.award, body.year, principal)
        return await query.batch_view(uow.conn, batch_id, principal, settings.nomination_quotas)

    return await commands.create(command, subject=principal.subject, key=idempotency_key,
                                 payload=body.model_dump(mode="json"))


@router.get("/nomination-batches/{batch_id}", response_model=BatchOut, tags=["nominations"],
            summary="The list, its nominees and each quota against it")
async def get_batch(batch_id: uuid.UUID, pool: PoolDep, settings: SettingsDep[Settings],
                    principal: Principal = Depends(requires("read"))):
    return await query.batch_view(pool, batch_id, principal, settings.nomination_quotas)


@router.post("/nomination-batches/{batch_id}/nominees", status_code=201, response_model=NomineeOut,
             tags=["nominations"], summary="Nominate a member (individual awards) or a unit/team (collective)")
async def add_nominee(batch_id: uuid.UUID, body: NomineeIn, commands: CommandsDep,
                      principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    nominee = cmd.Nominate(member_id=body.member_id, union_id=body.union_id, team_name=body.team_name,
                           front_line=body.front_line, unit_head=body.unit_head)
    return await commands.create(lambda uow: cmd.add_nominee(uow, batch_id, nominee, principal),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.delete("/nomination-batches/{batch_id}/nominees/{nominee_id}", status_code=204, tags=["nominations"])
async def remove_nominee(batch_id: uuid.UUID, nominee_id: uuid.UUID, commands: CommandsDep,
                         principal: Principal = Depends(requires("write"))):
    await commands.run(lambda uow: cmd.remove_nominee(uow, batch_id, nominee_id, principal))
    return Response(status_code=204)


@router.post("/nomination-batches/{batch_id}/submit", response_model=BatchOut, tags=["nominations"],
             summary="上报: refused, naming each failing quota with its numbers, unless all hold")
async def submit_batch(batch_id: uuid.UUID, commands: CommandsDep, settings: SettingsDep[Settings],
                       principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: cmd.submit_batch(uow, batch_id, principal, settings.nomination_quotas))


@router.post("/nomination-batches/{batch_id}/grant", response_model=BatchOut, tags=["nominations"],
             summary="授予: every nominee of a submitted list (one AwardGranted each)")
async def grant_batch(batch_id: uuid.UUID, commands: CommandsDep, settings: SettingsDep[Settings],
                      principal: Principal = Depends(requires("write"))):
    today = business_day(settings)
    return await commands.run(lambda uow: cmd.grant_batch(uow, batch_id, principal, today=today,
                                                          configured_quotas=settings.nomination_quotas))
