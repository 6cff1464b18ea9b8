"""Rules of the organisation tree and of real-name admission, free of I/O."""
from __future__ import annotations

from typing import Literal

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
