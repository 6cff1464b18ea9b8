"""HTTP API of the group-chat robots (DingTalk / WeCom style): staff register the bots of their
own subtree (`write`) and read them (`read`). A bot receives only the notice kinds it subscribed
to. The signing secret is stored encrypted and never returned (`has_secret`); the URL carries the
robot's access token and is returned masked."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field, SecretStr, field_validator

from notify import bots
from notify.templates import TemplateRegistry
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.bodies import Body, Patch
from unionops.inputs import Flag, UnitName
from unionops.problems import Problem, RuleViolation

router = APIRouter(tags=["webhook bots"])

Flavour = Literal["dingtalk", "wecom"]
NoticeKind = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
URL_DESCRIPTION = "机器人地址：完整的 https 地址（含 access_token / key）；仅本机地址可用 http"
KINDS_DESCRIPTION = "订阅的通知类型（模板名，须有群机器人模板），如 member_joined、case_opened；默认不订阅"


class _BotFields(Body):
    @field_validator("url", check_fields=False)
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else bots.check_url(v)

    @field_validator("notice_kinds", check_fields=False)
    @classmethod
    def _kinds(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else list(dict.fromkeys(v))


class BotIn(_BotFields):
    name: UnitName = Field(min_length=1, max_length=100, description="群名称，如 区总工会工作群")
    org_unit_id: uuid.UUID = Field(description="所属组织（工会）")
    officer_group: str | None = Field(None, min_length=1, max_length=50,
                                      description="工作组（如 审批人群）；不填为该组织本身的工作群")
    flavour: Flavour = Field("dingtalk", description="dingtalk 钉钉, wecom 企业微信")
    url: str = Field(min_length=1, description=URL_DESCRIPTION)
    secret: SecretStr | None = Field(None, min_length=1, max_length=200, description="加签密钥（只写，不回显）")
    notice_kinds: list[NoticeKind] = Field(default_factory=list, max_length=50, description=KINDS_DESCRIPTION)


class BotPatch(_BotFields, Patch):
    clearable = frozenset({"secret"})  # null: no longer signed

    name: UnitName | None = Field(None, min_length=1, max_length=100)
    flavour: Flavour | None = None
    url: str | None = Field(None, min_length=1, description=URL_DESCRIPTION)
    secret: SecretStr | None = Field(None, min_length=1, max_length=200, description="新密钥；null 表示不再加签")
    notice_kinds: list[NoticeKind] | None = Field(None, max_length=50, description=KINDS_DESCRIPTION)
    enabled: Flag | None = None


class BotOut(BaseModel):
    id: uuid.UUID
    name: str
    org_unit_id: uuid.UUID
    org_path: list[uuid.UUID]
    officer_group: str | None
    flavour: str
    url_masked: str = Field(description="地址，查询参数（access_token 等）已遮盖")
    has_secret: bool
    notice_kinds: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime


def _out(row) -> dict:
    """The answer for a bot row: the URL masked, the secret only as a flag. Built explicitly
    because the Idempotency-Key store keeps (and replays) exactly this."""
    return BotOut(**{k: row[k] for k in BotOut.model_fields}).model_dump(mode="json")


def _check_kinds(request: Request, kinds: list[str]) -> None:
    allowed = bots.webhook_kinds(request.app.state.runtime.component(TemplateRegistry))
    unknown = [k for k in kinds if k not in allowed]
    if unknown:
        raise RuleViolation(f"通知类型 {'、'.join(unknown)} 不存在或没有群机器人模板（可订阅：{'、'.join(allowed)}）",
                            field="notice_kinds", kind="unknown-notice-kind")


def _duplicate() -> Problem:
    return Problem(409, "该组织（工作组）已登记群机器人", type_="/problems/duplicate")


@router.post("/webhook-bots", status_code=201, response_model=BotOut,
             summary="Register a group-chat robot of a unit (Idempotency-Key accepted)")
async def create_bot(body: BotIn, request: Request, principal: Principal = Depends(requires("write")),
                     idempotency_key: str | None = Header(None)):
    runtime = request.app.state.runtime
    _check_kinds(request, body.notice_kinds)
    secret = body.secret.get_secret_value() if body.secret else None

    async def command(conn):
        path = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", body.org_unit_id)
        if path is None or not principal.covers(path):  # out of scope: exactly as unknown
            raise RuleViolation("组织不存在或尚未同步到通知服务", field="org_unit_id", kind="unknown-org")
        try:
            row = await bots.create(
                conn, name=body.name, org_unit_id=body.org_unit_id, org_path=path, officer_group=body.officer_group,
                flavour=body.flavour, **bots.url_columns(runtime.vault, body.url),
                secret_enc=runtime.vault.encrypt("webhook_secret", secret) if secret else None,
                notice_kinds=body.notice_kinds, created_by=principal.subject)
        except asyncpg.UniqueViolationError:  # one bot per unit and officer group
            raise _duplicate() from None
        return _out(row)

    # The replay check compares request fingerprints: the secret enters only as a keyed hash.
    payload = {**body.model_dump(mode="json"),
               "secret": runtime.vault.lookup_hash("webhook_secret", secret) if secret else None}
    return await idempotency.create(request, principal, idempotency_key, payload, command)


@router.get("/webhook-bots", response_model=list[BotOut], summary="Group-chat robots in the caller's subtree")
async def list_bots(request: Request, org_unit_id: uuid.UUID | None = None, notice_kind: str | None = None,
                    limit: int = Query(200, ge=1, le=1000), principal: Principal = Depends(requires("read"))):
    async with request.app.state.runtime.pool.acquire() as conn:
        rows = await bots.list_in(conn, principal.org_id, unit=org_unit_id, notice_kind=notice_kind, limit=limit)
    return [_out(r) for r in rows if principal.covers(r["org_path"])]


@router.get("/webhook-bots/{bot_id}", response_model=BotOut)
async def get_bot(bot_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    async with request.app.state.runtime.pool.acquire() as conn:
        row = await bots.get(conn, bot_id)
    if row is None or not principal.covers(row["org_path"]):
        raise Problem(404, "群机器人不存在或不在您的管辖范围内")
    return _out(row)


@router.patch("/webhook-bots/{bot_id}", response_model=BotOut,
              summary="Change a robot's name, address, secret, subscriptions, or switch it off (enabled=false)")
async def patch_bot(bot_id: uuid.UUID, body: BotPatch, request: Request,
                    principal: Principal = Depends(requires("write"))):
    runtime = request.app.state.runtime
    fields = body.model_dump(exclude_unset=True, exclude={"secret"})
    if body.notice_kinds is not None:
        _check_kinds(request, body.notice_kinds)
    changes: dict = {k: fields[k] for k in ("name", "flavour", "notice_kinds", "enabled") if k in fields}
    if fields.get("url") is not None:
        changes.update(bots.url_columns(runtime.vault, fields["url"]))
    if "secret" in body.model_fields_set:
        changes["secret_enc"] = (runtime.vault.encrypt("webhook_secret", body.secret.get_secret_value())
                                 if body.secret else None)
    async with runtime.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT org_path FROM webhook_bots WHERE id = $1 FOR UPDATE", bot_id)
        if row is None or not principal.covers(row["org_path"]):
            raise Problem(404, "群机器人不存在或不在您的管辖范围内")
        updated = await bots.update(conn, bot_id, changes)
    return _out(updated)
