"""In-app inbox API. `/inbox` is the signed-in person's own: a member (token role `member`,
`sub` = member id) reads and marks read their messages; an officer (a staff token whose `sub`
is the `inapp_user_id` of their entries in the officers directory) reads and marks read their
work items. Staff read a member's inbox at `/members/{id}/inbox` when the member's unit is in
their subtree (they cannot mark it read: reading is the member's act)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from notify import inbox
from unionops.auth import Principal, current_principal
from unionops.problems import Problem

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


def _pool(request: Request):
    return request.app.state.runtime.pool


async def _own_recipients(request: Request, principal: Principal) -> tuple[str, list[uuid.UUID]]:
    """Whose inbox `/inbox` is: the member's own, or the officer entries of a staff account."""
    if principal.role == "member":
        try:
            return "member", [uuid.UUID(principal.subject)]
        except ValueError:
            raise Problem(403, "令牌中的会员编号无效", type_="/problems/forbidden-role") from None
    if principal.role == "service":
        raise Problem(403, "收件箱仅供会员和工作人员本人使用", type_="/problems/forbidden-role")
    async with _pool(request).acquire() as conn:
        ids = await inbox.officer_ids(conn, principal.subject)
    if not ids:
        raise Problem(404, "工作人员名录中没有登记此账号（inapp_user_id），没有站内消息",
                      type_="/problems/officer-not-found")
    return "officer", ids


async def _read(request: Request, kind: str, ids: list[uuid.UUID], unread_only: bool, limit: int) -> InboxOut:
    async with _pool(request).acquire() as conn:
        rows = await inbox.list_messages(conn, ids, kind=kind, unread_only=unread_only, limit=limit)
        unread = await inbox.unread_count(conn, ids, kind=kind)
    return InboxOut(member_id=ids[0] if kind == "member" else None, officer_ids=ids if kind == "officer" else None,
                    unread=unread, messages=[InboxMessageOut(**dict(r)) for r in rows])


@router.get("/inbox", response_model=InboxOut,
            summary="The signed-in member's or officer's in-app messages, newest first")
async def my_inbox(request: Request, unread_only: bool = False, limit: int = Query(100, ge=1, le=500),
                   principal: Principal = Depends(current_principal)):
    kind, ids = await _own_recipients(request, principal)
    return await _read(request, kind, ids, unread_only, limit)


@router.post("/inbox/{message_id}/read", response_model=InboxMessageOut, summary="Mark one of my messages read")
async def mark_read(message_id: uuid.UUID, request: Request, principal: Principal = Depends(current_principal)):
    kind, ids = await _own_recipients(request, principal)
    async with _pool(request).acquire() as conn:
        row = await inbox.mark_read(conn, ids, message_id, kind=kind)
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
        if path is None or not principal.covers(path):
            raise inbox.member_not_found()  # out of scope: exactly as unknown
    return await _read(request, "member", [member_id], unread_only, limit)
