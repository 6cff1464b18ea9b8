"""HTTP API of the welfare service (staff and machine clients)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field, field_validator, model_validator

from unionops import idempotency
from unionops.auth import ROLES, Principal, requires
from unionops.clock import local_today
from unionops.pii import InvalidResidentId, mask_name, parse_resident_id
from unionops.problems import Problem
from unionops.bodies import Body
from unionops.inputs import Fen, Flag, PersonName
from welfare import cases, golden_autumn, handlers

router = APIRouter()

CaseKind = Literal["living", "medical", "education", "employment", "legal", "temporary"]
CaseSource = Literal["application", "visit", "hotline"]


SchoolLevel = Literal[tuple(golden_autumn.SCHOOL_LEVELS)]


class StudentIn(Body):
    """金秋助学: the student the grant is for."""

    name: PersonName = Field(min_length=1, max_length=50, description="学生姓名（加密存储，脱敏显示）")
    id_number: str = Field(description="学生居民身份证号（加密存储；键控哈希用于“一年一助”查重）")
    school_level: SchoolLevel = Field(description="primary 小学, junior_high 初中, senior_high 普通高中, vocational"
                                                  " 中职, junior_college 高职（大专）, undergraduate 本科,"
                                                  " postgraduate 研究生")
    aided_by_government: Flag = Field(False, description="已获政府资助的学生不重复资助")

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, v: str) -> str:
        try:
            return parse_resident_id(v).number
        except InvalidResidentId as e:
            raise ValueError(str(e)) from None


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


class StudentOut(BaseModel):
    name: str
    id_number: str
    school_level: str
    school_level_label: str
    grant_fen: int
    grant_year: int


class CaseOut(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    union_id: uuid.UUID
    union_name: str
    kind: str
    source: str
    status: str
    opened_on: date
    opened_by: str
    student: StudentOut | None = None


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
    public_notice: NoticePeriodOut | None = None


_CASE_COLUMNS = (
    "c.id, c.member_id, m.name AS member_name, c.union_id, m.union_name, c.org_path, c.kind, c.source, c.status,"
    " c.opened_on, c.opened_by"
)


@router.post("/cases", status_code=201, response_model=CaseOut, tags=["cases"],
             summary="Open an assistance case for a member (帮扶立案)")
async def open_case(body: CaseIn, request: Request, principal: Principal = Depends(requires("write")),
                    idempotency_key: str | None = Header(None)):
    runtime = request.app.state.runtime
    today = local_today(runtime.settings.welfare_timezone)
    cmd = handlers.OpenCase(member_id=body.member_id, kind=body.kind, source=body.source, summary=body.summary,
                            today=today)
    vault = runtime.vault
    # The fingerprint must not keep the summary's words (nor a student's name or ID number):
    # keyed hashes stand in for them.
    payload = body.model_dump(mode="json") | {"summary": vault.lookup_hash("case_summary", body.summary)}
    if body.student is not None:
        payload["student"] |= {"name": vault.lookup_hash("student_name", body.student.name),
                               "id_number": vault.lookup_hash("id_number", body.student.id_number)}

    async def command(conn):
        case = await handlers.open_assistance_case(conn, cmd, principal, vault)
        if body.student is not None:  # 金秋助学: applied at the grassroots union, with its student
            student = golden_autumn.Student(**body.student.model_dump())
            case["student"] = await golden_autumn.record_student(
                conn, case["id"], student, year=today.year, tier_table=golden_autumn.tiers(
                    runtime.settings.golden_autumn_tiers_fen), vault=vault)
        return case

    return await idempotency.create(request, principal, idempotency_key, payload, command)


_WORKFLOW_COLUMNS = (
    "c.proposed_amount_fen, c.findings_enc, c.assessed_by, c.assessed_on, c.district_reviewed_by,"
    " c.district_reviewed_on, c.approved_amount_fen, c.fund_id, c.approved_by, c.approved_on, c.rejected_reason,"
    " c.rejected_by, c.rejected_on, c.disbursement_id, c.paid_by, c.paid_on, c.outcome, c.closed_by, c.closed_on,"
    " c.hotline_ticket_id"
)


async def case_detail(conn, case_id: uuid.UUID, principal: Principal, vault) -> dict:
    row = await conn.fetchrow(
        f"SELECT {_CASE_COLUMNS}, c.summary_enc, {_WORKFLOW_COLUMNS} FROM assistance_cases c"
        " JOIN members m ON m.member_id = c.member_id WHERE c.id = $1", case_id)
    # Out of scope answers like absent: a case's existence is itself sensitive.
    if row is None or not principal.covers(row["org_path"]):
        raise Problem(404, "帮扶案件不存在或不在您的管辖范围内")
    # Auditors read a case as they read a hardship file: the workflow, amounts and dates, the
    # member's name masked, none of the health or family circumstances in the summary and findings.
    full = "write" in ROLES.get(principal.role, ())
    detail = dict(row) | {"notes_visible": "all" if full else "none"}
    if full:
        detail["summary"] = vault.decrypt("case_summary", row["summary_enc"])
        if row["findings_enc"] is not None:
            detail["findings"] = vault.decrypt("case_findings", row["findings_enc"])
    else:
        detail["member_name"] = mask_name(row["member_name"] or "")
    if row["kind"] == "education":
        detail["student"] = await golden_autumn.student_of(conn, case_id, vault)
        notice = await golden_autumn.notice_of_case(conn, case_id)
        if notice:
            detail["public_notice"] = {"ends_on": notice[0], "payable_from": notice[1]}
    return detail


@router.get("/cases/{case_id}", response_model=CaseDetailOut, tags=["cases"])
async def get_case(case_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    runtime = request.app.state.runtime
    async with runtime.pool.acquire() as conn:
        return await case_detail(conn, case_id, principal, runtime.vault)


@router.get("/members/{member_id}/cases", response_model=list[CaseOut], tags=["cases"],
            summary="A member's cases within the caller's subtree, newest first (no summaries)")
async def member_cases(member_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    pool = request.app.state.runtime.pool
    path = await pool.fetchval("SELECT org_path FROM members WHERE member_id = $1", member_id)
    if path is None or not principal.covers(path):
        raise Problem(404, "会员不存在或不在您的管辖范围内")
    rows = await pool.fetch(
        f"SELECT {_CASE_COLUMNS} FROM assistance_cases c JOIN members m ON m.member_id = c.member_id"
        " WHERE c.member_id = $1 AND $2 = ANY(c.org_path) ORDER BY c.opened_at DESC, c.id",
        member_id, principal.org_id)
    return [dict(r) for r in rows]


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


async def _step(request: Request, principal: Principal, case_id: uuid.UUID, command) -> dict:
    runtime = request.app.state.runtime
    today = local_today(runtime.settings.welfare_timezone)
    async with runtime.pool.acquire() as conn:
        async with conn.transaction():
            await command(conn, today)
        return await case_detail(conn, case_id, principal, runtime.vault)


def _policy(request: Request) -> cases.Policy:
    return cases.Policy(migrant_min_months=request.app.state.runtime.settings.migrant_worker_min_membership_months)


@router.post("/cases/{case_id}/assess", response_model=CaseDetailOut, tags=["cases"],
             summary="Assess a case (核查): findings and the proposed amount")
async def assess_case(case_id: uuid.UUID, body: AssessIn, request: Request,
                      principal: Principal = Depends(requires("write"))):
    vault = request.app.state.runtime.vault
    return await _step(request, principal, case_id, lambda conn, today: cases.assess(
        conn, case_id, proposed_amount_fen=body.proposed_amount_fen, findings=body.findings, actor=principal,
        vault=vault, today=today))


@router.post("/cases/{case_id}/district-review", response_model=CaseDetailOut, tags=["cases"],
             summary="金秋助学: the district's re-check (区总工会复核)")
async def district_review_case(case_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("write"))):
    return await _step(request, principal, case_id, lambda conn, today: cases.district_review(
        conn, case_id, actor=principal, today=today))


@router.post("/cases/{case_id}/approve", response_model=CaseDetailOut, tags=["cases"],
             summary="Approve a case (审批): commits the amount against a fund; never by its opener or assessor")
async def approve_case(case_id: uuid.UUID, body: ApproveIn, request: Request,
                       principal: Principal = Depends(requires("write"))):
    policy = _policy(request)
    return await _step(request, principal, case_id, lambda conn, today: cases.approve(
        conn, case_id, fund_id=body.fund_id, actor=principal, today=today, policy=policy))


@router.post("/cases/{case_id}/reject", response_model=CaseDetailOut, tags=["cases"],
             summary="Reject a case (驳回) with a category reason")
async def reject_case(case_id: uuid.UUID, body: RejectIn, request: Request,
                      principal: Principal = Depends(requires("write"))):
    return await _step(request, principal, case_id, lambda conn, today: cases.reject(
        conn, case_id, reason=body.reason, actor=principal, today=today))


@router.post("/cases/{case_id}/pay", response_model=CaseDetailOut, tags=["cases"],
             summary="Pay an approved case (发放): disburses its commitment (AidDisbursed)")
async def pay_case(case_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("write"))):
    policy = _policy(request)
    return await _step(request, principal, case_id, lambda conn, today: cases.pay(
        conn, case_id, actor=principal, today=today, policy=policy))


@router.post("/cases/{case_id}/close", response_model=CaseDetailOut, tags=["cases"],
             summary="Close a case (结案) after payment, rejection or an approval without money")
async def close_case(case_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("write"))):
    return await _step(request, principal, case_id, lambda conn, today: cases.close(
        conn, case_id, actor=principal, today=today))


@router.post("/cases/{case_id}/withdraw", response_model=CaseDetailOut, tags=["cases"],
             summary="Withdraw a case before payment (撤回): releases its commitment")
async def withdraw_case(case_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("write"))):
    return await _step(request, principal, case_id, lambda conn, today: cases.withdraw(
        conn, case_id, actor=principal, today=today))
