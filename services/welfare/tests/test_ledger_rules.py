"""The arithmetic of the fund ledger (welfare.domain.money), without a database: every entry kind's
effect, the refusals, the yuan display, and a property-based check that no sequence of
allocations, commitments, releases, disbursements and reversals makes a figure negative or
loses a fen. (tests/integration/test_fund_ledger.py runs the same property against PostgreSQL
through welfare.commands.ledger.)"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from unionops.problems import RuleViolation
from welfare.domain.money import EFFECTS, REVERSAL_EFFECTS, Balance, InsufficientFunds, check_amount, effect, money, yuan


def test_amounts_are_shown_in_yuan_with_thousands_and_two_decimals():
    assert yuan(300000) == "3,000.00元"
    assert yuan(1) == "0.01元"
    assert yuan(0) == "0.00元"
    assert yuan(123456789) == "1,234,567.89元"
    assert yuan(-50) == "-0.50元"
    assert money(600000) == {"fen": 600000, "yuan": "6,000.00元"}


@pytest.mark.parametrize("bad", [0, -1, 1.5, 100.0, True, "100", 10**16])
def test_an_amount_is_a_positive_whole_number_of_fen(bad):
    with pytest.raises(RuleViolation) as exc:
        check_amount(bad)
    assert exc.value.kind == "invalid-amount"


def test_every_kind_keeps_the_money_a_fund_holds_equal_to_what_it_was_allocated():
    for d in list(EFFECTS.values()) + list(REVERSAL_EFFECTS.values()):
        assert d.allocated == d.available + d.committed + d.disbursed


def test_a_commitment_beyond_the_available_balance_is_refused_naming_the_available_yuan():
    b = Balance(allocated=10000, available=10000)
    with pytest.raises(InsufficientFunds) as exc:
        b.apply(effect("commitment", 10001))
    assert exc.value.status == 409 and exc.value.kind == "insufficient-funds"
    assert "100.00元" in exc.value.message and exc.value.available_fen == 10000


def test_a_commitment_or_release_cannot_be_reversed():
    for kind in ("commitment", "commitment_release", "reversal"):
        with pytest.raises(RuleViolation) as exc:
            effect("reversal", 100, kind)
        assert exc.value.kind == "not-reversible"


def test_a_reversed_disbursement_returns_the_money_to_the_available_balance():
    b = Balance(allocated=500, available=0, committed=0, disbursed=500)
    after = b.apply(effect("reversal", 200, "disbursement"))
    assert after == Balance(allocated=500, available=200, committed=0, disbursed=300)


# ---- the property ------------------------------------------------------------------------------

class Model:
    """A fund tree (0 is the root; 1 and 2 its children; 3 a child of 1) driven through the pure
    effects with the same rules welfare.commands.ledger applies: allocations go to child funds, a
    disbursement draws on its commitment and settles it, each entry is reversed at most once."""

    PARENT = {1: 0, 2: 0, 3: 1}

    def __init__(self) -> None:
        self.balances = {f: Balance() for f in range(4)}
        self.entries: list[tuple[int, str, int, str | None]] = []  # fund, kind, amount, reversed kind
        self.budget = 0
        self.commitments: dict[int, list] = {}  # entry index -> [fund, remaining, settled]
        self.reversed: set[int] = set()
        self.pairs: dict[int, int] = {}  # allocation side -> other side

    def book(self, fund: int, kind: str, amount: int, reversed_kind: str | None = None) -> int:
        self.balances[fund] = self.balances[fund].apply(effect(kind, amount, reversed_kind))
        self.entries.append((fund, kind, amount, reversed_kind))
        return len(self.entries) - 1

    def try_(self, fn, *args) -> None:
        try:
            fn(*args)
        except InsufficientFunds:
            pass  # refused: nothing may have changed (apply is all-or-nothing per entry)

    def credit(self, amount: int) -> None:
        self.book(0, "allocation_in", amount)
        self.budget += amount

    def allocate(self, child: int, amount: int) -> None:
        parent = self.PARENT[child]
        if not self.balances[parent].can_apply(effect("allocation_out", amount)):
            raise InsufficientFunds(self.balances[parent].available, amount)
        out = self.book(parent, "allocation_out", amount)
        inn = self.book(child, "allocation_in", amount)
        self.pairs[out], self.pairs[inn] = inn, out

    def commit(self, fund: int, amount: int) -> None:
        self.commitments[self.book(fund, "commitment", amount)] = [fund, amount, False]

    def release(self, pick: int) -> None:
        open_ = [k for k, c in self.commitments.items() if not c[2]]
        if open_:
            c = self.commitments[open_[pick % len(open_)]]
            if c[1]:
                self.book(c[0], "commitment_release", c[1])
            c[1], c[2] = 0, True

    def disburse(self, pick: int, amount: int) -> None:
        open_ = [k for k, c in self.commitments.items() if not c[2]]
        if open_:
            c = self.commitments[open_[pick % len(open_)]]
            amount = min(amount, c[1])
            self.book(c[0], "disbursement", amount)
            if c[1] - amount:
                self.book(c[0], "commitment_release", c[1] - amount)
            c[1], c[2] = 0, True

    def reverse(self, pick: int) -> None:
        candidates = [i for i, e in enumerate(self.entries) if e[1] in REVERSAL_EFFECTS and i not in self.reversed]
        if not candidates:
            return
        i = candidates[pick % len(candidates)]
        sides = sorted([i, self.pairs[i]], key=lambda j: self.entries[j][1], reverse=True) if i in self.pairs else [i]
        before = dict(self.balances), len(self.entries)
        try:
            for j in sides:
                fund, kind, amount, _ = self.entries[j]
                self.book(fund, "reversal", amount, kind)
        except InsufficientFunds:
            self.balances, self.entries = before[0], self.entries[:before[1]]  # the transaction rolls back
            raise
        self.reversed.update(sides)
        if sides == [i] and self.entries[i][1] == "allocation_in":
            self.budget -= self.entries[i][2]  # a reversed budget credit

    def check(self) -> None:
        for b in self.balances.values():
            assert min(b.allocated, b.available, b.committed, b.disbursed) >= 0
            assert b.allocated == b.held
        assert sum(b.held for b in self.balances.values()) == self.budget
        for f, b in self.balances.items():
            sums = Balance()
            for fund, kind, amount, rk in self.entries:
                if fund == f:
                    sums = Balance(*(x + y for x, y in zip(
                        (sums.allocated, sums.available, sums.committed, sums.disbursed),
                        (lambda d: (d.allocated, d.available, d.committed, d.disbursed))(effect(kind, amount, rk)))))
            assert sums == b


amounts = st.integers(min_value=1, max_value=50_000)
operations = st.lists(st.one_of(
    st.tuples(st.just("credit"), amounts),
    st.tuples(st.just("allocate"), st.sampled_from([1, 2, 3]), amounts),
    st.tuples(st.just("commit"), st.integers(0, 3), amounts),
    st.tuples(st.just("release"), st.integers(0, 50)),
    st.tuples(st.just("disburse"), st.integers(0, 50), amounts),
    st.tuples(st.just("reverse"), st.integers(0, 200)),
), max_size=60)


@settings(max_examples=400, deadline=None)
@given(operations)
def test_no_sequence_of_movements_makes_a_balance_negative_or_loses_a_fen(ops):
    model = Model()
    for name, *args in ops:
        model.try_(getattr(model, name), *args)
        model.check()
