"""In-app inbox API. `/inbox` is the signed-in person's own: a member (token role `member`,
`sub` = member id) reads and marks read their messages; an officer (a staff token whose `sub`
is the `inapp_user_id` of their entries in the officers directory) reads and marks read their
work items. Staff read a member's inbox at `/members/{id}/inbox` when the member's unit is in
their subtree (they cannot mark it read: reading is the member's act)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from notify import queries
from notify.commands import inbox
from unionops.auth import Principal, current_principal
from unionops.dependencies import CommandsDep, PoolDep

router = APIRouter(tags=["inbox"])


class InboxMessageOut(BaseModel):
    id: uuid.UUID
    recipient_kind: Literal["member", "officer"]
    member_id: uuid.UUID = Field(description="收件人：会员编号，或工作人员（officer）编号")
    source_event_type: str
    template: str
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None


class InboxOut(BaseModel):
    member_id: uuid.UUID | None = Field(None, description="会员本人的收件箱")
    officer_ids: list[uuid.UUID] | None = Field(None, description="工作人员账号在名录中的各条登记")
    unread: int
    messages: list[InboxMessageOut]


async def _read(pool, kind: str, ids: list[uuid.UUID], unread_only: bool, limit: int) -> InboxOut:
    rows = await queries.inbox_messages(pool, ids, kind=kind, unread_only=unread_only, limit=limit)
    unread = await queries.unread_count(pool, ids, kind=kind)
    return InboxOut(member_id=ids[0] if kind == "member" else None, officer_ids=ids if kind == "officer" else None,
                    unread=unread, messages=[InboxMessageOut(**dict(r)) for r in rows])


@router.get("/inbox", response_model=InboxOut,
            summary="The signed-in member's or officer's in-app messages, newest first")
async def my_inbox(pool: PoolDep, unread_only: bool = False, limit: int = Query(100, ge=1, le=500),
                   principal: Principal = Depends(current_principal)):
    kind, ids = await queries.own_recipients(pool, principal)
    return await _read(pool, kind, ids, unread_only, limit)


@router.post("/inbox/{message_id}/read", response_model=InboxMessageOut, summary="Mark one of my messages read")
async def mark_read(message_id: uuid.UUID, commands: CommandsDep, principal: Principal = Depends(current_principal)):
    return InboxMessageOut(**await commands.run(lambda uow: inbox.mark_read(uow, message_id, principal)))


@router.get("/members/{member_id}/inbox", response_model=InboxOut,
            summary="A member's in-app messages (staff in scope, or the member themself)")
async def member_inbox(member_id: uuid.UUID, pool: PoolDep, unread_only: bool = False,
                       limit: int = Query(100, ge=1, le=500), principal: Principal = Depends(current_principal)):
    await queries.authorise_member(pool, principal, member_id, "read")
    return await _read(pool, "member", [member_id], unread_only, limit)
