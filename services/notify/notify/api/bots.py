"""Group-chat robots (DingTalk / WeCom style): staff register the bots of their
own subtree (`write`) and read them (`read`). A bot receives only the notice kinds it subscribed
to. The signing secret is stored encrypted and never returned (`has_secret`); the URL carries the
robot's access token and is returned masked."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field, SecretStr, field_validator

from notify import queries
from notify.commands import bots
from notify.domain import bots as bot_rules
from notify.domain.templates import TemplateRegistry
from unionops.auth import Principal, requires
from unionops.bodies import Body, Patch
from unionops.dependencies import CommandsDep, PoolDep, VaultDep, component
from unionops.inputs import Flag, UnitName
from unionops.problems import RuleViolation

router = APIRouter(tags=["webhook bots"])

Flavour = Literal["dingtalk", "wecom"]
NoticeKind = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
URL_DESCRIPTION = "机器人地址：完整的 https 地址（含 access_token / key）；仅本机地址可用 http"
KINDS_DESCRIPTION = "订阅的通知类型（模板名，须有群机器人模板），如 member_joined、case_opened；默认不订阅"


class _BotFields(Body):
    @field_validator("url", check_fields=False)
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else bot_rules.check_url(v)

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


Templates = Annotated[TemplateRegistry, component(TemplateRegistry)]


def _check_kinds(templates: TemplateRegistry, kinds: list[str]) -> None:
    allowed = bot_rules.webhook_kinds(templates)
    unknown = [k for k in kinds if k not in allowed]
    if unknown:
        raise RuleViolation(f"通知类型 {'、'.join(unknown)} 不存在或没有群机器人模板（可订阅：{'、'.join(allowed)}）",
                            field="notice_kinds", kind="unknown-notice-kind")


@router.post("/webhook-bots", status_code=201, response_model=BotOut,
             summary="Register a group-chat robot of a unit (Idempotency-Key accepted)")
async def create_bot(body: BotIn, commands: CommandsDep, vault: VaultDep, templates: Templates,
                     principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    _check_kinds(templates, body.notice_kinds)
    secret = body.secret.get_secret_value() if body.secret else None

    async def register(uow):
        return _out(await bots.register(
            uow, name=body.name, org_unit_id=body.org_unit_id, officer_group=body.officer_group, flavour=body.flavour,
            **bot_rules.url_columns(vault, body.url), secret_enc=bot_rules.secret_column(vault, secret),
            notice_kinds=body.notice_kinds, principal=principal))

    # The replay check compares request fingerprints: the secret enters only as a keyed hash.
    payload = {**body.model_dump(mode="json"),
               "secret": vault.lookup_hash("webhook_secret", secret) if secret else None}
    return await commands.create(register, subject=principal.subject, key=idempotency_key, payload=payload)


@router.get("/webhook-bots", response_model=list[BotOut], summary="Group-chat robots in the caller's subtree")
async def list_bots(pool: PoolDep, org_unit_id: uuid.UUID | None = None, notice_kind: str | None = None,
                    limit: int = Query(200, ge=1, le=1000), principal: Principal = Depends(requires("read"))):
    return [_out(r) for r in await queries.bots(pool, principal, unit=org_unit_id, notice_kind=notice_kind,
                                                limit=limit)]


@router.get("/webhook-bots/{bot_id}", response_model=BotOut)
async def get_bot(bot_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return _out(await queries.bot(pool, bot_id, principal))


@router.patch("/webhook-bots/{bot_id}", response_model=BotOut,
              summary="Change a robot's name, address, secret, subscriptions, or switch it off (enabled=false)")
async def patch_bot(bot_id: uuid.UUID, body: BotPatch, commands: CommandsDep, vault: VaultDep, templates: Templates,
                    principal: Principal = Depends(requires("write"))):
    fields = body.model_dump(exclude_unset=True, exclude={"secret"})
    if body.notice_kinds is not None:
        _check_kinds(templates, body.notice_kinds)
    changes: dict = {k: fields[k] for k in ("name", "flavour", "notice_kinds", "enabled") if k in fields}
    if fields.get("url") is not None:
        changes.update(bot_rules.url_columns(vault, fields["url"]))
    if "secret" in body.model_fields_set:
        changes["secret_enc"] = bot_rules.secret_column(vault, body.secret.get_secret_value() if body.secret else None)
    return _out(await commands.run(lambda uow: bots.change(uow, bot_id, changes, principal)))
