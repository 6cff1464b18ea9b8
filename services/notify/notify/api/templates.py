"""Message templates: the current version of each, and a preview with sample data."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field

from notify.domain.templates import ChannelRenderer, TemplateError, TemplateRegistry, mask_name
from unionops.auth import Principal, requires
from unionops.bodies import Body as RequestBody
from unionops.dependencies import component
from unionops.inputs import count
from unionops.problems import Problem, RuleViolation

router = APIRouter()

Templates = Annotated[TemplateRegistry, component(TemplateRegistry)]
Renderer = Annotated[ChannelRenderer, component(ChannelRenderer)]  # the dispatcher's own


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


@router.get("/templates", response_model=list[TemplateOut], tags=["templates"],
            summary="The current version of every message template")
async def list_templates(templates: Templates, principal: Principal = Depends(requires("read"))):
    return [TemplateOut(name=s.name, version=s.version, event_type=s.event_type, description=s.description)
            for s in templates.list()]


@router.post("/templates/{name}/preview", response_model=PreviewOut, tags=["templates"],
             summary="Render a template with sample data (nothing is sent)")
async def preview_template(name: str, templates: Templates, renderer: Renderer,
                           body: PreviewIn | None = Body(None), principal: Principal = Depends(requires("read"))):
    body = body or PreviewIn()
    try:
        spec = templates.get(name, body.version)
    except TemplateError:
        raise Problem(404, f"模板 {name} 不存在", type_="/problems/template-not-found")
    data = {**spec.sample, **body.context}
    if body.channel == "webhook" and isinstance(data.get("name"), str):
        data["name"] = mask_name(data["name"])  # as sent: a group chat is not private
    try:
        rendered = renderer.render(spec.name, spec.version, body.channel, data, body.language)
    except TemplateError as exc:
        raise RuleViolation(f"模板渲染失败：{exc}", field="context", kind="template-render") from None
    return PreviewOut(name=spec.name, version=spec.version, channel=body.channel, language=body.language,
                      subject=rendered.subject, body=rendered.body)
