"""HTTP API of collective contracts (集体合同, 工资集体协商; issue 14): the negotiation
from the written offer to signing, the labour administration's review, publication, and the
list of contracts (expiring ones among them). Officers of the contract's union and above act."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from membership.commands import collective_contracts as commands_contracts
from membership.domain.collective_contracts import COVERAGES, KINDS, STATUSES
from membership.queries import collective_contracts as queries
from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.clock import local_today
from unionops.dependencies import CommandsDep, PoolDep
from unionops.inputs import MAX_OFFSET, PersonName, UnitName, count

router = APIRouter(tags=["collective-contracts"])

Kind = Literal[tuple(KINDS)]
Side = Literal["union", "employer"]
Headcount = count(le=10_000_000)


class ContractIn(Body):
    org_id: uuid.UUID = Field(description="the union side: the employer's grassroots union, or the street/town,"
                                          " regional or industry union of a regional or industry-wide contract")
    title: UnitName = Field(min_length=2, max_length=200, description="合同名称，如“某公司2026年工资专项集体合同”")
    kind: Kind = Field(description=str(KINDS))
    coverage: Literal[tuple(COVERAGES)] = Field("enterprise", description=str(COVERAGES))
    employer_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000,
                                          description="registered employers it covers, in the union's subtree")


class OfferIn(Body):
    offered_by: Side = Field(description="union 工会（职工方）发出 / employer 企业发出")
    sent_on: date
    received_on: date = Field(description="the day the other side received it: the 20 days run from it")


class RenewalIn(OfferIn):
    title: UnitName = Field(min_length=2, max_length=200, description="续订合同的名称")


class AnswerIn(Body):
    answer: Literal["accepted", "declined"]
    answered_on: date
    reasons: str | None = Field(None, max_length=2000, description="拒绝协商的书面理由（拒绝时必填）")


class SessionIn(Body):
    held_on: date
    summary: str = Field(min_length=2, max_length=5000, description="协商会议纪要")


class VoteIn(Body):
    body: Literal["congress", "all_workers"] = Field(description="congress 职工代表大会 / all_workers 全体职工")
    voted_on: date
    electorate: Headcount | None = Field(None, description="应到人数：全体职工（all_workers 必填）；职代会表决时为该职代会"
                                         "表决日在任的职工代表人数，由系统计算（填写时须与之一致）")
    present: Headcount = Field(description="实到人数")
    in_favour: Headcount = Field(description="赞成人数")


class SigningIn(Body):
    signed_on: date
    union_representative: PersonName = Field(min_length=2, max_length=50, description="职工方首席代表")
    employer_representative: PersonName = Field(min_length=2, max_length=50, description="企业方首席代表")
    starts_on: date = Field(description="期限起始日")
    ends_on: date = Field(description="期限终止日（期限1至3年）")


class SubmissionIn(Body):
    received_on: date = Field(description="劳动行政部门收到合同文本的日期")


class ObjectionIn(Body):
    objected_on: date
    objection: str = Field(min_length=2, max_length=2000, description="劳动行政部门的审查意见")


class PublicationIn(Body):
    published_on: date


class ContractListQuery(BaseModel):
    """Unknown query parameters are refused (a misspelt filter must not list everything)."""

    model_config = ConfigDict(extra="forbid")

    expiring_within_days: int | None = Field(None, ge=0, le=3660, description="生效中且在该天数内到期的合同")
    status: Literal[STATUSES] | None = None
    kind: Kind | None = None
    org_id: uuid.UUID | None = Field(None, description="只看该单位及其下级单位的合同")
    limit: int = Field(50, ge=1, le=500, description="最多返回条数（1–500）")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过条数")


@router.post("/collective-contracts", status_code=201, summary="Open a collective negotiation (集体协商) for one"
             " employer or several (区域性、行业性)")
async def open_negotiation(body: ContractIn, commands: CommandsDep, principal: Principal = Depends(requires("write")),
                           idempotency_key: str | None = Header(None)):
    cmd = commands_contracts.OpenNegotiation(org_id=body.org_id, title=body.title, kind=body.kind,
                                             coverage=body.coverage, employer_ids=tuple(body.employer_ids))
    return await commands.create(lambda uow: commands_contracts.open_negotiation(uow, cmd, principal, local_today()),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/collective-contracts", summary="Contracts of the caller's subtree: expiring, by status, kind, unit (paged)")
async def list_contracts(pool: PoolDep, q: Annotated[ContractListQuery, Query()],
                         principal: Principal = Depends(requires("read"))):
    return await queries.contracts(pool, principal, local_today(), org_id=q.org_id, status=q.status, kind=q.kind,
                                   expiring_within_days=q.expiring_within_days, limit=q.limit, offset=q.offset)


@router.get("/collective-contracts/{contract_id}", summary="A contract with its offers, sessions, vote and review")
async def get_contract(contract_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.contract(pool, contract_id, principal, local_today())


@router.post("/collective-contracts/{contract_id}/offers", status_code=201,
             summary="Record a written offer to negotiate (要约); the answer is due within 20 days of receipt")
async def send_offer(contract_id: uuid.UUID, body: OfferIn, commands: CommandsDep,
                     principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    return await commands.create(
        lambda uow: commands_contracts.send_offer(uow, contract_id, body.offered_by, body.sent_on, body.received_on,
                                                  principal, local_today()),
        subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json") | {"contract": str(contract_id)})


@router.post("/collective-contracts/{contract_id}/renewal", status_code=201,
             summary="Either side asks to renew (续订) within the six months before the end: a new negotiation"
                     " opened by its written offer")
async def renew(contract_id: uuid.UUID, body: RenewalIn, commands: CommandsDep,
                principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    return await commands.create(
        lambda uow: commands_contracts.renew(uow, contract_id, body.title, body.offered_by, body.sent_on,
                                             body.received_on, principal, local_today()),
        subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json") | {"contract": str(contract_id)})


@router.post("/collective-contracts/{contract_id}/offers/{offer_id}/answer",
             summary="Record the written answer to an offer (accepted, or declined with reasons)")
async def answer_offer(contract_id: uuid.UUID, offer_id: uuid.UUID, body: AnswerIn, commands: CommandsDep,
                       principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: commands_contracts.answer_offer(
        uow, contract_id, offer_id, body.answer, body.reasons, body.answered_on, principal, local_today()))


@router.post("/collective-contracts/{contract_id}/sessions", status_code=201,
             summary="Record a negotiation session (协商会议)")
async def record_session(contract_id: uuid.UUID, body: SessionIn, commands: CommandsDep,
                         principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    return await commands.create(
        lambda uow: commands_contracts.record_session(uow, contract_id, body.held_on, body.summary, principal,
                                                      local_today()),
        subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json") | {"contract": str(contract_id)})


@router.post("/collective-contracts/{contract_id}/vote",
             summary="The workers' congress (or all workers) on the draft: two thirds present, more than half of all")
async def record_vote(contract_id: uuid.UUID, body: VoteIn, commands: CommandsDep,
                      principal: Principal = Depends(requires("write"))):
    ballot = commands_contracts.Ballot(body.electorate, body.present, body.in_favour)  # impossible counts: 422 now
    return await commands.run(lambda uow: commands_contracts.record_vote(
        uow, contract_id, body.body, body.voted_on, ballot, principal, local_today()))


@router.post("/collective-contracts/{contract_id}/signing",
             summary="Signed by both chief representatives, for a term of one to three years")
async def sign(contract_id: uuid.UUID, body: SigningIn, commands: CommandsDep,
               principal: Principal = Depends(requires("write"))):
    signing = commands_contracts.Signing(**body.model_dump())
    return await commands.run(lambda uow: commands_contracts.sign(uow, contract_id, signing, principal, local_today()))


@router.post("/collective-contracts/{contract_id}/submission",
             summary="The labour administration received the text: in force on day 15 unless it objects")
async def submit(contract_id: uuid.UUID, body: SubmissionIn, commands: CommandsDep,
                 principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: commands_contracts.submit(
        uow, contract_id, body.received_on, principal, local_today()))


@router.post("/collective-contracts/{contract_id}/objection",
             summary="The labour administration objected within its 15 days: the contract does not come into force")
async def object_to(contract_id: uuid.UUID, body: ObjectionIn, commands: CommandsDep,
                    principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: commands_contracts.object_to(
        uow, contract_id, body.objected_on, body.objection, principal, local_today()))


@router.post("/collective-contracts/{contract_id}/publication", summary="Published to the workers it covers")
async def publish(contract_id: uuid.UUID, body: PublicationIn, commands: CommandsDep,
                  principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: commands_contracts.publish(
        uow, contract_id, body.published_on, principal, local_today()))
