"""The union's statistical report (工会组织和会员统计), as JSON or as the report form (.xlsx)."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Response

from membership.adapters.report_forms import XLSX, workbook
from membership.domain.statistics import report_form
from membership.queries.statistics import statistical_report
from unionops.auth import Principal, requires
from unionops.clock import local_today
from unionops.dependencies import PoolDep
from unionops.inputs import YearParam

router = APIRouter(tags=["coverage"])


@router.get("/statistics/{org_id}", summary="工会组织和会员统计: the statistical report of a subtree for a year",
            responses={200: {"content": {XLSX: {}}}})
async def get_statistics(org_id: uuid.UUID, pool: PoolDep, year: YearParam | None = None,
                         format: Literal["json", "xlsx"] = "json",
                         principal: Principal = Depends(requires("read"))):
    today = local_today()
    report = await statistical_report(pool, org_id, year or today.year, principal, today)
    if format == "json":
        return report
    name = f"statistics-{report['year']}-{org_id}.xlsx"
    return Response(workbook("工会组织和会员统计", report_form(report)), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
