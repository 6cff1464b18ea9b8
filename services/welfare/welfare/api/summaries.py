"""Year-end summaries a district files upward: welfare (households, aid paid, cases), the 12351
hotline and labour-dispute mediation."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from unionops.auth import Principal, requires
from unionops.dependencies import PoolDep, SettingsDep
from unionops.inputs import YearParam
from welfare.api.dependencies import Today
from welfare.queries import summaries as queries
from welfare.settings import Settings

router = APIRouter(prefix="/summaries", tags=["summaries"])


@router.get("/welfare/{org_id}", summary="Year-end welfare summary of a subtree: households by level, aid paid"
                                         " by campaign and kind, cases by outcome")
async def welfare_summary(org_id: uuid.UUID, db: PoolDep, today: Today, year: YearParam | None = None,
                          principal: Principal = Depends(requires("read"))):
    return await queries.welfare_summary(db, org_id, year or today.year, principal, today)


@router.get("/hotline/{org_id}", summary="12351 hotline summary of a subtree for a year: tickets by category,"
                                         " on time, overdue, satisfaction")
async def hotline_summary(org_id: uuid.UUID, db: PoolDep, today: Today, settings: SettingsDep[Settings],
                          year: YearParam | None = None, principal: Principal = Depends(requires("read"))):
    return await queries.hotline_summary(db, org_id, year or today.year, principal, today,
                                         settings.welfare_timezone)


@router.get("/disputes/{org_id}", summary="Labour-dispute mediation of a subtree for a year: disputes by kind and"
                                         " outcome, mediated successfully, collective, referred to legal aid")
async def disputes_summary(org_id: uuid.UUID, db: PoolDep, today: Today, year: YearParam | None = None,
                           principal: Principal = Depends(requires("read"))):
    return await queries.disputes_summary(db, org_id, year or today.year, principal, today)
