"""Rules of assistance cases (帮扶案件), free of I/O."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from contracts.events import CaseOpened
from unionops.problems import RuleViolation

# Kinds of assistance the federation gives, with the words its staff use.
CASE_KINDS: dict[str, str] = {
    "living": "生活救助",
    "medical": "医疗帮扶",
    "education": "助学",
    "employment": "就业帮扶",
    "legal": "法律援助",
    "temporary": "临时救助",
}

# How a case reaches the union: an application, a visit (走访), or the 12351 hotline.
CASE_SOURCES: dict[str, str] = {
    "application": "申请",
    "visit": "走访",
    "hotline": "12351职工热线",
}

# opened → assessed → approved → paid → closed. Only `opened` is reached so far.
CASE_STATUSES = ("opened", "assessed", "approved", "paid", "closed")

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

    def opened_event(self) -> CaseOpened:
        """The fact other services hear. The summary stays here: it holds health and family detail."""
        return CaseOpened(case_id=self.id, member_id=self.member_id, union_id=self.union_id, org_path=self.org_path,
                          kind=self.kind, source=self.source, opened_on=self.opened_on)


def open_case(member: KnownMember | None, *, kind: str, source: str, opened_by: str, today: date) -> AssistanceCase:
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
        kind=kind, source=source, status="opened", opened_on=today, opened_by=opened_by,
    )
