"""In-app inbox API. A member (token role `member`, `sub` = member id) reads and marks read
their own messages at `/inbox`; staff read a member's inbox at `/members/{id}/inbox` when the
member's unit is in their subtree (they cannot mark it read: reading is the member's act)."""
from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from notify import inbox
from unionops.auth import Principal, current_principal
from unionops.problems import Problem

router = APIRouter(tags=["inbox"])


class InboxMessageOut(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    source_event_type: str
    template: str
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None


class InboxOut(BaseModel):
    member_id: uuid.UUID
    unread: int
    messages: list[InboxMessageOut]


def _pool(request: Request):
    return request.app.state.runtime.pool


def _own_member_id(principal: Principal) -> uuid.UUID:
    if principal.role != "member":
        raise Problem(403, "收件箱仅供会员本人使用；工作人员请使用 /members/{id}/inbox",
                      type_="/problems/forbidden-role")
    try:
        return uuid.UUID(principal.subject)
    except ValueError:
        raise Problem(403, "令牌中的会员编号无效", type_="/problems/forbidden-role") from None


async def _read(request: Request, member_id: uuid.UUID, unread_only: bool, limit: int) -> InboxOut:
    async with _pool(request).acquire() as conn:
        rows = await inbox.list_messages(conn, member_id, unread_only=unread_only, limit=limit)
        unread = await inbox.unread_count(conn, member_id)
    return InboxOut(member_id=member_id, unread=unread, messages=[InboxMessageOut(**dict(r)) for r in rows])


@router.get("/inbox", response_model=InboxOut, summary="The signed-in member's in-app messages, newest first")
async def my_inbox(request: Request, unread_only: bool = False, limit: int = Query(100, ge=1, le=500),
                   principal: Principal = Depends(current_principal)):
    return await _read(request, _own_member_id(principal), unread_only, limit)


@router.post("/inbox/{message_id}/read", response_model=InboxMessageOut, summary="Mark one of my messages read")
async def mark_read(message_id: uuid.UUID, request: Request, principal: Principal = Depends(current_principal)):
    member_id = _own_member_id(principal)
    async with _pool(request).acquire() as conn:
        row = await inbox.mark_read(conn, member_id, message_id)
    if row is None:
        raise Problem(404, "消息不存在", type_="/problems/inbox-message-not-found")
    return InboxMessageOut(**dict(row))


@router.get("/members/{member_id}/inbox", response_model=InboxOut,
            summary="A member's in-app messages (staff in scope, or the member themself)")
async def member_inbox(member_id: uuid.UUID, request: Request, unread_only: bool = False,
                       limit: int = Query(100, ge=1, le=500), principal: Principal = Depends(current_principal)):
    if not principal.is_member(member_id):
        principal.require("read")
        async with _pool(request).acquire() as conn:
            path = await inbox.member_org_path(conn, member_id)
        if path is None:
            raise Problem(404, "未找到该会员", type_="/problems/member-not-found")
        principal.require_scope(path)
    return await _read(request, member_id, unread_only, limit)
