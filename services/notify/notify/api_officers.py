"""HTTP API of the officers directory: who receives work items and copies, by role and unit.
Staff manage the officers of their own subtree (`write`), read them with `read`; e-mail addresses
and phones are stored encrypted and shown masked (`email_masked`, `phone_masked`), like members'."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field, field_validator

from notify import domain, officers
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.bodies import Body, Patch
from unionops.inputs import Flag, PersonName
from unionops.pii import normalise_phone
from unionops.problems import Problem, RuleViolation

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
async def create_officer(body: OfficerIn, request: Request, principal: Principal = Depends(requires("write")),
                         idempotency_key: str | None = Header(None)):
    runtime = request.app.state.runtime

    async def command(conn):
        path = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", body.org_id)
        if path is None or not principal.covers(path):  # out of scope: exactly as unknown
            raise RuleViolation("组织不存在或尚未同步到通知服务", field="org_id", kind="unknown-org")
        try:
            row = await officers.create(
                conn, runtime.vault, name=body.name, org_id=body.org_id, org_path=path, roles=_roles(body.roles),
                email=body.email, phone=body.phone, inapp_user_id=body.inapp_user_id, created_by=principal.subject)
        except Exception as exc:  # the unique in-app account
            if type(exc).__name__ == "UniqueViolationError":
                raise Problem(409, "该系统账号已登记为其他工作人员", type_="/problems/duplicate") from None
            raise
        return dict(row)

    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"), command)


@router.get("/officers", response_model=list[OfficerOut], summary="Officers in the caller's subtree")
async def list_officers(request: Request, role: Role | None = None, org_id: uuid.UUID | None = None,
                        limit: int = Query(200, ge=1, le=1000), principal: Principal = Depends(requires("read"))):
    async with request.app.state.runtime.pool.acquire() as conn:
        rows = await officers.list_in(conn, principal.org_id, role=role, unit=org_id, limit=limit)
    return [dict(r) for r in rows if principal.covers(r["org_path"])]


@router.get("/officers/{officer_id}", response_model=OfficerOut)
async def get_officer(officer_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    async with request.app.state.runtime.pool.acquire() as conn:
        row = await officers.get(conn, officer_id)
    if row is None or not principal.covers(row["org_path"]):
        raise Problem(404, "工作人员不存在或不在您的管辖范围内")
    return dict(row)


@router.patch("/officers/{officer_id}", response_model=OfficerOut,
              summary="Change roles, addresses or activity (set active=false when an officer leaves)")
async def patch_officer(officer_id: uuid.UUID, body: OfficerPatch, request: Request,
                        principal: Principal = Depends(requires("write"))):
    runtime = request.app.state.runtime
    fields = body.model_dump(exclude_unset=True)
    changes: dict = {}
    for key in ("name", "inapp_user_id", "active"):
        if key in fields:
            changes[key] = fields[key]
    if fields.get("roles") is not None:
        changes["roles"] = _roles(fields["roles"])
    if "email" in fields:
        changes |= officers.email_columns(runtime.vault, fields["email"])
    if "phone" in fields:
        changes |= officers.phone_columns(runtime.vault, fields["phone"])
    async with runtime.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT org_path FROM officers WHERE id = $1 FOR UPDATE", officer_id)
        if row is None or not principal.covers(row["org_path"]):
            raise Problem(404, "工作人员不存在或不在您的管辖范围内")
        try:
            updated = await officers.update(conn, officer_id, changes)
        except Exception as exc:
            if type(exc).__name__ == "UniqueViolationError":
                raise Problem(409, "该系统账号已登记为其他工作人员", type_="/problems/duplicate") from None
            raise
    return dict(updated)
