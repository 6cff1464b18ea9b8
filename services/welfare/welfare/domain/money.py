"""Money and the arithmetic of the fund ledger (专项帮扶资金), free of I/O.

Amounts are integer fen (分) everywhere; a float never holds money. Each ledger entry kind moves
money between the four figures of a fund's balance row; `EFFECTS` is the one place that says how,
and the database updates in `welfare.commands.ledger` are built from it, so the SQL and the pure model
cannot drift apart.

    held      = available + committed + disbursed      (the money this fund has)
    allocated = net allocations in − out               (always equal to `held`)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from unionops.problems import RuleViolation

ENTRY_KINDS = ("allocation_in", "allocation_out", "commitment", "commitment_release", "disbursement", "reversal")

# Entry kinds a reversal may undo. A commitment is ended by a release, never reversed; a reversal is final.
REVERSIBLE = ("allocation_in", "allocation_out", "disbursement")


@dataclass(frozen=True)
class Figures:
    """A fund's four figures in fen: a balance (`Balance`) or a change to one (`Delta`)."""
    allocated: int = 0
    available: int = 0
    committed: int = 0
    disbursed: int = 0


class Delta(Figures):
    def __mul__(self, amount: int) -> "Delta":
        return Delta(self.allocated * amount, self.available * amount, self.committed * amount,
                     self.disbursed * amount)


# The effect of one fen of each kind on the fund the entry is booked to.
EFFECTS: Mapping[str, Delta] = {
    "allocation_in": Delta(allocated=1, available=1),
    "allocation_out": Delta(allocated=-1, available=-1),
    "commitment": Delta(available=-1, committed=1),
    "commitment_release": Delta(available=1, committed=-1),
    "disbursement": Delta(committed=-1, disbursed=1),
}

# A reversal undoes the entry it reverses: an allocation exactly, while a reversed disbursement
# returns the money to the fund's available balance (its commitment was consumed when it was paid).
REVERSAL_EFFECTS: Mapping[str, Delta] = {
    "allocation_in": EFFECTS["allocation_in"] * -1,
    "allocation_out": EFFECTS["allocation_out"] * -1,
    "disbursement": Delta(available=1, disbursed=-1),
}


def effect(kind: str, amount_fen: int, reversed_kind: str | None = None) -> Delta:
    """The change an entry of `kind` and `amount_fen` makes to its fund's balance."""
    check_amount(amount_fen)
    if kind == "reversal":
        if reversed_kind not in REVERSAL_EFFECTS:
            raise RuleViolation(f"不能冲销 {reversed_kind} 类分录", field="entry_id", kind="not-reversible")
        return REVERSAL_EFFECTS[reversed_kind] * amount_fen
    return EFFECTS[kind] * amount_fen


class Balance(Figures):
    @property
    def held(self) -> int:
        return self.available + self.committed + self.disbursed

    def can_apply(self, delta: Delta) -> bool:
        """True when no figure would go below zero: the rule the balance row's CHECK enforces."""
        return (self.available + delta.available >= 0 and self.committed + delta.committed >= 0
                and self.disbursed + delta.disbursed >= 0 and self.allocated + delta.allocated >= 0)

    def apply(self, delta: Delta) -> "Balance":
        if not self.can_apply(delta):
            raise insufficient_funds(self.available, -delta.available)
        return Balance(self.allocated + delta.allocated, self.available + delta.available,
                       self.committed + delta.committed, self.disbursed + delta.disbursed)


class InsufficientFunds(RuleViolation):
    """The fund's available balance cannot cover a movement (409). `available_fen` says what it can."""

    def __init__(self, available_fen: int, wanted_fen: int) -> None:
        super().__init__(f"专项资金可用余额不足：可用 {yuan(available_fen)}，需要 {yuan(wanted_fen)}",
                         field="amount_fen", status=409, kind="insufficient-funds")
        self.available_fen = available_fen
        self.wanted_fen = wanted_fen


def insufficient_funds(available_fen: int, wanted_fen: int) -> InsufficientFunds:
    return InsufficientFunds(available_fen, wanted_fen)


MAX_FEN = 10**15  # far above any budget; keeps amounts inside bigint with room for sums


def check_amount(amount_fen: int) -> int:
    """An amount is a positive whole number of fen (bool and float are refused)."""
    if type(amount_fen) is not int or not 0 < amount_fen <= MAX_FEN:
        raise RuleViolation("金额须为正整数（单位：分）", field="amount_fen", kind="invalid-amount")
    return amount_fen


def yuan(fen: int) -> str:
    """Display an amount in fen as yuan: 300000 → "3,000.00元". Integer arithmetic only."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}元"


def money(fen: int) -> dict:
    """An amount as the API shows it: integer fen plus the display string."""
    return {"fen": int(fen), "yuan": yuan(fen)}
