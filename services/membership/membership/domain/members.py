"""Rules of real-name admission, re-joining, the member profile and the member lifecycle, free of
I/O — and the factory of MemberJoined (admission, re-joining and imports raise it)."""
from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from contracts.events import MemberJoined, MemberStatusChanged
from unionops.backdating import check_dated
from unionops.bodies import Body
from unionops.inputs import Flag, PersonName, UnitName
from unionops.problems import RuleViolation

# ---- member profile -----------------------------------------------------------------------------

# Honours kept in the member file: English codes, the Chinese labels the office uses.
HONOURS: dict[str, str] = {
    "model_worker": "劳动模范（劳模）",
    "may_day_labour_medal": "五一劳动奖章",
    "workers_pioneer": "工人先锋号",
    "gold_medal_worker": "金牌工人",
    "innovation_pacesetter": "创新标兵",
    "march_8th_red_banner": "三八红旗手",
}

EDUCATION: dict[str, str] = {
    "junior_secondary_or_below": "初中及以下",
    "senior_secondary": "高中/中专/技校",
    "junior_college": "大专",
    "bachelor": "本科",
    "postgraduate": "研究生",
}

# Fields whose values are personal contact data: audited masked, never on the member topic.
CONTACT_FIELDS = frozenset({"phone", "email"})
PROFILE_FIELDS = ("name", "phone", "email", "employer", "occupation", "education", "is_migrant_worker", "honours")


def check_profile_editable(status: str) -> None:
    """A member who left is history: the file is kept as it was; re-joining opens it again."""
    if status == "left":
        raise RuleViolation("该会员已退会，档案不可修改；重新入会后可更新资料", kind="member-left")


def profile_changes(current: dict, requested: dict) -> dict[str, tuple]:
    """The fields whose value really changes: {field: (old, new)}. Honours compare as sets."""
    changes: dict[str, tuple] = {}
    for name in PROFILE_FIELDS:
        if name not in requested:
            continue
        old, new = current.get(name), requested[name]
        if name == "honours":
            old, new = sorted(set(old or ())), sorted(set(new or ()))
        if old != new:
            changes[name] = (old, new)
    return changes


def honour_changes(old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    """(awarded, revoked), in the fixed order of HONOURS."""
    before, after = set(old or ()), set(new or ())
    return [h for h in HONOURS if h in after - before], [h for h in HONOURS if h in before - after]


# ---- member lifecycle ---------------------------------------------------------------------------
#   active ──(retired | unemployed | employer_closed)──▶ retained   (会籍保留)
#   retained ──(reactivated)──▶ active
#   active | retained ──(resigned | deceased | expelled | administrative)──▶ left
#   left is final: only a new admission (re-joining) makes the person a member again.

RETAIN_REASONS = frozenset({"retired", "unemployed", "employer_closed"})
LEAVE_REASONS = frozenset({"resigned", "deceased", "expelled", "administrative"})
# Set only by a federation administrator (CiviMember: some statuses only an administrator may set).
ADMIN_ONLY_REASONS = frozenset({"administrative"})
STATUS_LABELS = {"active": "正常", "retained": "会籍保留", "left": "已退会"}


def check_status_change(current: str, target: str, reason: str, *, by_admin: bool) -> None:
    """Which status changes are legal, for which reasons."""
    if current == "left":
        raise RuleViolation("该会员已退会；退会为终态，只能重新入会", field="status", kind="member-left")
    if target == current:
        raise RuleViolation(f"会员状态已是“{STATUS_LABELS[current]}”", field="status", kind="status-unchanged")
    allowed = {
        ("active", "retained"): RETAIN_REASONS,
        ("retained", "active"): {"reactivated"},
        ("active", "left"): LEAVE_REASONS,
        ("retained", "left"): LEAVE_REASONS,
    }.get((current, target))
    if allowed is None:
        raise RuleViolation(f"不能从“{STATUS_LABELS[current]}”变为“{STATUS_LABELS.get(target, target)}”",
                            field="status", kind="illegal-status-change")
    if reason not in allowed:
        raise RuleViolation(f"变为“{STATUS_LABELS[target]}”的原因须为 {sorted(allowed)} 之一", field="reason",
                            kind="illegal-status-change")
    if reason in ADMIN_ONLY_REASONS and not by_admin:
        raise RuleViolation("该原因只能由总工会管理员设置", field="reason", status=403, kind="admin-only-reason")


# A join date is a day that happened: not in the future, not before the ACFTU was founded
# (1 May 1925), and not before the person could work (16, the legal minimum working age). A
# historic date is legitimate (rosters of existing members are imported with their real dates).
EARLIEST_JOINED_ON = date(1925, 5, 1)
MIN_JOINING_AGE = 16


def sixteenth_birthday(birth_date: date) -> date:
    try:
        return birth_date.replace(year=birth_date.year + MIN_JOINING_AGE)
    except ValueError:  # born on 29 February
        return date(birth_date.year + MIN_JOINING_AGE, 3, 1)


def check_joined_on(joined_on: date, birth_date: date | None, today: date) -> int:
    """Returns how many days the admission is back-dated (birth date unknown: not checked)."""
    backdated = check_dated(joined_on, today, field="joined_on", what="入会日期", earliest=EARLIEST_JOINED_ON,
                            earliest_why="（中华全国总工会成立之日）")
    if birth_date is not None and joined_on < (adult := sixteenth_birthday(birth_date)):
        raise RuleViolation(f"入会日期不能早于本人年满{MIN_JOINING_AGE}周岁之日（{adult.isoformat()}）",
                            field="joined_on", kind="dated-too-early")
    return backdated


def check_readmission(status: str) -> None:
    """One membership per person: only someone who has left may be admitted again."""
    if status in ("active", "retained"):
        raise RuleViolation("一人只能有一个会籍", field="id_number", status=409, kind="already-a-member")


def rejoin_gap_days(left_on: date, joined_on: date) -> int:
    """The gap between leaving and joining again, kept visible in the member file."""
    if joined_on < left_on:
        raise RuleViolation(f"重新入会日期不能早于退会日期（{left_on.isoformat()}）", field="joined_on")
    return (joined_on - left_on).days


# ---- the admission's input and refusals ------------------------------------------------------------

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class MemberFields(Body):
    # What admitting one person takes — the body of POST /members (api.bodies.MemberIn) and the
    # limits every row of an import is held to (domain.imports.validate_row).
    union_id: uuid.UUID
    name: PersonName = Field(min_length=2, max_length=50)
    id_number: str = Field(min_length=1, max_length=32, description="18位居民身份证号")
    phone: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=200, pattern=EMAIL_PATTERN)
    employer: UnitName | None = Field(None, max_length=200)
    is_migrant_worker: Flag = False
    joined_on: date | None = None


def mask_union(name: str | None) -> str:
    """The refusal names the existing union without exposing it whole to any caller."""
    if not name:
        return "其他工会"
    return name[:2] + "*" * max(len(name) - 4, 1) + name[-2:] if len(name) > 4 else name[0] + "*" * (len(name) - 1)


def already_a_member_message(masked_id: str, union_name: str | None, status: str) -> str:
    """The duplicate refusal for a caller whose subtree holds the membership."""
    hint = "；该会员现为会籍保留状态" if status == "retained" else ""
    return (f"该身份证号（{masked_id}）已是{mask_union(union_name)}会员，一人只能有一个会籍{hint}。"
            "如已更换工作单位，请办理会员关系转移")


def elsewhere_message(masked_id: str, office: str) -> str:
    """The duplicate refusal for a caller outside the member's subtree: no union, no id, no status."""
    return (f"该身份证号（{masked_id}）已在其他工会登记为会员，一人只能有一个会籍。"
            f"如已更换工作单位，请联系{office}，或向其工会提出会员关系转移申请（/transfer-requests）")


# ---- events -----------------------------------------------------------------------------------------

def member_joined(*, member_id: uuid.UUID, union_id: uuid.UUID, union_name: str, org_path: list[uuid.UUID],
                  name: str, gender: str, birth_date: date, is_migrant_worker: bool, joined_on: date,
                  rejoined_after_days: int | None = None) -> MemberJoined:
    """A person became a member (admission, or re-joining after `rejoined_after_days`). The
    import stages the same fields set-based (commands.imports, checked against this model)."""
    return MemberJoined(member_id=member_id, union_id=union_id, union_name=union_name, org_path=org_path, name=name,
                        gender=gender, birth_year=birth_date.year, is_migrant_worker=is_migrant_worker,
                        joined_on=joined_on, rejoined_after_days=rejoined_after_days)


def member_status_changed(member_id: uuid.UUID, *, union_id: uuid.UUID, org_path: list[uuid.UUID], from_status: str,
                          to_status: str, reason: str, changed_on: date) -> MemberStatusChanged:
    """active ↔ retained: by staff, by a transfer that reactivates, by the dissolution of the union."""
    return MemberStatusChanged(member_id=member_id, union_id=union_id, org_path=org_path, from_status=from_status,
                               to_status=to_status, reason=reason, changed_on=changed_on)
