"""HTTP API of labour-dispute mediation (劳动争议调解) and the referral to legal aid (法律援助):
registering a dispute, its sessions, agreement or failure, the referral, the legal aid outcome of
the assistance case it opened, and the lists. Each step is one command (welfare.commands.disputes)
whose answer is the dispute as the caller reads it."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field

from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, VaultDep
from unionops.inputs import Fen, PersonName, UnitName, count
from unionops.pii import Vault
from unionops.unit_of_work import UnitOfWork
from welfare.api.bodies import ListQuery, Money, Page
from welfare.api.dependencies import Today
from welfare.commands import disputes
from welfare.domain import disputes as domain
from welfare.queries import disputes as queries

router = APIRouter(tags=["disputes"])

DisputeKind = Literal[tuple(domain.KINDS)]
_KINDS = "pay 劳动报酬, contract 劳动合同, dismissal 解除/终止劳动合同, injury 工伤, social_insurance 社会保险, other 其他"


class DisputeIn(Body):
    unit_id: uuid.UUID = Field(description="受理的工会：用人单位的基层工会（企业劳动争议调解委员会）或街道（乡镇）工会")
    application_form: Literal["written", "oral"] = Field(description="written 书面申请, oral 口头申请（由受理人当场记录）")
    applied_on: date | None = Field(None, description="申请日期（默认今天；十五日调解期自此起算）")
    member_id: uuid.UUID | None = Field(None, description="申请职工为会员时填写")
    worker_name: PersonName | None = Field(None, min_length=1, max_length=50,
                                           description="申请职工不是会员时填写姓名（不收集联系方式）")
    employer_name: UnitName = Field(min_length=1, max_length=100, description="用人单位名称")
    employer_credit_code: str | None = Field(None, min_length=18, max_length=18, description="统一社会信用代码（可选）")
    kind: DisputeKind = Field(description=_KINDS)
    workers_concerned: count(ge=1) = Field(1, description="涉及职工人数（10人及以上为集体劳动争议）")
    claim: str = Field(min_length=1, max_length=4000, description="请求事项与事实理由（加密存储，不进入事件）")


class SessionIn(Body):
    held_on: date = Field(description="调解日期")
    mediator: PersonName = Field(min_length=1, max_length=50, description="调解员")
    note: str = Field(min_length=1, max_length=4000, description="调解记录（加密存储）")


class AgreementIn(Body):
    agreed_on: date = Field(description="调解协议书签订日期")
    terms: str = Field(min_length=1, max_length=4000, description="协议内容摘要（加密存储）")
    amount_fen: Fen | None = Field(None, description="协议约定金额（分），无则不填")


class FailureIn(Body):
    failed_on: date = Field(description="调解终结日期")
    reason: Literal[tuple(domain.FAILURE_REASONS)] = Field(
        description="no_agreement 未能达成协议, party_refused 一方拒绝调解, party_absent 一方未到场, other 其他")


class LegalAidOutcomeIn(Body):
    form: Literal[tuple(domain.LEGAL_AID_FORMS)] = Field(
        description="advice 法律咨询, arbitration 代理劳动仲裁, litigation 代理诉讼, withdrawn 申请人撤回")
    result: Literal[tuple(domain.LEGAL_AID_RESULTS)] | None = Field(
        None, description="代理仲裁或诉讼的结果：won 支持, partly 部分支持, lost 未获支持, settled 和解、调解结案")


class SessionOut(BaseModel):
    held_on: date
    mediator: str
    recorded_by: str
    note: str | None = Field(None, description="审计人员不可见（null）")


class AgreementOut(BaseModel):
    agreed_on: date
    amount_fen: int | None
    amount: Money | None
    terms: str | None = Field(None, description="审计人员不可见（null）")


class FailureOut(BaseModel):
    failed_on: date
    reason: str
    reason_label: str


class LegalAidOut(BaseModel):
    case_id: uuid.UUID
    referred_on: date
    referred_by: str
    case_status: str
    case_outcome: str | None
    form: str | None
    result: str | None


class DisputeRowOut(BaseModel):
    id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str | None
    application_form: str
    application_form_label: str
    applied_on: date
    oral_recorded_by: str | None
    oral_recorded_at: datetime | None
    member_id: uuid.UUID | None
    is_member: bool
    worker_name: str = Field(description="审计人员看到脱敏姓名（张*）")
    employer_name: str
    employer_credit_code: str | None
    kind: str
    kind_label: str
    workers_concerned: int
    collective: bool = Field(description="集体劳动争议（涉及10人及以上）")
    status: str
    status_label: str
    mediation_ends_on: date = Field(description="十五日调解期的最后一日")
    arbitration_open: bool = Field(description="职工可以申请劳动争议仲裁（逾十五日未达成协议，或调解不成）")
    arbitration_open_from: date | None
    legal_aid_case_id: uuid.UUID | None
    opened_by: str
    opened_at: datetime


class DisputeOut(DisputeRowOut):
    notes_visible: Literal["all", "none"]
    claim: str | None = Field(None, description="请求事项；审计人员不可见（null）")
    sessions: list[SessionOut]
    agreement: AgreementOut | None
    failure: FailureOut | None
    legal_aid: LegalAidOut | None


@router.post("/disputes", status_code=201, response_model=DisputeOut,
             summary="Register a labour dispute for mediation (受理劳动争议调解申请)")
async def register_dispute(body: DisputeIn, commands: CommandsDep, vault: VaultDep, today: Today,
                           principal: Principal = Depends(requires("write")),
                           idempotency_key: str | None = Header(None)):
    app = domain.Application(
        unit_id=body.unit_id, application_form=body.application_form, applied_on=body.applied_on or today,
        member_id=body.member_id, worker_name=body.worker_name, employer_name=body.employer_name,
        employer_credit_code=body.employer_credit_code, kind=body.kind, workers_concerned=body.workers_concerned,
        claim=body.claim)
    # The fingerprint keeps a keyed hash of the claim, not its words.
    payload = body.model_dump(mode="json") | {"claim": vault.lookup_hash("dispute_claim", body.claim)}
    return await commands.create(
        lambda uow: disputes.register(uow, app, principal, vault, today=today, now=datetime.now(timezone.utc)),
        subject=principal.subject, key=idempotency_key, payload=payload)


class DisputeListQuery(ListQuery):
    unit: uuid.UUID | None = Field(None, description="只看该单位及其下级单位受理的争议")
    status: Literal[tuple(domain.STATUSES)] | None = Field(None, description="mediating 调解中, agreed 达成协议, failed 调解不成")
    kind: DisputeKind | None = None
    collective: bool | None = Field(None, description="只看（或不看）集体劳动争议")
    arbitration_open: bool | None = Field(None, description="只看（或不看）可申请仲裁的")
    sort: Literal[tuple(queries.ORDERS)] = Field("-applied_on", description="-applied_on 最新在前, applied_on")


@router.get("/disputes", response_model=Page[DisputeRowOut],
            summary="Labour disputes of the caller's subtree by unit, status, kind, collective, arbitration open")
async def list_disputes(db: PoolDep, today: Today, q: Annotated[DisputeListQuery, Query()],
                        principal: Principal = Depends(requires("read"))):
    return await queries.list_disputes(db, principal, today, unit=q.unit, status=q.status, kind=q.kind,
                                       collective=q.collective, arbitration_open=q.arbitration_open, sort=q.sort,
                                       limit=q.limit, offset=q.offset)


@router.get("/disputes/{dispute_id}", response_model=DisputeOut)
async def get_dispute(dispute_id: uuid.UUID, db: PoolDep, vault: VaultDep, today: Today,
                      principal: Principal = Depends(requires("read"))):
    return await queries.dispute_view(db, dispute_id, principal, today, vault=vault)


def _step(dispute_id: uuid.UUID, principal: Principal, vault: Vault, today: date, step):
    """The step, then the dispute as the caller reads it, in the step's unit of work."""
    async def command(uow: UnitOfWork) -> dict:
        await step(uow)
        return await queries.dispute_view(uow.conn, dispute_id, principal, today, vault=vault)
    return command


@router.post("/disputes/{dispute_id}/sessions", response_model=DisputeOut,
             summary="Record a mediation session (调解记录)")
async def record_session(dispute_id: uuid.UUID, body: SessionIn, commands: CommandsDep, vault: VaultDep,
                         today: Today, principal: Principal = Depends(requires("write"))):
    return await commands.run(_step(dispute_id, principal, vault, today, lambda uow: disputes.record_session(
        uow, dispute_id, held_on=body.held_on, mediator=body.mediator, note=body.note, actor=principal, vault=vault,
        today=today)))


@router.post("/disputes/{dispute_id}/agreement", response_model=DisputeOut,
             summary="Record the mediation agreement (调解协议书)")
async def record_agreement(dispute_id: uuid.UUID, body: AgreementIn, commands: CommandsDep, vault: VaultDep,
                           today: Today, principal: Principal = Depends(requires("write"))):
    return await commands.run(_step(dispute_id, principal, vault, today, lambda uow: disputes.agree(
        uow, dispute_id, agreed_on=body.agreed_on, terms=body.terms, amount_fen=body.amount_fen, actor=principal,
        vault=vault, today=today)))


@router.post("/disputes/{dispute_id}/failure", response_model=DisputeOut,
             summary="Record that mediation failed (调解不成): arbitration opens at once")
async def record_failure(dispute_id: uuid.UUID, body: FailureIn, commands: CommandsDep, vault: VaultDep,
                         today: Today, principal: Principal = Depends(requires("write"))):
    return await commands.run(_step(dispute_id, principal, vault, today, lambda uow: disputes.fail(
        uow, dispute_id, failed_on=body.failed_on, reason=body.reason, actor=principal, today=today)))


@router.post("/disputes/{dispute_id}/legal-aid", response_model=DisputeOut,
             summary="Refer the worker to legal aid (转介法律援助): opens a legal assistance case")
async def refer_to_legal_aid(dispute_id: uuid.UUID, commands: CommandsDep, vault: VaultDep, today: Today,
                             principal: Principal = Depends(requires("write"))):
    return await commands.run(_step(dispute_id, principal, vault, today, lambda uow: disputes.refer(
        uow, dispute_id, actor=principal, vault=vault, today=today)))


class LegalAidCaseOut(BaseModel):
    case_id: uuid.UUID
    dispute_id: uuid.UUID | None
    form: str
    form_label: str
    result: str | None
    result_label: str | None
    status: str
    outcome: str


@router.post("/cases/{case_id}/legal-aid-outcome", response_model=LegalAidCaseOut, tags=["cases"],
             summary="Record what legal aid gave and its result (法律援助结果); closes the legal case")
async def record_legal_aid_outcome(case_id: uuid.UUID, body: LegalAidOutcomeIn, commands: CommandsDep,
                                   today: Today, principal: Principal = Depends(requires("write"))):
    async def command(uow: UnitOfWork) -> dict:
        await disputes.record_legal_aid_outcome(uow, case_id, form=body.form, result=body.result, actor=principal,
                                                today=today)
        return await queries.legal_aid_outcome(uow.conn, case_id)
    return await commands.run(command)
