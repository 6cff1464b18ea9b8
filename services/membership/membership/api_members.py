"""HTTP API of members: admission, profile, status, transfers and the member file."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from typing import Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field, model_validator

from membership import members, transfer_requests, transfers
from membership.bodies import EMAIL_PATTERN
from unionops.bodies import Body, Patch
from unionops.inputs import Flag, PersonName, UnitName
from membership.domain import EDUCATION, HONOURS
from unionops import idempotency
from unionops.auth import Principal, current_principal, requires
from unionops.clock import local_today

router = APIRouter()


class MemberIn(Body):
    union_id: uuid.UUID
    name: PersonName = Field(min_length=2, max_length=50)
    id_number: str = Field(min_length=1, max_length=32, description="18位居民身份证号")
    phone: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=200, pattern=EMAIL_PATTERN)
    employer: UnitName | None = Field(None, max_length=200)
    is_migrant_worker: Flag = False
    joined_on: date | None = None


class Honour(BaseModel):
    code: str
    label: str


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
    occupation: str | None = None
    education: str | None = None
    is_migrant_worker: bool
    honours: list[Honour] = []
    status: str
    status_reason: str | None = None
    joined_on: date
    left_on: date | None = None
    rejoined_after_days: int | None = Field(None, description="set on a re-admission: days since the member left")


HonourCode = Literal[tuple(HONOURS)]
EducationCode = Literal[tuple(EDUCATION)]
class ProfilePatch(Patch):
    """Only the fields sent change; `null` clears phone, e-mail, employer, occupation, education."""

    clearable = frozenset({"phone", "email", "employer", "occupation", "education"})

    name: PersonName | None = Field(None, min_length=2, max_length=50)
    phone: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=200, pattern=EMAIL_PATTERN)
    employer: UnitName | None = Field(None, max_length=200)
    occupation: str | None = Field(None, max_length=100)
    education: EducationCode | None = Field(None, description=str(EDUCATION))
    is_migrant_worker: Flag | None = None
    honours: list[HonourCode] | None = Field(None, max_length=20, description=f"the full list; codes: {HONOURS}")

    @model_validator(mode="after")
    def _not_empty(self):
        if not self.model_fields_set:
            raise ValueError("请至少提供一个要修改的字段")
        return self


class StatusChangeIn(Body):
    status: Literal["active", "retained", "left"]
    reason: Literal["retired", "unemployed", "employer_closed", "reactivated", "resigned", "deceased", "expelled",
                    "administrative"] = Field(
        description="retained: retired/unemployed/employer_closed; active: reactivated;"
                    " left: resigned/deceased/expelled/administrative (administrative: federation admins only)")
    effective_on: date | None = None


class TransferIn(Body):
    to_union_id: uuid.UUID | None = Field(None, description="the receiving grassroots union; null: resolved from the"
                                                            " employer's credit code, else the residence area")
    new_employer: UnitName = Field(min_length=2, max_length=200)
    new_employer_credit_code: str | None = Field(None, max_length=18, description="统一社会信用代码")
    residence_region_code: str | None = Field(None, pattern=r"^\d{6}$", description="居住地行政区划代码")
    effective_on: date | None = None


@router.post("/members", status_code=201, response_model=MemberOut, tags=["members"],
             summary="Admit a worker as a member, real-name (实名入会)")
async def admit_member(body: MemberIn, request: Request, principal: Principal = Depends(requires("write")),
                       idempotency_key: str | None = Header(None)):
    cmd = members.AdmitMember(
        union_id=body.union_id, name=body.name, id_number=body.id_number, phone=body.phone, email=body.email,
        employer=body.employer, is_migrant_worker=body.is_migrant_worker, joined_on=body.joined_on or local_today(),
    )
    vault = request.app.state.runtime.vault
    # The fingerprint must not keep the raw ID number: hash it with the same keyed hash.
    payload = body.model_dump(mode="json") | {"id_number": vault.lookup_hash("id_number", body.id_number.upper())}
    return await idempotency.create(request, principal, idempotency_key, payload,
                                    lambda conn: members.admit_member(conn, cmd, principal, vault))


@router.get("/members/{member_id}", response_model=MemberOut, tags=["members"])
async def get_member(member_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    async with request.app.state.runtime.pool.acquire() as conn:
        return members.member_view(await members.load_member(conn, member_id, principal))


@router.patch("/members/{member_id}", response_model=MemberOut, tags=["members"],
              summary="Change a member's profile (audited in the member file)")
async def update_profile(member_id: uuid.UUID, body: ProfilePatch, request: Request,
                         principal: Principal = Depends(requires("write"))):
    runtime = request.app.state.runtime
    async with runtime.pool.acquire() as conn, conn.transaction():
        return await members.update_profile(conn, member_id, body.model_dump(include=body.model_fields_set),
                                            principal, runtime.vault)


@router.post("/members/{member_id}/status-changes", status_code=201, response_model=MemberOut, tags=["members"],
             summary="Retain (会籍保留), reactivate, or record a departure (退会)")
async def change_status(member_id: uuid.UUID, body: StatusChangeIn, request: Request,
                        principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    cmd = members.ChangeStatus(member_id=member_id, status=body.status, reason=body.reason,
                               effective_on=body.effective_on or local_today())
    max_days = request.app.state.runtime.settings.status_backdate_max_days
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: members.change_status(conn, cmd, principal,
                                                                       max_backdate_days=max_days))


@router.post("/members/{member_id}/transfers", status_code=201, tags=["members"],
             summary="Transfer the membership with employment (会员关系转移); the receiving union cannot refuse",
             description="By staff over the member's current union (the sending side) or by the member themself"
                         " (token role `member`). Staff of the receiving side only get the 404 of an unknown"
                         " member: they ask instead (POST /transfer-requests).")
async def transfer_member(member_id: uuid.UUID, body: TransferIn, request: Request,
                          principal: Principal = Depends(current_principal),
                          idempotency_key: str | None = Header(None)):
    cmd = transfers.TransferMember(
        member_id=member_id, to_union_id=body.to_union_id, new_employer=body.new_employer,
        new_employer_credit_code=body.new_employer_credit_code, residence_region_code=body.residence_region_code,
        effective_on=body.effective_on or local_today())
    max_days = request.app.state.runtime.settings.status_backdate_max_days
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: transfers.transfer_member(conn, cmd, principal,
                                                                           max_backdate_days=max_days))


@router.get("/members/{member_id}/file", tags=["members"],
            summary="The member file (会员档案), in order; readable by staff over any union the member was in")
async def member_file(member_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    async with request.app.state.runtime.pool.acquire() as conn:
        return await members.member_file(conn, member_id, principal)


# ---- transfer requests (the receiving side asks) ------------------------------------------------------

class TransferRequestIn(Body):
    id_number: str = Field(min_length=1, max_length=32, description="被申请人的18位居民身份证号")
    to_union_id: uuid.UUID = Field(description="the asking (receiving) grassroots union, in the caller's subtree")
    new_employer: UnitName = Field(min_length=2, max_length=200)
    new_employer_credit_code: str | None = Field(None, max_length=18, description="统一社会信用代码")


class TransferRequestOut(BaseModel):
    """To the asker only what it knew already; to the member and the sending side also who asks
    and what became of it."""

    id: uuid.UUID
    status: Literal["pending", "confirmed", "declined", "expired"]
    id_number_masked: str
    to_union_id: uuid.UUID
    to_union_name: str
    new_employer: str
    requested_by: str
    requested_at: datetime
    expires_on: date
    member_id: uuid.UUID | None = None
    requested_by_org_name: str | None = None
    decided_by: str | None = None
    decided_as: str | None = None
    decided_at: datetime | None = None


@router.post("/transfer-requests", status_code=202, response_model=TransferRequestOut,
             response_model_exclude_none=True, tags=["transfer requests"],
             summary="Ask for a worker's membership to be transferred into one's own union (接转申请)",
             description="The same answer (202, `pending`) whether or not the person is a member anywhere: it takes"
                         " effect when the member or their union confirms, and expires otherwise.")
async def request_transfer(body: TransferRequestIn, request: Request, principal: Principal = Depends(requires("write"))):
    runtime = request.app.state.runtime
    cmd = transfer_requests.RequestTransfer(id_number=body.id_number, to_union_id=body.to_union_id,
                                            new_employer=body.new_employer,
                                            new_employer_credit_code=body.new_employer_credit_code)
    async with runtime.pool.acquire() as conn, conn.transaction():
        return await transfer_requests.request_transfer(
            conn, cmd, principal, runtime.vault, expiry_days=runtime.settings.transfer_request_expiry_days)


@router.get("/transfer-requests", response_model=list[TransferRequestOut], response_model_exclude_none=True,
            tags=["transfer requests"],
            summary="Transfer requests: those one's unions made (side=receiving) or those about one's members"
                    " (side=sending); a member token: those about oneself")
async def list_transfer_requests(request: Request, side: Literal["receiving", "sending"] = "receiving",
                                 principal: Principal = Depends(current_principal)):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await transfer_requests.list_requests(conn, principal, side)


@router.post("/transfer-requests/{request_id}/confirmation", status_code=201, tags=["transfer requests"],
             summary="Confirm a transfer request (the member, or staff over the member's union): the move is made")
async def confirm_transfer_request(request_id: uuid.UUID, request: Request,
                                   principal: Principal = Depends(current_principal)):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await transfer_requests.confirm_request(conn, request_id, principal)


@router.post("/transfer-requests/{request_id}/declination", response_model=TransferRequestOut,
             tags=["transfer requests"], summary="Decline a transfer request (the member only)")
async def decline_transfer_request(request_id: uuid.UUID, request: Request,
                                   principal: Principal = Depends(current_principal)):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await transfer_requests.decline_request(conn, request_id, principal)
