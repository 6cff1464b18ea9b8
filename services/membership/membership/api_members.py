"""HTTP API of members."""
from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from membership import members
from membership.bodies import EMAIL_PATTERN, Body
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.problems import Problem

router = APIRouter()


class MemberIn(Body):
    union_id: uuid.UUID
    name: str = Field(min_length=2, max_length=50)
    id_number: str = Field(min_length=1, max_length=32, description="18位居民身份证号")
    phone: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=200, pattern=EMAIL_PATTERN)
    employer: str | None = Field(None, max_length=200)
    is_migrant_worker: bool = False
    joined_on: date | None = None


class MemberOut(BaseModel):
    id: uuid.UUID
    union_id: uuid.UUID
    union_name: str
    name: str
    gender: str
    birth_date: date
    id_number_masked: str
    phone_masked: str | None
    email: str | None
    employer: str | None
    is_migrant_worker: bool
    status: str
    joined_on: date


@router.post("/members", status_code=201, response_model=MemberOut, tags=["members"],
             summary="Admit a worker as a member, real-name (实名入会)")
async def admit_member(body: MemberIn, request: Request, principal: Principal = Depends(requires("write")),
                       idempotency_key: str | None = Header(None)):
    cmd = members.AdmitMember(
        union_id=body.union_id, name=body.name, id_number=body.id_number, phone=body.phone, email=body.email,
        employer=body.employer, is_migrant_worker=body.is_migrant_worker, joined_on=body.joined_on or date.today(),
    )
    vault = request.app.state.runtime.vault
    # The fingerprint must not keep the raw ID number: hash it with the same keyed hash.
    payload = body.model_dump(mode="json") | {"id_number": vault.lookup_hash("id_number", body.id_number.upper())}
    return await idempotency.create(request, principal, idempotency_key, payload,
                                    lambda conn: members.admit_member(conn, cmd, principal, vault))


@router.get("/members/{member_id}", response_model=MemberOut, tags=["members"])
async def get_member(member_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    row = await request.app.state.runtime.pool.fetchrow(
        "SELECT m.id, m.union_id, o.name AS union_name, o.path, m.name, m.gender, m.birth_date, m.id_number_masked,"
        " m.phone_masked, m.email, m.employer, m.is_migrant_worker, m.status, m.joined_on"
        " FROM members m JOIN org_units o ON o.id = m.union_id WHERE m.id = $1", member_id)
    if row is None or not principal.covers(row["path"]):
        raise Problem(404, "会员不存在或不在您的管辖范围内")
    return dict(row)


@router.get("/members/{member_id}/file", tags=["members"], summary="The member file (会员档案), in order")
async def member_file(member_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    pool = request.app.state.runtime.pool
    path = await pool.fetchval(
        "SELECT o.path FROM members m JOIN org_units o ON o.id = m.union_id WHERE m.id = $1", member_id)
    if path is None or not principal.covers(path):
        raise Problem(404, "会员不存在或不在您的管辖范围内")
    rows = await pool.fetch(
        "SELECT e.occurred_at, e.kind, e.union_id, o.name AS union_name, e.detail FROM member_file_entries e"
        " JOIN org_units o ON o.id = e.union_id WHERE e.member_id = $1 ORDER BY e.id", member_id)
    return {"member_id": member_id, "entries": [dict(r) for r in rows]}
