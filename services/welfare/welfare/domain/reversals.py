"""Reversals (冲正) of wrong payments, free of I/O: what may be reversed, the four-eyes rule
between who asks and who approves, and the AidReversed event."""
from __future__ import annotations

import uuid
from datetime import date

from contracts.events import AidReversed
from unionops.problems import RuleViolation

NOT_FOUND = "冲正申请不存在或不在您的管辖范围内"
ENTRY_NOT_FOUND = "分录不存在或不在您的管辖范围内"
STATUS_LABELS = {"requested": "待审批", "approved": "已冲正", "rejected": "已驳回"}

# A reversal is a person's act on both sides (the four-eyes rule compares people), as a case decision.
DECIDING_ROLES = frozenset({"staff", "federation_admin"})


def check_reversible(kind: str) -> None:
    """Only a payment (disbursement) is reversed here; a reversal is final (never reversed back),
    a commitment is ended by a release, an allocation by the fund's own workflow."""
    if kind == "reversal":
        raise RuleViolation("冲正分录不能再冲正", field="entry_id", status=409, kind="reversal-of-reversal")
    if kind != "disbursement":
        raise RuleViolation("只有发放（支付）分录可以申请冲正", field="entry_id", status=409, kind="not-reversible")


def check_person(role: str) -> None:
    if role not in DECIDING_ROLES:
        raise RuleViolation(f"角色 {role} 不能申请或审批冲正", status=403, kind="forbidden-role")


def check_decider(requested_by: str, subject: str, status: str) -> None:
    """A request is decided once, and never by the officer who asked for it (四眼原则)."""
    if status != "requested":
        raise RuleViolation(f"该冲正申请{STATUS_LABELS[status]}，不能再审批", status=409, kind="reversal-decided")
    if subject == requested_by:
        raise RuleViolation("冲正须由申请人以外的另一名工作人员审批", status=403, kind="four-eyes")


def aid_reversed(*, payee, entry, reversal_entry_id: uuid.UUID, on: date) -> AidReversed:
    """`payee`: who the payment went to (member, union, path, kind, campaign, paid_on);
    `entry`: the payment's ledger entry."""
    return AidReversed(case_id=entry["case_id"], member_id=payee["member_id"], union_id=payee["union_id"],
                       org_path=payee["org_path"], kind=payee["kind"], amount_fen=entry["amount_fen"],
                       fund_id=entry["fund_id"], campaign_id=entry["campaign_id"], ledger_entry_id=entry["id"],
                       reversal_entry_id=reversal_entry_id, paid_on=payee["paid_on"], reversed_on=on,
                       visit_id=payee["visit_id"])
