"""HTTP API of 安康杯 checklists, unit scoring and titles, and of the awards granted. The
organising unit's staff (and those above it) manage its checklists; anyone else gets 404."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field

from competitions.api.dependencies import business_day
from competitions.commands import awards as cmd
from competitions.queries import awards as query
from competitions.settings import Settings
from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep
from unionops.inputs import Limit, Year, YearParam

router = APIRouter()


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


@router.post("/ankang-cup/checklists", status_code=201, response_model=ChecklistOut, tags=["awards"],
             summary="Set a year's 安康杯 checklist (items, full marks, threshold)")
async def create_checklist(body: ChecklistIn, commands: CommandsDep, settings: SettingsDep[Settings],
                           principal: Principal = Depends(requires("write")),
                           idempotency_key: str | None = Header(None)):
    checklist = cmd.CreateChecklist(org_id=body.org_id, year=body.year, threshold=body.threshold,
                                    items=[(i.code, i.title, i.max_points) for i in body.items])
    return await commands.create(lambda uow: cmd.create_checklist(uow, checklist, principal, settings),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/ankang-cup/checklists/{checklist_id}", response_model=ChecklistOut, tags=["awards"])
async def get_checklist(checklist_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await query.checklist_view(pool, checklist_id, principal)


@router.post("/ankang-cup/checklists/{checklist_id}/units/{unit_id}/scores", response_model=SheetOut,
             tags=["awards"], summary="Score items of a unit (each item once); returns the unit's sheet")
async def score_unit(checklist_id: uuid.UUID, unit_id: uuid.UUID, body: ScoreSheetIn, commands: CommandsDep,
                     principal: Principal = Depends(requires("write"))):
    scores = [(s.item, s.points) for s in body.scores]
    return await commands.run(lambda uow: cmd.score_unit(uow, checklist_id, unit_id, scores, principal))


@router.get("/ankang-cup/checklists/{checklist_id}/units/{unit_id}", response_model=SheetOut, tags=["awards"],
            summary="A unit's scoring sheet: scores, total, missing items, threshold reached")
async def get_sheet(checklist_id: uuid.UUID, unit_id: uuid.UUID, pool: PoolDep,
                    principal: Principal = Depends(requires("read"))):
    return await query.unit_sheet(pool, checklist_id, unit_id, principal)


@router.post("/ankang-cup/checklists/{checklist_id}/units/{unit_id}/award", status_code=201, response_model=AwardOut,
             tags=["awards"], summary="Grant the 安康杯 title: every item scored, threshold reached, "
                                      "not won within five years")
async def grant_ankang(checklist_id: uuid.UUID, unit_id: uuid.UUID, commands: CommandsDep,
                       settings: SettingsDep[Settings], principal: Principal = Depends(requires("write")),
                       idempotency_key: str | None = Header(None)):
    today = business_day(settings)
    return await commands.create(
        lambda uow: cmd.grant_ankang(uow, checklist_id, unit_id, principal, today=today,
                                     no_repeat_years=settings.ankang_no_repeat_years),
        subject=principal.subject, key=idempotency_key, payload={})


@router.get("/awards", response_model=list[AwardOut], tags=["awards"],
            summary="Awards granted to units and members of the caller's subtree")
async def list_awards(pool: PoolDep, year: YearParam | None = None, award: str | None = None, limit: Limit = 200,
                      principal: Principal = Depends(requires("read"))):
    return await query.awards(pool, principal, year=year, award=award, limit=min(max(limit, 1), 1000))
