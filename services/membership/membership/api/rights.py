"""HTTP API of the rights-protection rates (维权建制率) of a subtree and their yearly targets."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from membership.api.bodies import RightsTargetsIn
from membership.commands import rights as commands_rights
from membership.queries import rights
from unionops.auth import Principal, requires
from unionops.clock import local_today
from unionops.dependencies import CommandsDep, PoolDep
from unionops.inputs import YearParam

router = APIRouter(tags=["rights"])


@router.get("/rights/coverage/{org_id}",
            summary="A subtree's rights-protection rates against their targets (集体合同、职代会、厂务公开、调解组织)")
async def get_rights_coverage(org_id: uuid.UUID, pool: PoolDep, year: YearParam | None = None,
                              principal: Principal = Depends(requires("read"))):
    return await rights.rights_coverage(pool, org_id, year or local_today().year, principal)


@router.put("/organisations/{org_id}/rights-targets/{year}", tags=["coverage"],
            summary="Set a subtree's yearly rights-protection targets in percent — by its superiors")
async def set_rights_targets(org_id: uuid.UUID, year: YearParam, body: RightsTargetsIn, commands: CommandsDep,
                             principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: commands_rights.set_rights_targets(
        uow, org_id, year, body.model_dump(), principal))
