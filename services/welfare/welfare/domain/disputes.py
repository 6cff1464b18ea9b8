"""Rules of labour-dispute mediation (劳动争议调解) and the referral to legal aid (法律援助), free of
I/O: who may apply and how, the 15 days of 劳动争议调解仲裁法 Art. 14 after which the worker may
apply for arbitration, collective disputes (ten or more workers), agreement and failure, and what
legal aid gave; with the event factories of the events raised from more than one place."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from contracts.events import DisputeArbitrationOpen
from unionops.backdating import check_dated
from unionops.problems import RuleViolation

KINDS: dict[str, str] = {
    "pay": "劳动报酬", "contract": "劳动合同", "dismissal": "解除、终止劳动合同", "injury": "工伤",
    "social_insurance": "社会保险", "other": "其他",
}
APPLICATION_FORMS: dict[str, str] = {"written": "书面申请", "oral": "口头申请"}
STATUSES: dict[str, str] = {"mediating": "调解中", "agreed": "达成调解协议", "failed": "调解不成"}
FAILURE_REASONS: dict[str, str] = {
    "no_agreement": "双方未能达成协议", "party_refused": "一方拒绝调解", "party_absent": "一方未到场",
    "other": "其他",
}
# What legal aid gave (法律援助形式) and, where it represented the worker, the result.
LEGAL_AID_FORMS: dict[str, str] = {
    "advice": "法律咨询", "arbitration": "代理劳动仲裁", "litigation": "代理诉讼", "withdrawn": "申请人撤回",
}
LEGAL_AID_RESULTS: dict[str, str] = {"won": "胜诉（裁决支持）", "partly": "部分支持", "lost": "未获支持",
                                     "settled": "和解、调解结案"}
REPRESENTED = frozenset({"arbitration", "litigation"})

# 劳动争议调解仲裁法 Art. 14: no agreement within 15 days of the application → arbitration. The
# application day itself is not counted (民法典 Art. 201), so the 15 days end on applied_on + 15
# and the worker may apply from the day after.
MEDIATION_DAYS = 15
# 集体劳动争议: ten or more workers concerned (劳动争议调解仲裁法 Art. 7).
COLLECTIVE_WORKERS = 10
# An application is registered when it comes in; one written down late may be dated back this far.
APPLICATION_BACKDATE_MAX_DAYS = 30
# Mediation committees sit at the employer's grassroots union or at a street (town) union.
MEDIATING_LEVELS = frozenset({"grassroots", "street"})

NOT_FOUND = "劳动争议案件不存在或不在您的管辖范围内"
UNKNOWN_UNIT = "组织不存在：尚未建立或尚未同步"


@dataclass(frozen=True)
class Application:
    """A dispute as the officer registers it (the worker: a member, or a non-member's name)."""

    unit_id: uuid.UUID
    application_form: str
    applied_on: date
    member_id: uuid.UUID | None
    worker_name: str | None
    employer_name: str
    employer_credit_code: str | None
    kind: str
    workers_concerned: int
    claim: str


def is_collective(workers_concerned: int) -> bool:
    return workers_concerned >= COLLECTIVE_WORKERS


def check_application(app: Application, *, unit_level: str, today: date) -> None:
    """The rules of an application beyond its fields' shapes."""
    if unit_level not in MEDIATING_LEVELS:
        raise RuleViolation("劳动争议调解须在基层工会（企业调解委员会）或街道（乡镇）工会受理", field="unit_id",
                            kind="not-a-mediating-unit")
    if (app.member_id is None) == (app.worker_name is None):
        raise RuleViolation("请填写申请职工：会员填 member_id，非会员填姓名 worker_name（二者填其一）",
                            field="member_id", kind="worker")
    check_dated(app.applied_on, today, field="applied_on", what="申请日期",
                max_backdate_days=APPLICATION_BACKDATE_MAX_DAYS)


def credit_code(raw: str | None) -> str | None:
    """An employer's 统一社会信用代码 (optional), check character verified."""
    if raw is None:
        return None
    try:
        return uscc.validate(raw.strip().upper())
    except ValidationError:
        raise RuleViolation("统一社会信用代码须为18位且校验码正确", field="employer_credit_code",
                            kind="invalid-credit-code") from None


def mediation_ends_on(applied_on: date) -> date:
    """The last of the 15 days of mediation."""
    return applied_on + timedelta(days=MEDIATION_DAYS)


def arbitration_open_from(applied_on: date, status: str, failed_on: date | None) -> date | None:
    """From which day the worker may apply for arbitration: the day after the 15 days, or at once
    when mediation failed before; never once an agreement is reached (None)."""
    if status == "agreed":
        return None
    after_period = mediation_ends_on(applied_on) + timedelta(days=1)
    if status == "failed" and failed_on is not None:
        return min(failed_on, after_period)
    return after_period


def arbitration_open(applied_on: date, status: str, failed_on: date | None, today: date) -> bool:
    open_from = arbitration_open_from(applied_on, status, failed_on)
    return open_from is not None and open_from <= today


def check_mediating(status: str, action: str) -> None:
    """Sessions, agreement and failure are steps of a dispute still in mediation."""
    if status != "mediating":
        raise RuleViolation(f"该争议已{STATUSES[status]}，不能{action}", status=409, kind="dispute-concluded")


def check_step_date(day: date, applied_on: date, today: date, *, field: str, what: str) -> None:
    """A session, an agreement or a failure happens between the application and today."""
    check_dated(day, today, field=field, what=what, earliest=applied_on, earliest_why="（申请日期）")


def check_referral(status: str, member_id: uuid.UUID | None, already_referred: bool) -> None:
    """Legal aid follows a dispute not settled by agreement; it is an assistance case of a member
    (welfare aids members), once per dispute."""
    if status == "agreed":
        raise RuleViolation("该争议已达成调解协议，无需转介法律援助", status=409, kind="dispute-concluded")
    if already_referred:
        raise RuleViolation("该争议已转介法律援助", status=409, kind="dispute-referred")
    if member_id is None:
        raise RuleViolation("法律援助案件须为会员办理：申请职工不是会员，请引导其入会或向法律援助中心申请",
                            field="member_id", kind="not-a-member")


def check_legal_aid_outcome(form: str, result: str | None) -> None:
    """Representation (arbitration, court) has a result; advice and a withdrawal have none."""
    if form in REPRESENTED and result is None:
        raise RuleViolation(f"{LEGAL_AID_FORMS[form]}须填写结果（result）", field="result", kind="legal-aid-result")
    if form not in REPRESENTED and result is not None:
        raise RuleViolation(f"{LEGAL_AID_FORMS[form]}不填写结果（result）", field="result", kind="legal-aid-result")


def legal_aid_case_outcome(form: str) -> str:
    """How the assistance case closes: served elsewhere (lawyers, 转介) or withdrawn."""
    return "withdrawn" if form == "withdrawn" else "referred"


def arbitration_opened(*, dispute_id: uuid.UUID, unit_id: uuid.UUID, org_path: list[uuid.UUID],
                       member_id: uuid.UUID | None, kind: str, applied_on: date, open_from: date, cause: str,
                       officer: str) -> DisputeArbitrationOpen:
    """Raised on a failure; the 15-day check stages the same event set-based (commands.disputes)."""
    return DisputeArbitrationOpen(dispute_id=dispute_id, unit_id=unit_id, org_path=org_path, member_id=member_id,
                                  kind=kind, applied_on=applied_on, open_from=open_from, cause=cause, officer=officer)
