"""The officers directory: who receives work items and copies, by role and unit.
Staff manage the officers of their own subtree (`write`), read them with `read`; e-mail addresses
and phones are stored encrypted and shown masked (`email_masked`, `phone_masked`), like members'."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field, field_validator

from notify import queries
from notify.commands import officers
from notify.domain import notices as domain
from notify.domain.officers import email_columns, phone_columns
from unionops.auth import Principal, requires
from unionops.bodies import Body, Patch
from unionops.dependencies import CommandsDep, PoolDep, VaultDep
from unionops.inputs import Flag, PersonName
from unionops.pii import normalise_phone

router = APIRouter(tags=["officers"])

Role = Literal[domain.ROLES]  # type: ignore[valid-type]
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class _Contact(Body):
    @field_validator("phone", check_fields=False)
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return None if v is None else normalise_phone(v)


class OfficerIn(_Contact):
    name: PersonName = Field(min_length=1, max_length=100)
    org_id: uuid.UUID = Field(description="所在组织（工会）")
    roles: list[Role] = Field(min_length=1, description="organisation_officer 组织委员, approver 审批人, "
                                                        "hotline_officer 热线承办, chair 主席 …")
    email: str | None = Field(None, max_length=254, pattern=EMAIL_PATTERN)
    phone: str | None = None
    inapp_user_id: str | None = Field(None, min_length=1, max_length=200, description="系统内账号（令牌 sub）")


class OfficerPatch(_Contact, Patch):
    """Only the fields sent change; `null` clears the e-mail, the phone or the in-app account."""

    clearable = frozenset({"email", "phone", "inapp_user_id"})

    name: PersonName | None = Field(None, min_length=1, max_length=100)
    roles: list[Role] | None = Field(None, min_length=1)
    email: str | None = Field(None, max_length=254, pattern=EMAIL_PATTERN)
    phone: str | None = None
    inapp_user_id: str | None = Field(None, min_length=1, max_length=200)
    active: Flag | None = None


class OfficerOut(BaseModel):
    id: uuid.UUID
    name: str
    org_id: uuid.UUID
    org_path: list[uuid.UUID]
    roles: list[str]
    email_masked: str | None = Field(description="电子邮箱（已脱敏，如 l***@example.cn）")
    phone_masked: str | None
    inapp_user_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


def _roles(roles) -> list[str]:
    return list(dict.fromkeys(roles))


@router.post("/officers", status_code=201, response_model=OfficerOut,
             summary="Add an officer to the directory (Idempotency-Key accepted)")
async def create_officer(body: OfficerIn, commands: CommandsDep, vault: VaultDep,
                         principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    return await commands.create(
        lambda uow: officers.add(uow, name=body.name, org_id=body.org_id, roles=_roles(body.roles),
                                 email=email_columns(vault, body.email), phone=phone_columns(vault, body.phone),
                                 inapp_user_id=body.inapp_user_id, principal=principal),
        subject=principal.subject, key=idempotency_key, payload=_fingerprinted(body, vault))


def _fingerprinted(body: OfficerIn, vault) -> dict:
    """What identifies the request in the Idempotency-Key table: the address and the number as
    keyed hashes, never in clear (the table keeps only a hash of this, but a plain hash of an
    e-mail address can be guessed)."""
    return body.model_dump(mode="json") | {
        field: vault.lookup_hash(field, value) for field, value in (("email", body.email), ("phone", body.phone))
        if value is not None}


@router.get("/officers", response_model=list[OfficerOut], summary="Officers in the caller's subtree")
async def list_officers(pool: PoolDep, role: Role | None = None, org_id: uuid.UUID | None = None,
                        limit: int = Query(200, ge=1, le=1000), principal: Principal = Depends(requires("read"))):
    return await queries.officers(pool, principal, role=role, unit=org_id, limit=limit)


@router.get("/officers/{officer_id}", response_model=OfficerOut)
async def get_officer(officer_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.officer(pool, officer_id, principal)


@router.patch("/officers/{officer_id}", response_model=OfficerOut,
              summary="Change roles, addresses or activity (set active=false when an officer leaves)")
async def patch_officer(officer_id: uuid.UUID, body: OfficerPatch, commands: CommandsDep, vault: VaultDep,
                        principal: Principal = Depends(requires("write"))):
    fields = body.model_dump(exclude_unset=True)
    changes: dict = {}
    for key in ("name", "inapp_user_id", "active"):
        if key in fields:
            changes[key] = fields[key]
    if fields.get("roles") is not None:
        changes["roles"] = _roles(fields["roles"])
    if "email" in fields:
        changes |= email_columns(vault, fields["email"])
    if "phone" in fields:
        changes |= phone_columns(vault, fields["phone"])
    return await commands.run(lambda uow: officers.change(uow, officer_id, changes, principal))
