"""A budget short of the need shared pro rata (issue 13), on the real PostgreSQL in-process: over
many budgets and amounts a run pays exactly the budget — never more, no fen lost — and every
household within one fen of its exact share, never above its amount. The HTTP test of the rule is
tests/integration/test_campaigns.py."""
from __future__ import annotations

import random

import pytest

from tests.integration.test_campaigns import add_file
from tests.support.inprocess import CITY_ADMIN, admit, branch, loopback
from unionops.clock import local_today
from unionops.unit_of_work import UnitOfWork
from welfare.commands import campaigns, funds
from welfare.domain.campaigns import LEVELS, LaunchCampaign
from welfare.domain.funds import CreateFund

pytestmark = pytest.mark.integration

TODAY = local_today()


async def test_pro_rata_pays_exactly_the_budget_and_every_household_its_share_to_the_fen(rolled_back):
    membership, welfare = await rolled_back("membership"), await rolled_back("welfare")
    district, _, union = await branch(membership, "锦江")
    rng = random.Random(13)
    members = [await admit(membership, union, f"王{'一二三四五六七八九十'[i % 10]}{'甲乙丙'[i // 10]}")
               for i in range(23)]
    await loopback(membership, "welfare", welfare)
    files = {await add_file(welfare, m, rng.choice(list(LEVELS))): None for m in members}
    levels = {r["id"]: r["level"] for r in await welfare.fetch("SELECT id, level FROM hardship_files WHERE id = ANY($1)",
                                                               list(files))}
    fund = await funds.create_fund(UnitOfWork(welfare), CreateFund(org_id=district, name="帮扶资金", year=TODAY.year,
                                                                   parent_fund_id=None), CITY_ADMIN)
    await funds.credit_budget(UnitOfWork(welfare), fund["id"], 10**10, CITY_ADMIN, None, today=TODAY)
    for trial in range(30):
        amounts = {level: rng.randint(1, 300_000) for level in LEVELS}
        need = sum(amounts[levels[f]] for f in files)
        budget = rng.choice([1, need - 1, rng.randint(1, need - 1)])
        cmd = LaunchCampaign(name=f"按比例{trial}", kind="other", org_id=district, fund_id=fund["id"],
                             budget_fen=budget, level_amounts=amounts, starts_on=TODAY, ends_on=TODAY,
                             per_payment_cap_fen=300_000, per_person_year_cap_fen=10**12, allocation="pro_rata")
        c = await campaigns.launch(UnitOfWork(welfare), cmd, CITY_ADMIN, today=TODAY)
        assert c["need_at_launch"]["need"]["fen"] == need
        result = await campaigns.run(UnitOfWork(welfare), c["id"], CITY_ADMIN, run_on=TODAY, today=TODAY,
                                     max_backdate_days=0)
        # Each run is its own unit of work, whose plan goes at commit; here one transaction holds them all.
        await welfare.execute("DROP TABLE campaign_plan")
        paid = {r["file_id"]: r["amount_fen"] for r in await welfare.fetch(
            "SELECT file_id, amount_fen FROM campaign_payments WHERE campaign_id = $1", c["id"])}
        entries = await welfare.fetchval("SELECT coalesce(sum(amount_fen), 0) FROM ledger_entries"
                                         " WHERE campaign_id = $1 AND kind = 'disbursement'", c["id"])
        assert sum(paid.values()) == entries == result["paid"]["fen"] == budget, (trial, amounts, budget)
        for f in files:
            amount = amounts[levels[f]]
            exact_floor = amount * budget // need
            assert exact_floor <= paid.get(f, 0) <= min(exact_floor + 1, amount), (trial, f)
        # Who got less than their amount is listed, with its reason (nothing at all: budget_exhausted).
        listed = {n["file_id"]: n["reason"] for n in result["not_paid"]}
        assert listed == {f: "pro_rata_share" if paid.get(f) else "budget_exhausted"
                          for f in files if paid.get(f, 0) < amounts[levels[f]]}, trial
