"""HTTP API of erasure (PIPL 删除个人信息): a federation administrator destroys a member's data key.
Their contact details become unreadable everywhere they went (outbox, topic, notify)."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from membership.api.bodies import ErasureOut
from membership.commands import members
from unionops.auth import Principal, requires
from unionops.dependencies import CommandsDep

router = APIRouter()


@router.delete("/members/{member_id}/personal-data", response_model=ErasureOut, tags=["members"],
               summary="Erase a member's contact details everywhere: their data key is destroyed (admin)")
async def erase_personal_data(member_id: uuid.UUID, commands: CommandsDep,
                              principal: Principal = Depends(requires("admin"))):
    return await commands.run(lambda uow: members.erase_personal_data(uow, member_id, principal))
