"""Rules of assistance cases (帮扶案件), free of I/O."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from contracts.events import CASE_KIND_LABELS
from contracts.events import AidDisbursed, CaseApproved, CaseAssessed, CaseClosed, CaseOpened, CaseRejected
from unionops.problems import RuleViolation
from welfare.domain.hardship import add_months  # one calendar-month rule for the whole service

# Kinds of assistance the federation gives, with the words its staff use (shared vocabulary).
CASE_KINDS: dict[str, str] = CASE_KIND_LABELS

# How a case reaches the union: an application, a visit (走访), or the 12351 hotline.
CASE_SOURCES: dict[str, str] = {
    "application": "申请",
    "visit": "走访",
    "hotline": "12351职工热线",
}

# opened → assessed → approved | rejected → paid → closed. Education (金秋助学) adds the
# district's re-check between assessment and approval. A case may be withdrawn (closed) before
# it is paid. The legal moves are `STEPS` below.
CASE_STATUSES = ("opened", "assessed", "district_reviewed", "approved", "rejected", "paid", "closed")

UNKNOWN_MEMBER = "会员不存在：尚未入会或尚未同步"


@dataclass(frozen=True)
class KnownMember:
    """What welfare knows of a member, from membership's events."""

    member_id: uuid.UUID
    union_id: uuid.UUID
    union_name: str
    org_path: list[uuid.UUID]
    name: str
    gender: str
    is_migrant_worker: bool
    joined_on: date
    status: str = "active"


@dataclass(frozen=True)
class AssistanceCase:
    id: uuid.UUID
    member_id: uuid.UUID
    union_id: uuid.UUID
    org_path: list[uuid.UUID]
    kind: str
    source: str
    status: str
    opened_on: date
    opened_by: str
    # Filled in as the case moves on (welfare.commands.cases).
    assessed_by: str | None = None
    district_reviewed_by: str | None = None
    proposed_amount_fen: int | None = None
    approved_amount_fen: int | None = None
    fund_id: uuid.UUID | None = None
    commitment_id: uuid.UUID | None = None
    dispute_id: uuid.UUID | None = None  # legal aid referred from a labour dispute

    def opened_event(self) -> CaseOpened:
        """The fact other services hear. The summary stays here: it holds health and family detail."""
        return CaseOpened(case_id=self.id, member_id=self.member_id, union_id=self.union_id, org_path=self.org_path,
                          kind=self.kind, source=self.source, opened_on=self.opened_on, dispute_id=self.dispute_id)


def open_case(member: KnownMember | None, *, kind: str, source: str, opened_by: str, today: date,
              dispute_id: uuid.UUID | None = None) -> AssistanceCase:
    """A case is opened only for a member welfare knows; it belongs to the member's union."""
    if member is None:
        raise RuleViolation(UNKNOWN_MEMBER, field="member_id", kind="unknown-member")
    if member.status == "left":
        raise RuleViolation("该会员已退会，不能新开帮扶案件", field="member_id", kind="member-left")
    if kind not in CASE_KINDS:
        raise RuleViolation(f"帮扶类型须为 {'、'.join(CASE_KINDS.values())} 之一", field="kind")
    if source not in CASE_SOURCES:
        raise RuleViolation(f"案件来源须为 {'、'.join(CASE_SOURCES.values())} 之一", field="source")
    return AssistanceCase(
        id=uuid.uuid4(), member_id=member.member_id, union_id=member.union_id, org_path=list(member.org_path),
        kind=kind, source=source, status="opened", opened_on=today, opened_by=opened_by, dispute_id=dispute_id,
    )


# ---- the workflow ------------------------------------------------------------------------------

STATUS_LABELS: dict[str, str] = {
    "opened": "已立案", "assessed": "已核查", "district_reviewed": "区总工会已复核", "approved": "已审批",
    "rejected": "已驳回", "paid": "已发放", "closed": "已结案",
}

# Why a case is rejected: a category, never health or income detail (CaseRejected.reason).
REJECT_REASONS: dict[str, str] = {
    "not_eligible": "不符合帮扶条件",
    "no_hardship_file": "未建立困难职工档案",
    "duplicate": "重复申请",
    "insufficient_evidence": "证明材料不足",
    "over_cap": "超出救助标准",
    "other": "其他",
}

# Kinds that are money for a household in hardship: they need an amount above zero, an open
# hardship file (先建档、后帮扶) and, for migrant workers, the waiting period. Employment and
# legal aid are services (job fairs, training, mediation): they may carry no money at all, and
# then need neither a file nor a waiting period — a migrant worker owed wages gets legal aid at once.
MONEY_KINDS = frozenset({"living", "medical", "education", "temporary"})

# Decisions (district re-check, approval, rejection) are a person's act: the four-eyes rule
# compares people, so a machine account may prepare cases but never decide them.
DECIDING_ROLES = frozenset({"staff", "federation_admin"})

EDUCATION = "education"


def _status_refusal(case: AssistanceCase, action: str) -> RuleViolation:
    return RuleViolation(f"案件当前状态为「{STATUS_LABELS[case.status]}」，不能{action}", status=409,
                         kind="case-status")


def assess_status(case: AssistanceCase) -> str:
    if case.status != "opened":
        raise _status_refusal(case, "核查")
    return "assessed"


def district_review_status(case: AssistanceCase) -> str:
    if case.kind != EDUCATION:
        raise RuleViolation("只有金秋助学案件需要区总工会复核", status=409, kind="case-status")
    if case.status != "assessed":
        raise _status_refusal(case, "复核")
    return "district_reviewed"


def decision_ready(case: AssistanceCase, action: str) -> None:
    """Approval and rejection follow the assessment; 金秋助学 also the district's re-check."""
    ready = "district_reviewed" if case.kind == EDUCATION else "assessed"
    if case.status != ready:
        if case.kind == EDUCATION and case.status == "assessed":
            raise RuleViolation(f"金秋助学须经区总工会复核后方可{action}", status=409, kind="case-status")
        raise _status_refusal(case, action)


def pay_ready(case: AssistanceCase) -> int:
    """The amount to pay; a case approved without money has nothing to pay (close it)."""
    if case.status != "approved":
        raise _status_refusal(case, "发放")
    if not case.approved_amount_fen:
        raise RuleViolation("该案件核定金额为零，无需发放，请直接结案", status=409, kind="case-status")
    return case.approved_amount_fen


def close_outcome(case: AssistanceCase) -> str:
    """Closing (结案) follows a payment, a rejection, or an approval without money (referred on:
    mediation, a job fair)."""
    if case.status == "paid":
        return "paid"
    if case.status == "rejected":
        return "rejected"
    if case.status == "approved" and not case.approved_amount_fen:
        return "referred"
    raise _status_refusal(case, "结案")


def withdraw_ready(case: AssistanceCase) -> None:
    """A case is withdrawn (撤回) any time before it is paid or decided against."""
    if case.status not in ("opened", "assessed", "district_reviewed", "approved"):
        raise _status_refusal(case, "撤回")


def check_decider(case: AssistanceCase, *, role: str, subject: str, org_id: uuid.UUID, district: bool = False) -> None:
    """Who may decide. Approval and rejection: staff of a unit above the case's union (its
    street union or higher), never the person who opened, assessed or re-checked the case (四眼
    原则). The 金秋助学 re-check: staff of the district (the unit below the city on the path) or
    the city."""
    if role not in DECIDING_ROLES:
        raise RuleViolation(f"角色 {role} 不能作出帮扶决定", status=403, kind="forbidden-role")
    path = [str(p) for p in case.org_path]
    if district:
        if str(org_id) not in path[:2]:
            raise RuleViolation("金秋助学须由区总工会（或市总工会）复核", status=403, kind="district-review-level")
        return
    if str(org_id) not in path[:-1]:
        raise RuleViolation("审批须由案件所属基层工会的上级工会（街道工会及以上）作出", status=403,
                            kind="approval-level")
    if subject in {case.opened_by, case.assessed_by, case.district_reviewed_by}:
        raise RuleViolation("审批人不能是该案件的立案人、核查人或复核人", status=403, kind="four-eyes")


def check_proposed_amount(kind: str, amount_fen: int) -> int:
    if type(amount_fen) is not int or amount_fen < 0:
        raise RuleViolation("金额须为非负整数（单位：分）", field="proposed_amount_fen", kind="invalid-amount")
    if kind in MONEY_KINDS and amount_fen == 0:
        raise RuleViolation(f"{CASE_KINDS[kind]}须核定大于零的金额", field="proposed_amount_fen", kind="invalid-amount")
    return amount_fen


def needs_hardship_file(kind: str, amount_fen: int) -> bool:
    """先建档、后帮扶: every case that pays money, and every money kind, needs an open file."""
    return kind in MONEY_KINDS or amount_fen > 0


def check_hardship_file(has_open_file: bool) -> None:
    if not has_open_file:
        raise RuleViolation("先建档、后帮扶：该会员没有在档的困难职工档案，不能审批或发放", status=422,
                            kind="no-hardship-file")


def migrant_eligible_from(member: KnownMember, min_months: int) -> date | None:
    """The day a migrant worker (农民工) becomes eligible for hardship aid: `min_months` after
    joining. None for other members."""
    if not member.is_migrant_worker:
        return None
    return add_months(member.joined_on, min_months)


def check_migrant_waiting_period(member: KnownMember, *, today: date, min_months: int) -> None:
    eligible = migrant_eligible_from(member, min_months)
    if eligible is not None and today < eligible:
        raise RuleViolation(f"农民工会员入会满{min_months}个月方可享受困难帮扶：自 {eligible.isoformat()} 起符合条件",
                            status=422, kind="migrant-worker-waiting-period")


def assessed_event(case: AssistanceCase, amount_fen: int, on: date) -> CaseAssessed:
    return CaseAssessed(case_id=case.id, member_id=case.member_id, org_path=case.org_path,
                        proposed_amount_fen=amount_fen, assessed_on=on)


def approved_event(case: AssistanceCase, *, amount_fen: int, fund_id: uuid.UUID, approver: str, on: date) -> CaseApproved:
    return CaseApproved(case_id=case.id, member_id=case.member_id, union_id=case.union_id, org_path=case.org_path,
                        kind=case.kind, approved_amount_fen=amount_fen, fund_id=fund_id, approved_by=approver,
                        approved_on=on)


def rejected_event(case: AssistanceCase, reason: str, on: date) -> CaseRejected:
    return CaseRejected(case_id=case.id, member_id=case.member_id, org_path=case.org_path, reason=reason,
                        rejected_on=on, kind=case.kind)


def disbursed_event(case: AssistanceCase, *, amount_fen: int, entry_id: uuid.UUID, on: date) -> AidDisbursed:
    return AidDisbursed(case_id=case.id, member_id=case.member_id, union_id=case.union_id, org_path=case.org_path,
                        kind=case.kind, amount_fen=amount_fen, fund_id=case.fund_id, ledger_entry_id=entry_id,
                        paid_on=on)


def closed_event(case: AssistanceCase, outcome: str, on: date) -> CaseClosed:
    return CaseClosed(case_id=case.id, member_id=case.member_id, org_path=case.org_path, outcome=outcome, closed_on=on)
