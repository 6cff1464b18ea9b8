"""HTTP API of workers' congresses (职代会): congresses, delegates, sessions with resolutions and
民主评议干部, delegates' proposals and their answers, and the lists (not held this year, proposals
overdue first). Issue 14 · congresses."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Header

from membership.api.congress_bodies import CongressIn, CongressProposalAnswerIn, CongressProposalIn, DelegatesIn, SessionIn
from membership.commands import congresses as commands_congresses
from membership.domain.statistics import reporting_date
from membership.queries import congresses
from unionops.auth import Principal, current_principal, requires
from unionops.backdating import dated_or_today
from unionops.clock import local_today
from unionops.dependencies import CommandsDep, PoolDep
from unionops.inputs import Limit, Offset, YearParam

router = APIRouter(tags=["congresses"])


@router.post("/congresses", status_code=201,
             summary="Establish a workers' congress of an employer, or a regional/industry one (建立职代会)")
async def establish_congress(body: CongressIn, commands: CommandsDep, principal: Principal = Depends(requires("write")),
                             idempotency_key: str | None = Header(None)):
    cmd = commands_congresses.EstablishCongress(
        kind=body.kind, name=body.name, union_id=body.union_id, employer_ids=tuple(body.employer_ids),
        established_on=dated_or_today(body.established_on, local_today(), field="established_on", what="建立日期"),
        proposal_answer_days=body.proposal_answer_days)
    return await commands.create(lambda uow: commands_congresses.establish(uow, cmd, principal),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/congresses", summary="The congresses of a subtree, with the year's sessions and evaluations")
async def list_congresses(org_id: uuid.UUID, pool: PoolDep, year: YearParam | None = None, not_held: bool = False,
                          limit: Limit = 100, offset: Offset = 0, principal: Principal = Depends(requires("read"))):
    day = reporting_date(year or local_today().year, local_today())  # 31 December, or today
    return await congresses.congresses(pool, principal, org_id, day.year, day, not_held=not_held,
                                       limit=limit, offset=offset)


@router.get("/congresses/not-held",
            summary="Congresses of a subtree that held no quorate session in the year (职代会未召开)")
async def congresses_not_held(org_id: uuid.UUID, pool: PoolDep, year: YearParam | None = None, limit: Limit = 100,
                              offset: Offset = 0, principal: Principal = Depends(requires("read"))):
    return await list_congresses(org_id, pool, year, True, limit, offset, principal)


@router.get("/congresses/{congress_id}")
async def get_congress(congress_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await congresses.congress_view(pool, congress_id, principal, local_today())


@router.post("/congresses/{congress_id}/delegates", status_code=201,
             summary="Elect delegates from the member register for a term (选举职工代表); refused ids listed")
async def elect_delegates(congress_id: uuid.UUID, body: DelegatesIn, commands: CommandsDep,
                          principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    elected_on = dated_or_today(body.elected_on, local_today(), field="elected_on", what="选举日期")
    return await commands.create(
        lambda uow: commands_congresses.elect_delegates(uow, congress_id, body.member_ids, body.term_start,
                                                        body.term_end, elected_on, principal),
        subject=principal.subject, key=idempotency_key,
        payload={"congress_id": str(congress_id), **body.model_dump(mode="json")})


@router.post("/congresses/{congress_id}/sessions", status_code=201,
             summary="Record a session: attendance (two thirds), resolutions, 民主评议干部")
async def record_session(congress_id: uuid.UUID, body: SessionIn, commands: CommandsDep,
                         principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    held_on = dated_or_today(body.held_on, local_today(), field="held_on", what="会议日期")
    resolutions = [commands_congresses.Resolution(r.title, r.in_favour) for r in body.resolutions]
    evaluation = commands_congresses.Evaluation(**body.evaluation.model_dump()) if body.evaluation else None
    return await commands.create(
        lambda uow: commands_congresses.record_session(uow, congress_id, held_on, body.present, resolutions,
                                                       evaluation, principal),
        subject=principal.subject, key=idempotency_key,
        payload={"congress_id": str(congress_id), **body.model_dump(mode="json")})


@router.post("/congresses/{congress_id}/proposals", status_code=201,
             summary="A delegate's proposal (职代会提案), due for an answer the congress's number of days later;"
                     " staff enter it, or the delegate submits their own (member token)")
async def submit_proposal(congress_id: uuid.UUID, body: CongressProposalIn, commands: CommandsDep,
                          principal: Principal = Depends(current_principal),  # staff, or the delegate themselves
                          idempotency_key: str | None = Header(None)):
    today = local_today()
    submitted_on = dated_or_today(body.submitted_on, local_today(), field="submitted_on", what="提交日期")
    return await commands.create(
        lambda uow: commands_congresses.submit_proposal(uow, congress_id, body.member_id, body.title, body.content,
                                                        submitted_on, principal, today),
        subject=principal.subject, key=idempotency_key,
        payload={"congress_id": str(congress_id), **body.model_dump(mode="json")})


@router.get("/congress-proposals", summary="Delegates' proposals of a subtree, overdue first")
async def list_proposals(org_id: uuid.UUID, pool: PoolDep, congress_id: uuid.UUID | None = None,
                         overdue: bool | None = None, limit: Limit = 100, offset: Offset = 0,
                         principal: Principal = Depends(requires("read"))):
    return await congresses.proposals(pool, principal, org_id, congress_id, overdue, local_today(),
                                      limit=limit, offset=offset)


@router.get("/congress-proposals/{proposal_id}")
async def get_proposal(proposal_id: uuid.UUID, pool: PoolDep,
                       principal: Principal = Depends(current_principal)):  # staff, or the proposing delegate
    return await congresses.proposal_view(pool, proposal_id, principal, local_today())


@router.post("/congress-proposals/{proposal_id}/answer", summary="Answer a delegate's proposal (once)")
async def answer_proposal(proposal_id: uuid.UUID, body: CongressProposalAnswerIn, commands: CommandsDep,
                          principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: commands_congresses.answer_proposal(
        uow, proposal_id, body.outcome, body.answer, principal, local_today()))
