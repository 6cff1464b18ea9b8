"""Rules of the organisation tree and of real-name admission, free of I/O."""
from __future__ import annotations

from datetime import date
from typing import Literal

from unionops.backdating import check_dated
from unionops.problems import RuleViolation

Level = Literal["city", "district", "street", "grassroots"]

# Each level founds units of the next one: city → district/county or industry union →
# street/town union → grassroots union.
CHILD_LEVEL: dict[str, str] = {"city": "district", "district": "street", "street": "grassroots"}

KINDS_BY_LEVEL: dict[str, set[str]] = {
    "city": {"federation"},
    "district": {"district_federation", "county_federation", "industry_union"},
    "street": {"street_union", "town_union", "community_station"},
    "grassroots": {
        "enterprise_union",
        "joint_grassroots_union",
        "building_union",
        "market_union",
        "industry_union",
        "migrant_worker_federation",
    },
}


def check_child_unit(parent_level: str, level: str, kind: str) -> None:
    expected = CHILD_LEVEL.get(parent_level)
    if expected is None:
        raise RuleViolation("基层工会下不能再设组织", field="parent_id")
    if level != expected:
        raise RuleViolation(f"上级为 {parent_level} 级，新组织须为 {expected} 级", field="level")
    if kind not in KINDS_BY_LEVEL[level]:
        raise RuleViolation(f"{level} 级组织的类型须为 {sorted(KINDS_BY_LEVEL[level])} 之一", field="kind")


def check_admitting_unit(level: str) -> None:
    """Members belong to exactly one grassroots union."""
    if level != "grassroots":
        raise RuleViolation("会员只能加入基层工会", field="union_id")


# ---- unified social credit codes (统一社会信用代码, GB 32100-2015) ----------------------------------

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalise_credit_code(raw: str, *, field: str = "credit_code") -> str:
    """An employer's 18-character unified social credit code, upper-cased, check character verified."""
    code = (raw or "").strip().upper()
    if len(code) != 18 or any(c not in _CREDIT_CHARS for c in code):
        raise RuleViolation("统一社会信用代码须为18位数字或大写字母（不含I、O、Z、S、V）", field=field)
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], _CREDIT_WEIGHTS))
    if _CREDIT_CHARS[(31 - total % 31) % 31] != code[17]:
        raise RuleViolation("统一社会信用代码校验码错误", field=field)
    return code


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


# ---- transfers (会员关系随劳动关系转移) -----------------------------------------------------------

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
