"""HTTP API of commendations: 安康杯 checklists, scoring and titles; nomination batches for
五一劳动奖章 / 五一劳动奖状 / 工人先锋号 / 劳模 with their quotas; the awards granted.

The organising unit's staff (and those above it) manage its checklists and batches; anyone else
gets 404."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field, model_validator

from competitions import awards
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.inputs import Flag, Limit, UnitName, Year, YearParam
from unionops.clock import local_today

router = APIRouter()

AwardKind = Literal["may_day_medal", "may_day_certificate", "worker_pioneer", "model_worker"]


# ---- 安康杯 ---------------------------------------------------------------------------------------

class ChecklistItemIn(Body):
    code: str = Field(min_length=1, max_length=40, description="项目编号，如 A1")
    title: str = Field(min_length=1, max_length=200, description="检查项目，如“安全生产责任制落实”")
    max_points: Decimal = Field(max_digits=7, decimal_places=2, description="该项满分")


class ChecklistIn(Body):
    org_id: uuid.UUID = Field(description="主办单位（其工作人员评分）")
    year: Year
    threshold: Decimal = Field(max_digits=7, decimal_places=2, description="达标分数线（默认须在 90–95 分之间）")
    items: list[ChecklistItemIn] = Field(min_length=1, max_length=200)


class ChecklistItemOut(BaseModel):
    code: str
    title: str
    max_points: str


class ChecklistOut(BaseModel):
    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str
    year: int
    threshold: str
    items: list[ChecklistItemOut]
    created_by: str
    created_at: datetime


class ItemScoreIn(Body):
    item: str = Field(min_length=1, max_length=40, description="项目编号")
    points: Decimal = Field(max_digits=7, decimal_places=2)


class ScoreSheetIn(Body):
    scores: list[ItemScoreIn] = Field(min_length=1, max_length=200)


class SheetItemOut(ChecklistItemOut):
    points: str | None
    scored_by: str | None
    scored_at: datetime | None


class SheetOut(BaseModel):
    checklist_id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str
    year: int
    items: list[SheetItemOut]
    total: str
    threshold: str
    missing: list[str] = Field(description="尚未评分的项目编号")
    reaches_threshold: bool
    award_id: uuid.UUID | None


class AwardOut(BaseModel):
    id: uuid.UUID
    award: str
    title: str
    year: int
    union_id: uuid.UUID | None
    union_name: str | None
    member_id: uuid.UUID | None
    member_name: str | None
    org_id: uuid.UUID = Field(description="授予（主办/推荐）单位")
    checklist_id: uuid.UUID | None
    batch_id: uuid.UUID | None
    total: str | None = Field(description="安康杯总分")
    granted_on: date
    granted_by: str
    granted_at: datetime


def _settings(request: Request):
    return request.app.state.runtime.settings


def _today(request: Request) -> date:
    return local_today(_settings(request).competitions_timezone)


@router.post("/ankang-cup/checklists", status_code=201, response_model=ChecklistOut, tags=["awards"],
             summary="Set a year's 安康杯 checklist (items, full marks, threshold)")
async def create_checklist(body: ChecklistIn, request: Request, principal: Principal = Depends(requires("write")),
                           idempotency_key: str | None = Header(None)):
    cmd = awards.CreateChecklist(org_id=body.org_id, year=body.year, threshold=body.threshold,
                                 items=[(i.code, i.title, i.max_points) for i in body.items])
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: awards.create_checklist(conn, cmd, principal, _settings(request)))


@router.get("/ankang-cup/checklists/{checklist_id}", response_model=ChecklistOut, tags=["awards"])
async def get_checklist(checklist_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    async with request.app.state.runtime.pool.acquire() as conn:
        return await awards.checklist_view(conn, checklist_id, principal)


@router.post("/ankang-cup/checklists/{checklist_id}/units/{unit_id}/scores", response_model=SheetOut,
             tags=["awards"], summary="Score items of a unit (each item once); returns the unit's sheet")
async def score_unit(checklist_id: uuid.UUID, unit_id: uuid.UUID, body: ScoreSheetIn, request: Request,
                     principal: Principal = Depends(requires("write"))):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await awards.score_unit(conn, checklist_id, unit_id, [(s.item, s.points) for s in body.scores],
                                       principal)


@router.get("/ankang-cup/checklists/{checklist_id}/units/{unit_id}", response_model=SheetOut, tags=["awards"],
            summary="A unit's scoring sheet: scores, total, missing items, threshold reached")
async def get_sheet(checklist_id: uuid.UUID, unit_id: uuid.UUID, request: Request,
                    principal: Principal = Depends(requires("read"))):
    async with request.app.state.runtime.pool.acquire() as conn:
        return await awards.unit_sheet(conn, checklist_id, unit_id, principal)


@router.post("/ankang-cup/checklists/{checklist_id}/units/{unit_id}/award", status_code=201, response_model=AwardOut,
             tags=["awards"], summary="Grant the 安康杯 title: every item scored, threshold reached, "
                                      "not won within five years")
async def grant_ankang(checklist_id: uuid.UUID, unit_id: uuid.UUID, request: Request,
                       principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    no_repeat = _settings(request).ankang_no_repeat_years
    return await idempotency.create(
        request, principal, idempotency_key, {},
        lambda conn: awards.grant_ankang(conn, checklist_id, unit_id, principal, today=_today(request),
                                         no_repeat_years=no_repeat))


@router.get("/awards", response_model=list[AwardOut], tags=["awards"],
            summary="Awards granted to units and members of the caller's subtree")
async def list_awards(request: Request, year: YearParam | None = None, award: str | None = None, limit: Limit = 200,
                      principal: Principal = Depends(requires("read"))):
    return await awards.list_awards(request.app.state.runtime.pool, principal, year=year, award=award,
                                    limit=min(max(limit, 1), 1000))


# ---- nominations ----------------------------------------------------------------------------------

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


def _quotas(request: Request):
    return _settings(request).nomination_quotas


@router.post("/nomination-batches", status_code=201, response_model=BatchOut, tags=["nominations"],
             summary="Start a unit's nomination list for an award and year")
async def create_batch(body: BatchIn, request: Request, principal: Principal = Depends(requires("write")),
                       idempotency_key: str | None = Header(None)):
    async def command(conn):
        batch_id = await awards.create_batch(conn, body.org_id, body.award, body.year, principal)
        return await awards.batch_view(conn, batch_id, principal, _quotas(request))

    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"), command)


@router.get("/nomination-batches/{batch_id}", response_model=BatchOut, tags=["nominations"],
            summary="The list, its nominees and each quota against it")
async def get_batch(batch_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    async with request.app.state.runtime.pool.acquire() as conn:
        return await awards.batch_view(conn, batch_id, principal, _quotas(request))


@router.post("/nomination-batches/{batch_id}/nominees", status_code=201, response_model=NomineeOut,
             tags=["nominations"], summary="Nominate a member (individual awards) or a unit/team (collective)")
async def add_nominee(batch_id: uuid.UUID, body: NomineeIn, request: Request,
                      principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    cmd = awards.Nominate(member_id=body.member_id, union_id=body.union_id, team_name=body.team_name,
                          front_line=body.front_line, unit_head=body.unit_head)
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: awards.add_nominee(conn, batch_id, cmd, principal))


@router.delete("/nomination-batches/{batch_id}/nominees/{nominee_id}", status_code=204, tags=["nominations"])
async def remove_nominee(batch_id: uuid.UUID, nominee_id: uuid.UUID, request: Request,
                         principal: Principal = Depends(requires("write"))):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        await awards.remove_nominee(conn, batch_id, nominee_id, principal)
    return Response(status_code=204)


@router.post("/nomination-batches/{batch_id}/submit", response_model=BatchOut, tags=["nominations"],
             summary="上报: refused, naming each failing quota with its numbers, unless all hold")
async def submit_batch(batch_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("write"))):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await awards.submit_batch(conn, batch_id, principal, _quotas(request))


@router.post("/nomination-batches/{batch_id}/grant", response_model=BatchOut, tags=["nominations"],
             summary="授予: every nominee of a submitted list (one AwardGranted each)")
async def grant_batch(batch_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("write"))):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await awards.grant_batch(conn, batch_id, principal, today=_today(request),
                                        configured_quotas=_quotas(request))
