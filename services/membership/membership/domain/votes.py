"""How a workers' congress (or a meeting of all workers) decides, as the rules require: a quorum
of two thirds of all delegates (or all workers) present, and more than half of ALL of them — not
of those present — in favour (集体合同规定 Art. 36; the congress's own rules alike). Used for a
draft collective contract and for a congress's resolutions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from unionops.problems import RuleViolation

Outcome = Literal["adopted", "rejected", "inquorate"]

OUTCOME_LABELS: dict[str, str] = {"adopted": "通过", "rejected": "未通过", "inquorate": "到会人数不足三分之二，表决无效"}


@dataclass(frozen=True)
class Vote:
    electorate: int  # all delegates (or all workers) entitled to vote
    present: int
    in_favour: int

    def __post_init__(self) -> None:
        if self.electorate < 1:
            raise RuleViolation("应到人数须大于零", field="electorate")
        if self.present > self.electorate:
            raise RuleViolation("实到人数不能超过应到人数", field="present")
        if self.in_favour > self.present:
            raise RuleViolation("赞成人数不能超过实到人数", field="in_favour")

    @property
    def quorate(self) -> bool:
        return 3 * self.present >= 2 * self.electorate

    @property
    def outcome(self) -> Outcome:
        if not self.quorate:
            return "inquorate"
        return "adopted" if 2 * self.in_favour > self.electorate else "rejected"
