"""HTTP API of the organisation tree: units, mergers, dissolutions, moves, their history, the
employers units answer for, and yearly targets."""
from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Depends, Header

from membership import queries
from membership.api.bodies import DissolveIn, EmployerContactIn, EmployerIn, MergeIn, MoveIn, OrganisationIn, OrganisationOut, TargetsIn
from membership.commands import organisations
from membership.settings import Settings
from unionops.auth import Principal, requires
from unionops.backdating import check_dated, dated_or_today
from unionops.clock import local_today
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep, VaultDep
from unionops.inputs import Limit, YearParam

router = APIRouter()


@router.post("/organisations", status_code=201, response_model=OrganisationOut, tags=["organisations"],
             summary="Found a union / register a unit in the tree (建会)")
async def create_organisation(body: OrganisationIn, commands: CommandsDep,
                              principal: Principal = Depends(requires("write")),
                              idempotency_key: str | None = Header(None)):
    cmd = organisations.EstablishUnion(
        parent_id=body.parent_id, name=body.name, level=body.level, kind=body.kind, region_code=body.region_code,
        established_on=body.established_on or local_today(), employer_ids=tuple(body.employer_ids),
    )
    check_dated(cmd.established_on, local_today(), field="established_on", what="建会日期")
    return await commands.create(lambda uow: organisations.establish_union(uow, cmd, principal),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/organisations/{org_id}", response_model=OrganisationOut, tags=["organisations"])
async def get_organisation(org_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.organisation(pool, org_id, principal)


@router.get("/organisations", response_model=list[OrganisationOut], tags=["organisations"],
            summary="Units in the caller's subtree, optionally the children of one unit")
async def list_organisations(pool: PoolDep, parent_id: uuid.UUID | None = None, limit: Limit = 200,
                             principal: Principal = Depends(requires("read"))):
    return await queries.organisations(pool, principal, parent_id, limit)


def _happened_on(settings: Settings, day: date | None, field: str, what: str) -> date:
    """The day a merger, dissolution or move took effect: its members' transfers and status
    changes carry it, so it is bounded like a status change (today when omitted)."""
    return dated_or_today(day, local_today(), field=field, what=what,
                          max_backdate_days=settings.status_backdate_max_days)


@router.post("/organisations/{org_id}/merge", tags=["organisations"],
             summary="Merge a grassroots union into another; its members follow (合并)")
async def merge(org_id: uuid.UUID, body: MergeIn, commands: CommandsDep, settings: SettingsDep[Settings],
                principal: Principal = Depends(requires("write"))):
    on = _happened_on(settings, body.merged_on, "merged_on", "合并日期")
    return await commands.run(lambda uow: organisations.merge_union(uow, org_id, body.into_org_id, principal, on))


@router.post("/organisations/{org_id}/dissolve", tags=["organisations"],
             summary="Dissolve a unit; the parent holds its members' memberships (撤销, 会籍保留)")
async def dissolve(org_id: uuid.UUID, body: DissolveIn, commands: CommandsDep, settings: SettingsDep[Settings],
                   principal: Principal = Depends(requires("write"))):
    on = _happened_on(settings, body.dissolved_on, "dissolved_on", "撤销日期")
    return await commands.run(lambda uow: organisations.dissolve_union(uow, org_id, principal, on, body.reason))


@router.post("/organisations/{org_id}/move", tags=["organisations"],
             summary="Move a unit and its subtree under another parent; history is kept")
async def move(org_id: uuid.UUID, body: MoveIn, commands: CommandsDep, settings: SettingsDep[Settings],
               principal: Principal = Depends(requires("write"))):
    on = _happened_on(settings, body.moved_on, "moved_on", "调整日期")
    return await commands.run(lambda uow: organisations.move_unit(uow, org_id, body.new_parent_id, principal, on))


@router.get("/organisations/{org_id}/history", tags=["organisations"])
async def history(org_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.organisation_history(pool, org_id, principal)


@router.post("/employers", status_code=201, tags=["employers"],
             summary="Register an employer for coverage (哪里有企业，哪里就要建立工会组织)")
async def register_employer(body: EmployerIn, commands: CommandsDep, principal: Principal = Depends(requires("write")),
                            idempotency_key: str | None = Header(None)):
    cmd = organisations.RegisterEmployer(**body.model_dump())
    return await commands.create(lambda uow: organisations.register_employer(uow, cmd, principal),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.put("/employers/{employer_id}/contact", tags=["employers"],
            summary="The employer side's contact for collective bargaining (企业方联系人), told of the union's offers")
async def set_employer_contact(employer_id: uuid.UUID, body: EmployerContactIn, commands: CommandsDep, vault: VaultDep,
                               principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: organisations.set_employer_contact(
        uow, employer_id, body.contact_name, body.email, principal, vault))


@router.delete("/employers/{employer_id}/contact", tags=["employers"], status_code=204,
               summary="Withdraw the employer side's contact")
async def withdraw_employer_contact(employer_id: uuid.UUID, commands: CommandsDep, vault: VaultDep,
                                    principal: Principal = Depends(requires("write"))) -> None:
    await commands.run(lambda uow: organisations.set_employer_contact(uow, employer_id, None, None, principal, vault))


@router.get("/employers", tags=["employers"], summary="Employers in the caller's subtree; ?without_union=true lists 建会 targets")
async def list_employers(pool: PoolDep, org_id: uuid.UUID | None = None, without_union: bool = False,
                         limit: Limit = 200, principal: Principal = Depends(requires("read"))):
    return await queries.employers(pool, principal, org_id, without_union, limit)


@router.put("/organisations/{org_id}/targets/{year}", tags=["coverage"],
            summary="Set a subtree's yearly targets (建会数, 会员数) — by its superiors")
async def set_targets(org_id: uuid.UUID, year: YearParam, body: TargetsIn, commands: CommandsDep,
                      principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: organisations.set_targets(
        uow, org_id, year, body.unions_target, body.members_target, principal))
