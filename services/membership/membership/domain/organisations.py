"""Rules of the organisation tree (levels and kinds of units) and of employers' unified social
credit codes, free of I/O."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from contracts.events import UnionEstablished
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


def union_established(*, org_id: uuid.UUID, parent_id: uuid.UUID | None, org_path: list[uuid.UUID], name: str,
                      level: str, kind: str, region_code: str, established_on: date) -> UnionEstablished:
    """A unit was founded (the city root at first start, or any unit below it)."""
    return UnionEstablished(org_id=org_id, parent_id=parent_id, org_path=org_path, name=name, level=level, kind=kind,
                            region_code=region_code, established_on=established_on)
