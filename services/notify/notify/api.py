"""HTTP API of the notify service: templates and delivery status (staff and machine clients)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field

from notify.channels import ChannelRenderer, mask_name
from notify.dispatcher import Dispatcher
from notify.templates import TemplateError, TemplateRegistry
from unionops.auth import Principal, requires
from unionops.bodies import Body as RequestBody
from unionops.inputs import count
from unionops.problems import Problem, RuleViolation

router = APIRouter()

DeliveryStatus = Literal["pending", "sending", "delivered", "failed", "undeliverable"]


class TemplateOut(BaseModel):
    name: str
    version: int
    event_type: str
    description: str
    channel: str = "email"


class PreviewIn(RequestBody):
    version: count(ge=1, le=10000) | None = Field(None, description="默认为当前版本")
    channel: Literal["email", "sms", "webhook", "inapp"] = Field("email", description="按哪个渠道的版式预览")
    language: Literal["zh-CN", "en"] = Field("zh-CN", description="该语言无此模板时回退为中文")
    context: dict[str, Any] = Field(default_factory=dict, description="覆盖示例数据中的字段")


class PreviewOut(BaseModel):
    name: str
    version: int
    channel: str
    language: str
    subject: str
    body: str


class DeliveryOut(BaseModel):
    id: uuid.UUID
    source_event_id: uuid.UUID
    source_event_type: str
    member_id: uuid.UUID | None          # None for an officer's delivery
    recipient_kind: Literal["member", "officer", "bot"] = "member"
    recipient_id: uuid.UUID | None = None
    channel: str
    template: str
    template_version: int
    context: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    failure_reason: str | None           # also why an `undeliverable` one could not go (no_address)
    created_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None
    undeliverable_at: datetime | None = None  # no address on the channel: settled, not failed


_COLUMNS = ("id, source_event_id, source_event_type, member_id, channel, template, template_version, context, status,"
            " attempts, next_attempt_at, last_error, failure_reason, created_at, delivered_at, failed_at, undeliverable_at,"
            " org_path,"
            " recipient_kind, recipient_id")


def _templates(request: Request) -> TemplateRegistry:
    return request.app.state.runtime.component(TemplateRegistry)


def _renderer(request: Request) -> ChannelRenderer:
    return request.app.state.runtime.component(Dispatcher).renderer


@router.get("/templates", response_model=list[TemplateOut], tags=["templates"],
            summary="The current version of every message template")
async def list_templates(request: Request, principal: Principal = Depends(requires("read"))):
    return [TemplateOut(name=s.name, version=s.version, event_type=s.event_type, description=s.description)
            for s in _templates(request).list()]


@router.post("/templates/{name}/preview", response_model=PreviewOut, tags=["templates"],
             summary="Render a template with sample data (nothing is sent)")
async def preview_template(name: str, request: Request, body: PreviewIn | None = Body(None),
                           principal: Principal = Depends(requires("read"))):
    body = body or PreviewIn()
    registry = _templates(request)
    try:
        registry.get(name, body.version)
    except TemplateError:
        raise Problem(404, f"模板 {name} 不存在", type_="/problems/template-not-found")
    spec = registry.get(name, body.version)
    data = {**spec.sample, **body.context}
    if body.channel == "webhook" and isinstance(data.get("name"), str):
        data["name"] = mask_name(data["name"])  # as sent: a group chat is not private
    try:
        rendered = _renderer(request).render(spec.name, spec.version, body.channel, data, body.language)
    except TemplateError as exc:
        raise RuleViolation(f"模板渲染失败：{exc}", field="context", kind="template-render") from None
    return PreviewOut(name=spec.name, version=spec.version, channel=body.channel, language=body.language,
                      subject=rendered.subject, body=rendered.body)


@router.get("/deliveries", response_model=list[DeliveryOut], tags=["deliveries"],
            summary="Deliveries to members in the caller's subtree, newest first")
async def list_deliveries(request: Request, member_id: uuid.UUID | None = None,
                          source_event_id: uuid.UUID | None = None, status: DeliveryStatus | None = None,
                          recipient_kind: Literal["member", "officer", "bot"] | None = None,
                          recipient_id: uuid.UUID | None = None,
                          limit: int = Query(100, ge=1, le=1000),
                          principal: Principal = Depends(requires("read"))):
    # `org_path @> [org]` is Principal.covers in SQL, so the limit applies after the scope.
    rows = await request.app.state.runtime.pool.fetch(
        f"SELECT {_COLUMNS} FROM deliveries WHERE org_path @> ARRAY[$1]::uuid[]"
        " AND ($2::uuid IS NULL OR member_id = $2) AND ($3::uuid IS NULL OR source_event_id = $3)"
        " AND ($4::text IS NULL OR status = $4) AND ($6::text IS NULL OR recipient_kind = $6)"
        " AND ($7::uuid IS NULL OR recipient_id = $7) ORDER BY created_at DESC, id LIMIT $5",
        principal.org_id, member_id, source_event_id, status, limit, recipient_kind, recipient_id)
    return [dict(r) for r in rows if principal.covers(r["org_path"])]


@router.get("/deliveries/{delivery_id}", response_model=DeliveryOut, tags=["deliveries"])
async def get_delivery(delivery_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    row = await request.app.state.runtime.pool.fetchrow(f"SELECT {_COLUMNS} FROM deliveries WHERE id = $1",
                                                        delivery_id)
    if row is None or not principal.covers(row["org_path"] or ()):
        raise Problem(404, "投递记录不存在或不在您的管辖范围内")
    return dict(row)
