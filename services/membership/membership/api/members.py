"""HTTP API of members: admission, profile, status, transfers and the member file."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Header

from membership.api.bodies import MemberIn, MemberOut, ProfilePatch, StatusChangeIn, TransferIn
from membership.commands import members, transfers
from membership.settings import Settings
from membership import queries
from unionops.auth import Principal, current_principal, requires
from unionops.clock import local_today
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep, VaultDep

router = APIRouter()


@router.post("/members", status_code=201, response_model=MemberOut, tags=["members"],
             summary="Admit a worker as a member, real-name (实名入会)")
async def admit_member(body: MemberIn, commands: CommandsDep, vault: VaultDep,
                       principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    cmd = members.AdmitMember(
        union_id=body.union_id, name=body.name, id_number=body.id_number, phone=body.phone, email=body.email,
        employer=body.employer, is_migrant_worker=body.is_migrant_worker, joined_on=body.joined_on or local_today(),
        employer_credit_code=body.employer_credit_code,
    )
    # The fingerprint must not keep the raw ID number: hash it with the same keyed hash.
    payload = body.model_dump(mode="json") | {"id_number": vault.lookup_hash("id_number", body.id_number.upper())}
    return await commands.create(lambda uow: members.admit_member(uow, cmd, principal, vault),
                                 subject=principal.subject, key=idempotency_key, payload=payload)


@router.get("/members/{member_id}", response_model=MemberOut, tags=["members"])
async def get_member(member_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return queries.member_view(await queries.load_member(pool, member_id, principal))


@router.patch("/members/{member_id}", response_model=MemberOut, tags=["members"],
              summary="Change a member's profile (audited in the member file)")
async def update_profile(member_id: uuid.UUID, body: ProfilePatch, commands: CommandsDep, vault: VaultDep,
                         principal: Principal = Depends(requires("write"))):
    requested = body.model_dump(include=body.model_fields_set)
    return await commands.run(lambda uow: members.update_profile(uow, member_id, requested, principal, vault))


@router.post("/members/{member_id}/status-changes", status_code=201, response_model=MemberOut, tags=["members"],
             summary="Retain (会籍保留), reactivate, or record a departure (退会)")
async def change_status(member_id: uuid.UUID, body: StatusChangeIn, commands: CommandsDep,
                        settings: SettingsDep[Settings],
                        principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    cmd = members.ChangeStatus(member_id=member_id, status=body.status, reason=body.reason,
                               effective_on=body.effective_on or local_today())
    return await commands.create(
        lambda uow: members.change_status(uow, cmd, principal, max_backdate_days=settings.status_backdate_max_days),
        subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.post("/members/{member_id}/transfers", status_code=201, tags=["members"],
             summary="Transfer the membership with employment (会员关系转移); the receiving union cannot refuse",
             description="By staff over the member's current union (the sending side) or by the member themself"
                         " (token role `member`). Staff of the receiving side only get the 404 of an unknown"
                         " member: they ask instead (POST /transfer-requests).")
async def transfer_member(member_id: uuid.UUID, body: TransferIn, commands: CommandsDep,
                          settings: SettingsDep[Settings], principal: Principal = Depends(current_principal),
                          idempotency_key: str | None = Header(None)):
    cmd = transfers.TransferMember(
        member_id=member_id, to_union_id=body.to_union_id, new_employer=body.new_employer,
        new_employer_credit_code=body.new_employer_credit_code, residence_region_code=body.residence_region_code,
        effective_on=body.effective_on or local_today())
    return await commands.create(
        lambda uow: transfers.transfer_member(uow, cmd, principal, max_backdate_days=settings.status_backdate_max_days),
        subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/members/{member_id}/file", tags=["members"],
            summary="The member file (会员档案), in order; readable by staff over any union the member was in")
async def member_file(member_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.member_file(pool, member_id, principal)
