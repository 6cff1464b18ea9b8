"""Coverage figures for the office and dashboards."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from membership import queries
from membership.commands import coverage
from membership.domain.rights import figures_day
from membership.queries import rights
from unionops.auth import Principal, requires
from unionops.clock import local_today
from unionops.dependencies import CommandsDep, PoolDep
from unionops.inputs import YearParam

router = APIRouter(tags=["coverage"])


@router.get("/coverage/{org_id}", summary="Coverage of a subtree for a year (统计)")
async def get_coverage(org_id: uuid.UUID, pool: PoolDep, year: YearParam | None = None,
                       principal: Principal = Depends(requires("read"))):
    year, today = year or local_today().year, local_today()
    figures = await queries.coverage(pool, org_id, year, principal)  # 404 outside the caller's subtree
    return {**figures, "rights": await rights.rates(pool, org_id, year, figures_day(year, today))}


@router.post("/coverage/summaries", status_code=202, summary="Publish the coverage summaries now")
async def publish_now(commands: CommandsDep, principal: Principal = Depends(requires("admin"))):
    return {"summaries": await commands.run(coverage.publish_summaries)}
