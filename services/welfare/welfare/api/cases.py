"""HTTP API of assistance cases (帮扶案件): opening one (with its student for 金秋助学), reading
them, and the workflow's steps, each one command whose answer is the case as the caller reads it."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field, model_validator

from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep, VaultDep
from unionops.inputs import Fen, Flag, PersonName
from unionops.pii import Vault
from unionops.unit_of_work import UnitOfWork
from welfare.api.bodies import CaseKind, CaseOut, ListQuery, Money, Page, ResidentIdNumber
from welfare.api.dependencies import Today
from welfare.commands import cases
from welfare.domain import cases as domain, golden_autumn
from welfare.queries import cases as queries
from welfare.settings import Settings

router = APIRouter()

CaseSource = Literal["application", "visit", "hotline"]


SchoolLevel = Literal[tuple(golden_autumn.SCHOOL_LEVELS)]


class StudentIn(Body):
    """金秋助学: the student the grant is for."""

    name: PersonName = Field(min_length=1, max_length=50, description="学生姓名（加密存储，脱敏显示）")
    id_number: ResidentIdNumber = Field(description="学生居民身份证号（加密存储；键控哈希用于“一年一助”查重）")
    school_level: SchoolLevel = Field(description="primary 小学, junior_high 初中, senior_high 普通高中, vocational"
                                                  " 中职, junior_college 高职（大专）, undergraduate 本科,"
                                                  " postgraduate 研究生")
    aided_by_government: Flag = Field(False, description="已获政府资助的学生不重复资助")

class CaseIn(Body):
    member_id: uuid.UUID
    kind: CaseKind = Field(description="living 生活救助, medical 医疗帮扶, education 助学, employment 就业帮扶,"
                                       " legal 法律援助, temporary 临时救助")
    source: CaseSource = Field(description="application 申请, visit 走访, hotline 12351职工热线")
    summary: str = Field(min_length=1, max_length=4000, description="案情摘要（敏感信息，加密存储，不进入事件）")
    student: StudentIn | None = Field(None, description="金秋助学（kind=education）必填：受助学生")

    @model_validator(mode="after")
    def _student_for_education(self):
        if (self.kind == "education") != (self.student is not None):
            raise ValueError("助学案件须填写受助学生（student），其他类型不填")
        return self


class NoticePeriodOut(BaseModel):
    ends_on: date
    payable_from: date


class CaseDetailOut(CaseOut):
    summary: str | None = Field(None, description="案情摘要；审计人员不可见（null）")
    notes_visible: Literal["all", "none"] = Field(description="all：可见案情与核查情况；none：审计视图，已隐去")
    proposed_amount_fen: int | None = None
    findings: str | None = Field(None, description="核查情况；审计人员不可见（null）")
    assessed_by: str | None = None
    assessed_on: date | None = None
    district_reviewed_by: str | None = None
    district_reviewed_on: date | None = None
    approved_amount_fen: int | None = None
    fund_id: uuid.UUID | None = None
    approved_by: str | None = None
    approved_on: date | None = None
    rejected_reason: str | None = None
    rejected_by: str | None = None
    rejected_on: date | None = None
    disbursement_id: uuid.UUID | None = None
    paid_by: str | None = None
    paid_on: date | None = None
    outcome: str | None = None
    closed_by: str | None = None
    closed_on: date | None = None
    hotline_ticket_id: uuid.UUID | None = None
    dispute_id: uuid.UUID | None = Field(None, description="转介法律援助的劳动争议案件")
    legal_aid_form: str | None = Field(None, description="法律援助形式：advice, arbitration, litigation, withdrawn")
    legal_aid_result: str | None = Field(None, description="代理结果：won, partly, lost, settled")
    public_notice: NoticePeriodOut | None = None


@router.post("/cases", status_code=201, response_model=CaseOut, tags=["cases"],
             summary="Open an assistance case for a member (帮扶立案)")
async def open_case(body: CaseIn, commands: CommandsDep, vault: VaultDep, settings: SettingsDep[Settings],
                    today: Today, principal: Principal = Depends(requires("write")),
                    idempotency_key: str | None = Header(None)):
    # 金秋助学: applied at the grassroots union, with its student.
    student = golden_autumn.Student(**body.student.model_dump()) if body.student is not None else None
    cmd = cases.OpenCase(member_id=body.member_id, kind=body.kind, source=body.source, summary=body.summary,
                         today=today, student=student)
    # The fingerprint must not keep the summary's words (nor a student's name or ID number):
    # keyed hashes stand in for them.
    payload = body.model_dump(mode="json") | {"summary": vault.lookup_hash("case_summary", body.summary)}
    if body.student is not None:
        payload["student"] |= {"name": vault.lookup_hash("student_name", body.student.name),
                               "id_number": vault.lookup_hash("id_number", body.student.id_number)}
    return await commands.create(
        lambda uow: cases.open_case(uow, cmd, principal, vault, tier_overrides=settings.golden_autumn_tiers_fen),
        subject=principal.subject, key=idempotency_key, payload=payload)


class CaseListQuery(ListQuery):
    status: Literal[domain.CASE_STATUSES] | None = Field(None, description="opened 已立案 … closed 已结案")
    kind: CaseKind | None = None
    unit: uuid.UUID | None = Field(None, description="只看该单位及其下级单位的案件")
    opened_from: date | None = Field(None, description="立案日期起（含）")
    opened_to: date | None = Field(None, description="立案日期止（含）")
    sort: Literal[tuple(queries.CASE_ORDERS)] = Field("-opened_on", description="-opened_on 最新在前, opened_on,"
                                                      " status 按办理环节, unit 按单位")

    @model_validator(mode="after")
    def _period(self):
        if self.opened_from and self.opened_to and self.opened_to < self.opened_from:
            raise ValueError("立案日期止（opened_to）不能早于立案日期起（opened_from）")
        return self


class CaseRowOut(CaseOut):
    kind_label: str
    status_label: str
    approved_amount: Money | None
    paid_on: date | None


@router.get("/cases", response_model=Page[CaseRowOut], tags=["cases"],
            summary="Cases of the caller's subtree by status, kind, unit and date, paged (names masked for auditors)")
async def list_cases(db: PoolDep, q: Annotated[CaseListQuery, Query()],
                     principal: Principal = Depends(requires("read"))):
    return await queries.list_cases(db, principal, status=q.status, kind=q.kind, unit=q.unit,
                                    opened_from=q.opened_from, opened_to=q.opened_to, sort=q.sort, limit=q.limit,
                                    offset=q.offset)


@router.get("/cases/{case_id}", response_model=CaseDetailOut, tags=["cases"])
async def get_case(case_id: uuid.UUID, db: PoolDep, vault: VaultDep,
                   principal: Principal = Depends(requires("read"))):
    return await queries.case_detail(db, case_id, principal, vault)


@router.get("/members/{member_id}/cases", response_model=list[CaseOut], tags=["cases"],
            summary="A member's cases within the caller's subtree, newest first (no summaries)")
async def member_cases(member_id: uuid.UUID, db: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.member_cases(db, member_id, principal)


# ---- the workflow: each step locks the case, checks its rules and stages its event -----------------

class AssessIn(Body):
    proposed_amount_fen: Fen | None = Field(None, description="核定金额（分）；金秋助学按学段定额，可不填")
    findings: str = Field(min_length=1, max_length=8000, description="核查情况（敏感信息，加密存储，不进入事件）")


class ApproveIn(Body):
    fund_id: uuid.UUID = Field(description="支出的专项资金（须属于案件所属工会或其上级工会）")


class RejectIn(Body):
    reason: Literal["not_eligible", "no_hardship_file", "duplicate", "insufficient_evidence", "over_cap", "other"] = \
        Field(description="not_eligible 不符合帮扶条件, no_hardship_file 未建档, duplicate 重复申请,"
                          " insufficient_evidence 证明材料不足, over_cap 超出救助标准, other 其他")


def _step(case_id: uuid.UUID, principal: Principal, vault: Vault, step):
    """The step, then the case as the caller reads it after it, in the step's unit of work."""
    async def command(uow: UnitOfWork) -> dict:
        await step(uow)
        return await queries.case_detail(uow.conn, case_id, principal, vault)
    return command


def _policy(settings: SettingsDep[Settings]) -> cases.Policy:
    return cases.Policy(migrant_min_months=settings.migrant_worker_min_membership_months)


PolicyDep = Annotated[cases.Policy, Depends(_policy)]


@router.post("/cases/{case_id}/assess", response_model=CaseDetailOut, tags=["cases"],
             summary="Assess a case (核查): findings and the proposed amount")
async def assess_case(case_id: uuid.UUID, body: AssessIn, commands: CommandsDep, vault: VaultDep,
                      today: Today, principal: Principal = Depends(requires("write"))):
    return await commands.run(_step(case_id, principal, vault, lambda uow: cases.assess(
        uow, case_id, proposed_amount_fen=body.proposed_amount_fen, findings=body.findings, actor=principal,
        vault=vault, today=today)))


@router.post("/cases/{case_id}/district-review", response_model=CaseDetailOut, tags=["cases"],
             summary="金秋助学: the district's re-check (区总工会复核)")
async def district_review_case(case_id: uuid.UUID, commands: CommandsDep, vault: VaultDep,
                               today: Today, principal: Principal = Depends(requires("write"))):
    return await commands.run(_step(case_id, principal, vault, lambda uow: cases.district_review(
        uow, case_id, actor=principal, today=today)))


@router.post("/cases/{case_id}/approve", response_model=CaseDetailOut, tags=["cases"],
             summary="Approve a case (审批): commits the amount against a fund; never by its opener or assessor")
async def approve_case(case_id: uuid.UUID, body: ApproveIn, commands: CommandsDep, vault: VaultDep, today: Today,
                       policy: PolicyDep, principal: Principal = Depends(requires("write"))):
    return await commands.run(_step(case_id, principal, vault, lambda uow: cases.approve(
        uow, case_id, fund_id=body.fund_id, actor=principal, today=today, policy=policy)))


@router.post("/cases/{case_id}/reject", response_model=CaseDetailOut, tags=["cases"],
             summary="Reject a case (驳回) with a category reason")
async def reject_case(case_id: uuid.UUID, body: RejectIn, commands: CommandsDep, vault: VaultDep,
                      today: Today, principal: Principal = Depends(requires("write"))):
    return await commands.run(_step(case_id, principal, vault, lambda uow: cases.reject(
        uow, case_id, reason=body.reason, actor=principal, today=today)))


@router.post("/cases/{case_id}/pay", response_model=CaseDetailOut, tags=["cases"],
             summary="Pay an approved case (发放): disburses its commitment (AidDisbursed)")
async def pay_case(case_id: uuid.UUID, commands: CommandsDep, vault: VaultDep, today: Today, policy: PolicyDep,
                   principal: Principal = Depends(requires("write"))):
    return await commands.run(_step(case_id, principal, vault, lambda uow: cases.pay(
        uow, case_id, actor=principal, today=today, policy=policy)))


@router.post("/cases/{case_id}/close", response_model=CaseDetailOut, tags=["cases"],
             summary="Close a case (结案) after payment, rejection or an approval without money")
async def close_case(case_id: uuid.UUID, commands: CommandsDep, vault: VaultDep, today: Today,
                     principal: Principal = Depends(requires("write"))):
    return await commands.run(_step(case_id, principal, vault, lambda uow: cases.close(
        uow, case_id, actor=principal, today=today)))


@router.post("/cases/{case_id}/withdraw", response_model=CaseDetailOut, tags=["cases"],
             summary="Withdraw a case before payment (撤回): releases its commitment")
async def withdraw_case(case_id: uuid.UUID, commands: CommandsDep, vault: VaultDep, today: Today,
                        principal: Principal = Depends(requires("write"))):
    return await commands.run(_step(case_id, principal, vault, lambda uow: cases.withdraw(
        uow, case_id, actor=principal, today=today)))
