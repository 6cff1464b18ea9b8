"""Coverage figures for the office and dashboards."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request

from membership import coverage
from unionops.auth import Principal, requires
from unionops.inputs import YearParam
from unionops.clock import local_today
from unionops.problems import Problem

router = APIRouter(tags=["coverage"])


@router.get("/coverage/{org_id}", summary="Coverage of a subtree for a year (统计)")
async def get_coverage(org_id: uuid.UUID, request: Request, year: YearParam | None = None,
                       principal: Principal = Depends(requires("read"))):
    year = year or local_today().year
    pool = request.app.state.runtime.pool
    unit = await pool.fetchrow("SELECT name, level, path FROM org_units WHERE id = $1", org_id)
    if unit is None or not principal.covers(unit["path"]):
        raise Problem(404, "组织不存在或不在您的管辖范围内")
    async with pool.acquire() as conn:
        figures = await coverage.figures(conn, org_id, year)
    return {"org_name": unit["name"], "level": unit["level"], **figures}


@router.post("/coverage/summaries", status_code=202, summary="Publish the coverage summaries now")
async def publish_now(request: Request, principal: Principal = Depends(requires("admin"))):
    n = await coverage.publish_summaries(request.app.state.runtime.pool)
    return {"summaries": n}
