"""HTTP API of 厂务公开 (an employer's openness system and its publications) and of labour-dispute
mediation committees (劳动争议调解委员会) of employers and streets. Issue 14 · congresses."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Header

from membership.api.congress_bodies import MediationCommitteeIn, OpennessIn, PublicationIn
from membership.commands import openness_and_mediation as commands_openness
from membership.queries import openness_and_mediation as queries_openness
from unionops.auth import Principal, requires
from unionops.backdating import check_dated, dated_or_today
from unionops.clock import local_today
from unionops.dependencies import CommandsDep, PoolDep
from unionops.inputs import Limit, Offset

router = APIRouter(tags=["democratic management"])


@router.get("/employers/{employer_id}/openness", summary="An employer's 厂务公开 system and its publications")
async def get_openness(employer_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries_openness.openness(pool, employer_id, principal)


@router.put("/employers/{employer_id}/openness", summary="Record an employer's 厂务公开 system (建立日期、公开内容)")
async def record_openness(employer_id: uuid.UUID, body: OpennessIn, commands: CommandsDep,
                          principal: Principal = Depends(requires("write"))):
    check_dated(body.established_on, local_today(), field="established_on", what="建立日期")
    items = list(dict.fromkeys(body.items))
    return await commands.run(lambda uow: commands_openness.record_openness(
        uow, employer_id, body.established_on, items, principal))


@router.post("/employers/{employer_id}/openness/publications", status_code=201,
             summary="Record a publication (公开) under the employer's 厂务公开 system")
async def record_publication(employer_id: uuid.UUID, body: PublicationIn, commands: CommandsDep,
                             principal: Principal = Depends(requires("write")),
                             idempotency_key: str | None = Header(None)):
    published_on = dated_or_today(body.published_on, local_today(), field="published_on", what="公开日期")
    items = list(dict.fromkeys(body.items)) if body.items else None
    return await commands.create(
        lambda uow: commands_openness.record_publication(uow, employer_id, published_on, items, principal),
        subject=principal.subject, key=idempotency_key,
        payload={"employer_id": str(employer_id), **body.model_dump(mode="json")})


@router.post("/mediation-committees", status_code=201,
             summary="Record a labour-dispute mediation committee of an employer or a street (调解委员会)")
async def form_mediation_committee(body: MediationCommitteeIn, commands: CommandsDep,
                                   principal: Principal = Depends(requires("write")),
                                   idempotency_key: str | None = Header(None)):
    check_dated(body.established_on, local_today(), field="established_on", what="成立日期")
    return await commands.create(
        lambda uow: commands_openness.form_mediation_committee(
            uow, body.employer_id, body.street_id, body.established_on, body.members_count, body.chair_name, principal),
        subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/mediation-committees", summary="The mediation committees of a subtree (employers' and streets')")
async def list_mediation_committees(org_id: uuid.UUID, pool: PoolDep, level: Literal["employer", "street"] | None = None,
                                    limit: Limit = 100, offset: Offset = 0,
                                    principal: Principal = Depends(requires("read"))):
    return await queries_openness.mediation_committees(pool, principal, org_id, level, limit=limit, offset=offset)
