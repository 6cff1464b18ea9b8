"""HTTP API of hardship files (困难职工建档) and the minimum living standards (低保) they are
measured against. The rules live in `welfare.domain.hardship`, the commands in
`welfare.commands.hardship`, the field-level reading rule in `welfare.queries.hardship`."""
from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field

from unionops.auth import ROLES, Principal, current_principal, requires
from unionops.bodies import Body
from unionops.clock import local_today
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep, VaultDep
from unionops.inputs import fen, PersonName
from unionops.pii import Vault
from welfare.api.bodies import ListQuery, ResidentIdNumber
from welfare.api.dependencies import Today
from welfare.commands import hardship
from welfare.domain import hardship as rules
from welfare.queries import hardship as queries
from welfare.settings import Settings

router = APIRouter(tags=["hardship files"])

Relation = Literal["self", "spouse", "child", "parent", "sibling", "grandparent", "grandchild", "other"]
Cause = Literal["illness", "disability", "single_parent", "disaster", "unemployment", "accident", "other"]
FileKind = Literal["worker", "model_worker"]
Level = Literal["deep", "relative", "accident"]
CloseReason = Literal["out_of_hardship", "member_left", "deceased", "duplicate", "other"]

HouseholdFen = fen(le=10_000_000_000)  # up to 1亿元


class HouseholdPersonIn(Body):
    relation: Relation = Field(description="与会员关系：self 本人, spouse 配偶, child 子女, parent 父母, …")
    name: PersonName = Field(min_length=1, max_length=50)
    id_number: ResidentIdNumber = Field(min_length=1, max_length=32,
                                        description="18位居民身份证号（加密存储，只以掩码显示）")
    monthly_income_fen: HouseholdFen
    health_note: str | None = Field(None, max_length=2000, description="健康状况（敏感，加密）")
    disability_note: str | None = Field(None, max_length=2000, description="残疾情况（敏感，加密）")
    employment_note: str | None = Field(None, max_length=2000, description="就业状况（加密）")

class HouseholdIn(Body):
    household: list[HouseholdPersonIn] = Field(min_length=1, max_length=20,
                                               description="家庭成员（含本人）；家庭人口数即其人数")
    causes: list[Cause] = Field(min_length=1, max_length=7, description="致困原因，可多选")
    annual_income_fen: fen(le=10_000_000_000) = Field(description="家庭年总收入（分）")
    unavoidable_costs_fen: fen(le=10_000_000_000) = Field(0, description="年刚性支出，如医疗（分）")
    largest_event_cost_fen: fen(le=10_000_000_000) = Field(0,
                                        description="单一意外事件的支出（分），用于认定意外致困")

    def to_household(self) -> rules.Household:
        return rules.Household(
            people=tuple(rules.HouseholdPerson(**p.model_dump()) for p in self.household),
            causes=tuple(dict.fromkeys(self.causes)), annual_income_fen=self.annual_income_fen,
            unavoidable_costs_fen=self.unavoidable_costs_fen, largest_event_cost_fen=self.largest_event_cost_fen)


class HardshipFileIn(HouseholdIn):
    member_id: uuid.UUID
    file_kind: FileKind = Field("worker", description="worker 困难职工档案, model_worker 困难劳模档案")


class CloseIn(Body):
    reason: CloseReason
    note: str | None = Field(None, max_length=2000)


class StandardIn(Body):
    monthly_fen: fen(gt=0, le=100_000_000) = Field(description="低保标准，每人每月（分）")


class StandardOut(BaseModel):
    org_id: uuid.UUID
    effective_from: date
    monthly_fen: int
    set_by: str


class FileSummaryOut(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    union_id: uuid.UUID
    union_name: str
    file_kind: FileKind
    file_kind_label: str
    level: Level
    level_label: str
    status: Literal["open", "closed"]
    causes: list[str]
    household_size: int
    opened_on: date
    review_due_on: date
    review_overdue: bool
    last_reviewed_on: date | None
    closed_on: date | None
    close_reason: str | None
    retain_until: date | None


class HouseholdPersonOut(BaseModel):
    relation: str
    name: str
    id_number_masked: str
    monthly_income_fen: int
    health_note: str | None
    disability_note: str | None
    employment_note: str | None


class FileOut(FileSummaryOut):
    annual_income_fen: int
    unavoidable_costs_fen: int
    largest_event_cost_fen: int
    per_capita_monthly_fen: int = Field(description="家庭人均月收入，向下取整到分")
    minimum_living_standard_fen: int
    close_note: str | None
    household: list[HouseholdPersonOut]
    notes_visible: Literal["all", "own", "none"] = Field(
        description="all: 有写权限的工作人员；own: 会员本人只见本人的备注；none: 审计等只读角色不见健康等备注")


def _fingerprint(vault: Vault, body: BaseModel) -> dict:
    """What the Idempotency-Key table keeps: a keyed hash, never the household's words."""
    text = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return {"request": vault.lookup_hash("hardship_file_request", text)}


# ---- 低保 ---------------------------------------------------------------------------------------

@router.put("/minimum-living-standards/{org_id}/{effective_from}", response_model=StandardOut,
            summary="Set a unit's minimum living standard (低保) from a date (federation admin, or the unit's own staff)")
async def set_standard(org_id: uuid.UUID, effective_from: date, body: StandardIn, commands: CommandsDep,
                       principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: hardship.set_minimum_living_standard(
        uow, org_id, effective_from, body.monthly_fen, principal))


@router.get("/minimum-living-standards/{org_id}", response_model=list[StandardOut],
            summary="A unit's minimum living standards, newest first: for staff over the unit or below it")
async def standards(org_id: uuid.UUID, db: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.standards(db, org_id, principal)


# ---- files --------------------------------------------------------------------------------------

@router.post("/hardship-files", status_code=201, response_model=FileSummaryOut,
             summary="Open a household's hardship file (困难职工建档); one file per household")
async def open_file(body: HardshipFileIn, commands: CommandsDep, vault: VaultDep, settings: SettingsDep[Settings],
                    principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    household = body.to_household()
    return await commands.create(
        lambda uow: hardship.open_hardship_file(uow, member_id=body.member_id, file_kind=body.file_kind,
                                                household=household, actor=principal, vault=vault,
                                                settings=settings, today=local_today()),
        subject=principal.subject, key=idempotency_key, payload=_fingerprint(vault, body))


class FileListQuery(ListQuery):
    status: Literal["open", "closed"] | None = None
    level: Level | None = None
    member_id: uuid.UUID | None = None
    unit: uuid.UUID | None = Field(None, description="只看该单位及其下级单位的档案")
    sort: Literal["-opened", "review_due_on", "unit"] = Field("-opened", description="-opened 最新建档在前,"
                                                              " review_due_on 复核到期日最早在前, unit 按单位")


class DueQuery(ListQuery):
    within_days: int = Field(30, ge=0, le=366, description="N 天内到期复核（含已逾期）")
    overdue: bool | None = Field(None, description="true：只看已逾期未复核的；false：只看尚未逾期的")
    level: Level | None = None
    unit: uuid.UUID | None = Field(None, description="只看该单位及其下级单位的档案")
    limit: int = Field(500, ge=1, le=5000, description="最多返回条数")


@router.get("/hardship-files", response_model=list[FileSummaryOut],
            summary="Files within the caller's subtree (no income, health or family detail)")
async def list_files(db: PoolDep, today: Today, q: Annotated[FileListQuery, Query()],
                     principal: Principal = Depends(requires("read"))):
    return await queries.list_files(db, principal, today=today, status=q.status, level=q.level,
                                    member_id=q.member_id, unit=q.unit, sort=q.sort, limit=q.limit, offset=q.offset)


@router.get("/hardship-files/due", response_model=list[FileSummaryOut],
            summary="Households due for re-verification (年度复核) within N days, overdue ones included,"
                    " soonest first; with the member's name (masked for auditors) and union")
async def due_files(db: PoolDep, today: Today, q: Annotated[DueQuery, Query()],
                    principal: Principal = Depends(requires("read"))):
    return await queries.list_files(db, principal, today=today, status="open", level=q.level,
                                    due_by=today + timedelta(days=q.within_days), overdue=q.overdue, unit=q.unit,
                                    sort="review_due_on", limit=q.limit, offset=q.offset)


@router.get("/hardship-files/mine", response_model=FileOut,
            summary="A member reads their own file (member token; open file, else the latest closed one)")
async def my_file(db: PoolDep, vault: VaultDep, today: Today, principal: Principal = Depends(requires("self"))):
    return await queries.my_file(db, principal, vault, today)


@router.get("/hardship-files/{file_id}", response_model=FileOut,
            summary="One file as the caller may read it (field-level rule: see notes_visible)")
async def get_file(file_id: uuid.UUID, db: PoolDep, vault: VaultDep, today: Today,
                   principal: Principal = Depends(current_principal)):
    if not ({"read", "self"} & ROLES.get(principal.role, frozenset())):
        principal.require("read")
    return await queries.readable_file_view(db, file_id, principal, vault, today)


@router.post("/hardship-files/{file_id}/reviews", status_code=201, response_model=FileSummaryOut,
             summary="Re-verify a file (年度复核): the level is recomputed; a household out of hardship is closed")
async def review_file(file_id: uuid.UUID, body: HouseholdIn, commands: CommandsDep, vault: VaultDep,
                      settings: SettingsDep[Settings], principal: Principal = Depends(requires("write")),
                      idempotency_key: str | None = Header(None)):
    household = body.to_household()
    return await commands.create(
        lambda uow: hardship.review_hardship_file(uow, file_id, household, actor=principal, vault=vault,
                                                  settings=settings, today=local_today()),
        subject=principal.subject, key=idempotency_key, payload=_fingerprint(vault, body))


@router.post("/hardship-files/{file_id}/close", response_model=FileSummaryOut,
             summary="Close a file for a reason other than the review (kept 10 years)")
async def close_file(file_id: uuid.UUID, body: CloseIn, commands: CommandsDep, vault: VaultDep,
                     settings: SettingsDep[Settings], principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: hardship.close_hardship_file(
        uow, file_id, body.reason, body.note, actor=principal, vault=vault, settings=settings, today=local_today()))
