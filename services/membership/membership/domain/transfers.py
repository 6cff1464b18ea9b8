"""Rules of transfers (会员关系随劳动关系转移): where a membership goes, who may move it, free of I/O."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Mapping

from contracts.events import MemberTransferred
from unionops.backdating import check_dated
from unionops.problems import RuleViolation

# Where the new employer has no union, the union of the residence area holds the membership.
# The holder for residence region code R is, in this order of preference:
#   1. a grassroots union in R of an area-wide kind (joint grassroots union 联合基层工会, migrant-
#      worker union federation 进城务工人员工会联合会) — such unions take workers of any employer there;
#   2. a street / town union (街道/乡镇工会) in R, holding the membership itself (会籍保留 style).
# Enterprise, building, market and industry unions are tied to their employers and never hold
# strangers' memberships. Several candidates of the same rank: the earliest founded, then by name
# and id, so the choice is stable. None: the transfer is refused (no union may be invented).
RESIDENCE_HOLDER_RANKS: tuple[tuple[str, frozenset[str]], ...] = (
    ("grassroots", frozenset({"joint_grassroots_union", "migrant_worker_federation"})),
    ("street", frozenset({"street_union", "town_union"})),
)


def residence_holder_rank(level: str, kind: str) -> int | None:
    for rank, (lvl, kinds) in enumerate(RESIDENCE_HOLDER_RANKS):
        if level == lvl and kind in kinds:
            return rank
    return None


def choose_residence_holder(candidates: list[dict]) -> dict | None:
    """From units whose region code is the residence's ({id, name, level, kind, established_on}),
    the one that holds the membership, or None."""
    ranked = [(residence_holder_rank(c["level"], c["kind"]), c) for c in candidates]
    ranked = [(r, c) for r, c in ranked if r is not None]
    if not ranked:
        return None
    return min(ranked, key=lambda rc: (rc[0], rc[1]["established_on"], rc[1]["name"], str(rc[1]["id"])))[1]


def transfer_initiator(by_member: bool, covers_from: bool, covers_to: bool) -> str:
    """Who makes a transfer: the member themself, staff over the member's current union, or
    over both ends (a federation above the two). Staff over the receiving union only may not
    move anyone (they ask: a transfer request, which the member or the sending side confirms)."""
    if by_member:
        return "member"
    if not covers_from:
        raise ValueError("only the sending side or the member moves a member")
    return "federation" if covers_to else "from_union"


def check_transfer(*, status: str, from_union_id, to_union_id, to_level: str, held_by_residence_union: bool,
                   effective_on: date, joined_on: date, today: date) -> str:
    """The receiving union cannot refuse: there is no accept step, only these checks of the
    request itself. Returns the member's status after the transfer: a retained member (e.g.
    unemployed) who is transferred to a new employer's union is working again, so active."""
    if status == "left":
        raise RuleViolation("该会员已退会，不能转移；请在新单位工会重新入会", kind="member-left")
    if to_union_id == from_union_id:
        raise RuleViolation("会员已在该工会，无需转移", field="to_union_id", kind="same-union")
    if to_level != "grassroots" and not (held_by_residence_union and to_level == "street"):
        raise RuleViolation("会员关系只能转入基层工会", field="to_union_id")
    check_dated(effective_on, today, field="effective_on", what="转移生效日期")
    if effective_on < joined_on:
        raise RuleViolation(f"转移生效日期不能早于入会日期（{joined_on.isoformat()}）", field="effective_on")
    return "active"


def member_transferred(member_id: uuid.UUID, *, from_union_id: uuid.UUID, from_org_path: list[uuid.UUID],
                       to_unit: Mapping, reason: str, initiated_by: str, effective_on: date,
                       held_by_residence_union: bool = False, request_id: uuid.UUID | None = None) -> MemberTransferred:
    """A membership moved into `to_unit` ({id, name, path}): one member's transfer, or each member
    of a merged or dissolved union."""
    return MemberTransferred(
        member_id=member_id, from_union_id=from_union_id, to_union_id=to_unit["id"], to_union_name=to_unit["name"],
        from_org_path=from_org_path, to_org_path=to_unit["path"], reason=reason, initiated_by=initiated_by,
        held_by_residence_union=held_by_residence_union, effective_on=effective_on, request_id=request_id)
