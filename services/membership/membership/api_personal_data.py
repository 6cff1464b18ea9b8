"""HTTP API of erasure (PIPL 删除个人信息): a federation administrator destroys a member's data key.
Their contact details become unreadable everywhere they went (outbox, topic, notify)."""
from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from membership import contacts, members
from unionops.auth import Principal, requires

router = APIRouter()


class ErasureOut(BaseModel):
    member_id: uuid.UUID
    data_key_destroyed: bool
    outbox_rows_deleted: int
    erased_at: datetime


@router.delete("/members/{member_id}/personal-data", response_model=ErasureOut, tags=["members"],
               summary="Erase a member's contact details everywhere: their data key is destroyed (admin)")
async def erase_personal_data(member_id: uuid.UUID, request: Request,
                              principal: Principal = Depends(requires("admin"))):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        row = await members.load_member(conn, member_id, principal, for_update=True)
        result = await contacts.erase_personal_data(conn, row["id"], principal.subject)
        await members.add_file_entry(conn, row["id"], "personal_data_erased", row["union_id"],
                                     {"data_key_destroyed": result["data_key_destroyed"]}, principal.subject)
        return result
