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


def check_counts(electorate: int | None, present: int, in_favour: int) -> None:
    """Counts that cannot be, each refusal naming its field; `electorate` None: not known yet."""
    if electorate is not None and electorate < 1:
        raise RuleViolation("应到人数须大于零", field="electorate")
    if electorate is not None and present > electorate:
        raise RuleViolation("实到人数不能超过应到人数", field="present")
    if in_favour > present:
        raise RuleViolation("赞成人数不能超过实到人数", field="in_favour")


@dataclass(frozen=True)
class Vote:
    electorate: int  # all delegates (or all workers) entitled to vote
    present: int
    in_favour: int

    def __post_init__(self) -> None:
        check_counts(self.electorate, self.present, self.in_favour)

    @property
    def quorate(self) -> bool:
        return 3 * self.present >= 2 * self.electorate

    @property
    def outcome(self) -> Outcome:
        if not self.quorate:
            return "inquorate"
        return "adopted" if 2 * self.in_favour > self.electorate else "rejected"


def congress_electorate(delegates: int | None, stated: int | None) -> int:
    """The electorate of a vote before a congress: its delegates in term on the day (`delegates`;
    None when no one congress covers the employers concerned). A number the officer states must
    agree with it."""
    if delegates is None:
        raise RuleViolation("所涉企业没有共同的职工代表大会：草案须提交其职代会或全体职工讨论",
                            field="body", status=409, kind="no-congress")
    if delegates == 0:
        raise RuleViolation("该职代会在表决日没有在任的职工代表", field="voted_on", status=409, kind="no-delegates")
    if stated is not None and stated != delegates:
        raise RuleViolation(f"应到人数须为该职代会表决日在任的职工代表人数（{delegates}人）", field="electorate")
    return delegates
