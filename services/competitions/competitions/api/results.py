"""HTTP API of results (成绩): standings, publication, corrections, and the public results sheet
(everyone may read published results at /public/…, names masked: 公示)."""
from __future__ import annotations

import uuid
from decimal import Decimal

from fastapi import APIRouter, Depends, Header
from pydantic import Field

from competitions.commands import results as cmd
from competitions.domain.scoring import JudgingDefaults
from competitions.queries import results as query
from competitions.settings import Settings
from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep

router = APIRouter(tags=["judging"])

Points = Decimal


@router.get("/contests/{contest_id}/standings",
            summary="Current ranking and what is still missing (before publication), organisers only")
async def get_standings(contest_id: uuid.UUID, pool: PoolDep, settings: SettingsDep[Settings],
                        principal: Principal = Depends(requires("read"))):
    return await query.standings_report(pool, contest_id, principal, JudgingDefaults.of(settings))


@router.post("/contests/{contest_id}/results", status_code=201,
             summary="Publish the results (公布成绩): revision 1, status → published")
async def publish(contest_id: uuid.UUID, commands: CommandsDep, settings: SettingsDep[Settings],
                  principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    return await commands.create(lambda uow: cmd.publish(uow, contest_id, principal, JudgingDefaults.of(settings)),
                                 subject=principal.subject, key=idempotency_key, payload={})


@router.get("/contests/{contest_id}/results", summary="The latest published results; organisers see the detail")
async def get_results(contest_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await query.results(pool, contest_id, principal)


@router.get("/contests/{contest_id}/results/revisions", summary="Every publication of the results, oldest first")
async def list_revisions(contest_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await query.revisions(pool, contest_id, principal)


@router.get("/public/contests/{contest_id}/results", tags=["public"],
            summary="Published results as posted publicly (公示): no sign-in, names masked")
async def public_results(contest_id: uuid.UUID, pool: PoolDep):
    return await query.public_results(pool, contest_id)


class CorrectionIn(Body):
    score_id: uuid.UUID
    score: Points = Field(max_digits=7, decimal_places=2, description="更正后的分数")
    reason: str = Field(min_length=2, max_length=500, description="更正原因")


@router.post("/contests/{contest_id}/corrections", status_code=201,
             summary="Correct one recorded score (更正): audited; after publication re-published as revision + 1")
async def correct(contest_id: uuid.UUID, body: CorrectionIn, commands: CommandsDep, settings: SettingsDep[Settings],
                  principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    return await commands.create(
        lambda uow: cmd.correct_score(uow, contest_id, body.score_id, body.score, body.reason, principal,
                                      JudgingDefaults.of(settings)),
        subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/contests/{contest_id}/corrections", summary="The correction trail: who, when, why, old and new")
async def list_corrections(contest_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await query.corrections(pool, contest_id, principal)
