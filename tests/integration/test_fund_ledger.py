"""The fund ledger (专项帮扶资金) against the real PostgreSQL: money flows city → district →
street, commitments on approval, disbursements on payment, reversals; the balance never goes
negative, even when approvals race for the last yuan; the ledger is append-only; the 经审 report
traces every movement. The ledger functions run in a database of their own (migrated like
welfare's); the HTTP API runs in the welfare process beside membership."""
from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from unionops import db as database
from unionops.clock import local_today
from welfare.commands import ledger
from welfare.domain.money import InsufficientFunds
from welfare.queries import funds as welfare_funds

from tests.support.people import ROOT, auth
from tests.support.rows import projected

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "welfare" / "welfare" / "migrations"
SERVER_ZONE = "America/New_York"
# 07:30 on 1 January 2026 in Beijing: still New Year's Eve in UTC (23:30) and in New York (18:30)
NEW_YEAR_MORNING = datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc)

# The HTTP tests: welfare runs in a server zone that is neither UTC nor Beijing; its days must still be Beijing's.
pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "welfare", env={"welfare": {"TZ": SERVER_ZONE}})]


# ---- the ledger functions, in a database of their own ---------------------------------------------

@pytest.fixture(scope="module")
async def ledger_dsn(infra, stack_config):
    name = f"ledger_{uuid.uuid4().hex[:8]}"
    await database.ensure_database(stack_config.dsn("postgres"), name)
    dsn = stack_config.dsn(name)
    await database.migrate(dsn, MIGRATIONS)
    return dsn


@pytest.fixture
async def pool(ledger_dsn):
    p = await database.create_pool(ledger_dsn, max_size=25)
    yield p
    await p.close()


async def new_fund(conn, parent: uuid.UUID | None = None, name: str = "专项帮扶资金") -> uuid.UUID:
    fund_id = uuid.uuid4()
    org = uuid.uuid4()
    await conn.execute("INSERT INTO funds (id, org_id, org_path, name, year, parent_fund_id, created_by)"
                       " VALUES ($1, $2, $3, $4, 2026, $5, 'test')", fund_id, org, [org], name, parent)
    await conn.execute("INSERT INTO fund_balances (fund_id) VALUES ($1)", fund_id)
    return fund_id


async def book_budget_at(conn, fund_id: uuid.UUID, amount_fen: int, at: datetime) -> uuid.UUID:
    """A budget credit booked at a given instant (the ledger's own functions book at now())."""
    entry_id = uuid.uuid4()
    async with conn.transaction():
        await conn.execute("INSERT INTO ledger_entries (id, fund_id, kind, amount_fen, approver, actor, reason, created_at)"
                           " VALUES ($1, $2, 'allocation_in', $3, '市总', '市总', '预算注资', $4)",
                           entry_id, fund_id, amount_fen, at)
        await conn.execute("UPDATE fund_balances SET allocated_fen = allocated_fen + $2, available_fen = available_fen"
                           " + $2 WHERE fund_id = $1", fund_id, amount_fen)
    return entry_id


async def balance(conn, fund_id) -> dict:
    row = await conn.fetchrow("SELECT allocated_fen, available_fen, committed_fen, disbursed_fen FROM fund_balances"
                              " WHERE fund_id = $1", fund_id)
    return dict(row)


async def assert_reconciles(conn, fund_ids, budget: int) -> None:
    """Each balance row equals the sum of its fund's entries; all funds together hold the budget."""
    sums = await welfare_funds.sums_from_entries(conn, list(fund_ids))
    zero = {"allocated_fen": 0, "available_fen": 0, "committed_fen": 0, "disbursed_fen": 0}
    held = 0
    for f in fund_ids:
        row = await balance(conn, f)
        assert row == sums.get(f, zero), f
        assert min(row.values()) >= 0
        held += row["available_fen"] + row["committed_fen"] + row["disbursed_fen"]
    assert held == budget


async def test_balance_never_goes_negative_under_racing_approvals(pool):
    """20 approvals race for the last 5 yuan at 1 yuan each: exactly 5 get it, 15 are refused
    with insufficient-funds, and the books still reconcile."""
    async with pool.acquire() as conn, conn.transaction():
        fund = await new_fund(conn)
        await ledger.credit_budget(conn, fund, 1_000_000, actor="admin")
        await ledger.commit(conn, fund, 999_500, approver="主席", actor="社工")  # leaves 5 yuan

    start = asyncio.Event()

    async def approve(i: int):
        async with pool.acquire() as conn:
            await start.wait()
            try:
                async with conn.transaction():
                    await ledger.commit(conn, fund, 100, case_id=uuid.uuid4(), approver=f"审批人{i}", actor="社工")
                    await asyncio.sleep(0.01)  # hold the row lock a moment: the others queue behind it
                return "ok"
            except InsufficientFunds as exc:
                return exc.available_fen

    tasks = [asyncio.create_task(approve(i)) for i in range(20)]
    await asyncio.sleep(0.2)  # every task holds its connection
    start.set()
    results = await asyncio.gather(*tasks)
    assert results.count("ok") == 5
    assert sorted(r for r in results if r != "ok") == [0] * 15  # each loser was told what was left: 0.00元
    async with pool.acquire() as conn:
        assert await balance(conn, fund) == {"allocated_fen": 1_000_000, "available_fen": 0,
                                             "committed_fen": 1_000_000, "disbursed_fen": 0}
        assert await conn.fetchval("SELECT count(*) FROM ledger_entries WHERE fund_id = $1 AND kind = 'commitment'",
                                   fund) == 6
        await assert_reconciles(conn, [fund], 1_000_000)


async def test_racing_commitments_of_uneven_amounts_never_overspend(pool):
    async with pool.acquire() as conn, conn.transaction():
        fund = await new_fund(conn)
        await ledger.credit_budget(conn, fund, 1_000, actor="admin")
    amounts = [37, 250, 91, 400, 13, 333, 120, 77, 500, 64, 210, 48, 150, 299, 5, 180, 71, 390, 26, 111]

    async def approve(amount: int):
        async with pool.acquire() as conn:
            try:
                async with conn.transaction():
                    await ledger.commit(conn, fund, amount, approver="主席", actor="社工")
                return amount, True
            except InsufficientFunds:
                return amount, False

    results = await asyncio.gather(*(approve(a) for a in amounts))
    won = sum(a for a, ok in results if ok)
    async with pool.acquire() as conn:
        b = await balance(conn, fund)
        assert b["committed_fen"] == won <= 1_000 and b["available_fen"] == 1_000 - won
        assert all(a > b["available_fen"] for a, ok in results if not ok)  # nothing refused that would fit
        await assert_reconciles(conn, [fund], 1_000)


async def test_the_ledger_is_append_only(pool):
    async with pool.acquire() as conn:
        async with conn.transaction():
            fund = await new_fund(conn)
            entry = await ledger.credit_budget(conn, fund, 500, actor="admin")
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("UPDATE ledger_entries SET amount_fen = 5000 WHERE id = $1", entry)
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("DELETE FROM ledger_entries WHERE id = $1", entry)
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("TRUNCATE ledger_entries CASCADE")
        with pytest.raises(asyncpg.CheckViolationError):  # and the balance row cannot be pushed below zero
            await conn.execute("UPDATE fund_balances SET available_fen = available_fen - 501,"
                               " allocated_fen = allocated_fen - 501 WHERE fund_id = $1", fund)
        assert await conn.fetchval("SELECT amount_fen FROM ledger_entries WHERE id = $1", entry) == 500


async def test_a_disbursement_consumes_its_commitment_and_releases_the_rest(pool):
    async with pool.acquire() as conn, conn.transaction():
        fund = await new_fund(conn)
        await ledger.credit_budget(conn, fund, 10_000, actor="admin")
        case_id = uuid.uuid4()
        commitment = await ledger.commit(conn, fund, 3_000, case_id=case_id, approver="主席", actor="社工")
        paid = await ledger.disburse(conn, commitment, 2_500, actor="出纳")
        assert await balance(conn, fund) == {"allocated_fen": 10_000, "available_fen": 7_500, "committed_fen": 0,
                                             "disbursed_fen": 2_500}
        row = await conn.fetchrow("SELECT case_id, approver, actor, commitment_id FROM ledger_entries WHERE id = $1",
                                  paid)
        assert dict(row) == {"case_id": case_id, "approver": "主席", "actor": "出纳", "commitment_id": commitment}
        kinds = [r["kind"] for r in await conn.fetch(
            "SELECT kind FROM ledger_entries WHERE commitment_id = $1 ORDER BY seq", commitment)]
        assert kinds == ["disbursement", "commitment_release"]
        with pytest.raises(Exception) as exc:  # paid once
            await ledger.disburse(conn, commitment, 100, actor="出纳")
        assert getattr(exc.value, "kind", None) == "commitment-settled"
        assert await ledger.release(conn, commitment, actor="社工") is None  # harmless afterwards


async def test_a_payment_above_the_approved_amount_is_refused(pool):
    async with pool.acquire() as conn, conn.transaction():
        fund = await new_fund(conn)
        await ledger.credit_budget(conn, fund, 10_000, actor="admin")
        commitment = await ledger.commit(conn, fund, 3_000, approver="主席", actor="社工")
        with pytest.raises(Exception) as exc:
            await ledger.disburse(conn, commitment, 3_001, actor="出纳")
        assert exc.value.kind == "over-commitment" and exc.value.status == 409


async def test_a_reversal_returns_the_money_and_happens_once(pool):
    async with pool.acquire() as conn, conn.transaction():
        city = await new_fund(conn, name="市")
        district = await new_fund(conn, city, name="区")
        await ledger.credit_budget(conn, city, 10_000, actor="admin")
        out_id, in_id = await ledger.allocate(conn, city, district, 4_000, actor="市总")
        commitment = await ledger.commit(conn, district, 1_000, approver="主席", actor="社工")
        paid = await ledger.disburse(conn, commitment, 1_000, actor="出纳")
        with pytest.raises(Exception) as exc:
            await ledger.reverse(conn, paid, reason="", actor="会计")
        assert exc.value.kind == "reason-required"
        rev = await ledger.reverse(conn, paid, reason="重复发放，已追回", actor="会计")
        assert (await balance(conn, district))["available_fen"] == 4_000
        assert await conn.fetchval("SELECT reverses_entry_id FROM ledger_entries WHERE id = $1", rev) == paid
        with pytest.raises(Exception) as exc:
            await ledger.reverse(conn, paid, reason="再来一次", actor="会计")
        assert exc.value.kind == "already-reversed"
        with pytest.raises(Exception) as exc:
            await ledger.reverse(conn, commitment, reason="不行", actor="会计")
        assert exc.value.kind == "not-reversible"
        # Reversing an allocation (either side) reverses both; the money is back with the city.
        await ledger.reverse(conn, in_id, reason="拨付单位有误", actor="市总")
        assert (await balance(conn, city))["available_fen"] == 10_000
        assert await balance(conn, district) == {"allocated_fen": 0, "available_fen": 0, "committed_fen": 0,
                                                 "disbursed_fen": 0}
        with pytest.raises(Exception) as exc:
            await ledger.reverse(conn, out_id, reason="again", actor="市总")
        assert exc.value.kind == "already-reversed"
        await assert_reconciles(conn, [city, district], 10_000)


async def test_an_allocation_the_child_has_already_spent_cannot_be_reversed(pool):
    async with pool.acquire() as conn, conn.transaction():
        city = await new_fund(conn)
        street = await new_fund(conn, city)
        await ledger.credit_budget(conn, city, 1_000, actor="admin")
        _, in_id = await ledger.allocate(conn, city, street, 1_000, actor="市总")
        await ledger.commit(conn, street, 600, approver="主席", actor="社工")
        with pytest.raises(InsufficientFunds):
            await ledger.reverse(conn, in_id, reason="收回", actor="市总")


# ---- the property, against PostgreSQL ---------------------------------------------------------------

amounts = st.integers(min_value=1, max_value=5_000)
operations = st.lists(st.one_of(
    st.tuples(st.just("credit"), amounts),
    st.tuples(st.just("allocate"), st.sampled_from([1, 2, 3]), amounts),
    st.tuples(st.just("commit"), st.integers(0, 3), amounts),
    st.tuples(st.just("release"), st.integers(0, 30)),
    st.tuples(st.just("disburse"), st.integers(0, 30), amounts),
    st.tuples(st.just("reverse"), st.integers(0, 100)),
), min_size=1, max_size=25)

PARENT = {1: 0, 2: 0, 3: 1}


@pytest.fixture
def utc_server(monkeypatch):
    """This test process, as if the server ran in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def test_the_audit_report_cuts_days_months_and_years_in_beijing_on_a_utc_server(pool, utc_server):
    async with pool.acquire() as conn:
        fund_id = await new_fund(conn)
        entry = await book_budget_at(conn, fund_id, 10_000, NEW_YEAR_MORNING)
        fund = await conn.fetchrow("SELECT * FROM funds WHERE id = $1", fund_id)

        async def report(start: str, end: str) -> dict:
            return await welfare_funds.audit_report(conn, fund, date.fromisoformat(start), date.fromisoformat(end))

        for start, end in (("2026-01-01", "2026-01-01"), ("2026-01-01", "2026-01-31"), ("2026-01-01", "2026-12-31")):
            got = await report(start, end)
            assert [m["id"] for m in got["movements"]] == [entry], (start, end)
            assert got["opening_balance"]["allocated"]["fen"] == 0 and got["closing_balance"]["allocated"]["fen"] == 10_000
            assert got["movements"][0]["created_at"].isoformat() == "2026-01-01T07:30:00+08:00"
        for start, end in (("2025-12-31", "2025-12-31"), ("2025-12-01", "2025-12-31"), ("2025-01-01", "2025-12-31")):
            got = await report(start, end)
            assert got["movement_count"] == 0 and got["closing_balance"]["allocated"]["fen"] == 0, (start, end)


async def run_operations(dsn: str, ops) -> None:
    conn = await database.connect(dsn)
    try:
        async with conn.transaction():
            funds = [await new_fund(conn, name="市")]
            for child in (1, 2, 3):
                funds.append(await new_fund(conn, funds[PARENT[child]], name=f"子{child}"))
        budget = 0
        for name, *args in ops:
            try:
                async with conn.transaction():  # each movement is one transaction; a refusal rolls it back
                    if name == "credit":
                        await ledger.credit_budget(conn, funds[0], args[0], actor="admin")
                        budget += args[0]
                    elif name == "allocate":
                        await ledger.allocate(conn, funds[PARENT[args[0]]], funds[args[0]], args[1], actor="市总")
                    elif name == "commit":
                        await ledger.commit(conn, funds[args[0]], args[1], approver="主席", actor="社工")
                    elif name in ("release", "disburse"):
                        open_ = await conn.fetch("SELECT entry_id, remaining_fen FROM fund_commitments"
                                                 " WHERE fund_id = ANY($1) AND NOT settled ORDER BY entry_id", funds)
                        if open_:
                            c = open_[args[0] % len(open_)]
                            if name == "release":
                                await ledger.release(conn, c["entry_id"], actor="社工")
                            else:
                                await ledger.disburse(conn, c["entry_id"], min(args[1], c["remaining_fen"]),
                                                      actor="出纳")
                    else:
                        done = await conn.fetch(
                            "SELECT e.id, e.kind, e.counterpart_fund_id, e.amount_fen FROM ledger_entries e"
                            " WHERE e.fund_id = ANY($1) AND e.kind IN ('allocation_in', 'allocation_out', 'disbursement')"
                            " AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.id)"
                            " ORDER BY e.seq", funds)
                        if done:
                            e = done[args[0] % len(done)]
                            await ledger.reverse(conn, e["id"], reason="冲销", actor="会计")
                            if e["kind"] == "allocation_in" and e["counterpart_fund_id"] is None:
                                budget -= e["amount_fen"]
            except InsufficientFunds:
                pass
            await assert_reconciles(conn, funds, budget)
    finally:
        await conn.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_no_sequence_of_movements_loses_a_fen_in_the_database(ledger_dsn, ops):
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(run_operations(ledger_dsn, ops))
    finally:
        loop.close()


# ---- the HTTP API, in the welfare process -----------------------------------------------------------

@pytest.fixture(scope="module")
def tree(membership):
    return {"east": membership.branch("锦江"), "west": membership.branch("青羊")}


@pytest.fixture
async def units(tree, db):
    """The branches, once welfare's organisation projection has them."""
    await projected(db, units=[b.grassroots for b in tree.values()])
    return tree


async def post(http, path, body, headers=None):
    return await http.post(path, json=body, headers=headers or auth())


async def fund_tree(http, units, year=2026):
    """City root fund credited with ¥500,000; east district and street funds under it."""
    tag = uuid.uuid4().hex[:6]
    r = await post(http, "/funds", {"org_id": str(ROOT), "name": f"专项帮扶资金{tag}", "year": year})
    assert r.status_code == 201, r.text
    city = r.json()["id"]
    r = await post(http, f"/funds/{city}/budget", {"amount_fen": 50_000_000, "reason": "市财政预算"})
    assert r.status_code == 201, r.text
    east = units["east"]
    r = await post(http, "/funds", {"org_id": str(east.district), "name": f"锦江区专项资金{tag}", "year": year,
                                    "parent_fund_id": city}, auth("staff", east.district, "区总会计"))
    assert r.status_code == 201, r.text
    district = r.json()["id"]
    r = await post(http, "/funds", {"org_id": str(east.street), "name": f"街道专项资金{tag}", "year": year,
                                    "parent_fund_id": district}, auth("staff", east.district, "区总会计"))
    assert r.status_code == 201, r.text
    return city, district, r.json()["id"]


async def test_money_flows_city_to_district_to_street_and_publishes_fund_allocated(units, http, db):
    city, district, street = await fund_tree(http, units)
    r = await post(http, f"/funds/{city}/allocations", {"to_fund_id": district, "amount_fen": 20_000_000})
    assert r.status_code == 201, r.text
    assert r.json()["from_fund"]["balance"]["available"] == {"fen": 30_000_000, "yuan": "300,000.00元"}
    east = units["east"]
    r = await post(http, f"/funds/{district}/allocations", {"to_fund_id": street, "amount_fen": 500_000},
                   auth("staff", east.district, "区总会计"))
    assert r.status_code == 201, r.text
    got = (await http.get(f"/funds/{street}", headers=auth("auditor", east.street))).json()
    assert got["balance"]["allocated"] == {"fen": 500_000, "yuan": "5,000.00元"}
    assert got["balance"]["available"]["fen"] == 500_000
    events = await db.fetch("SELECT payload FROM outbox WHERE event_type = 'FundAllocated' AND key = ANY($1)",
                            [city, district, street])
    by_fund = {e["payload"]["fund_id"]: e["payload"] for e in events}
    assert by_fund[city]["from_fund_id"] is None and by_fund[city]["amount_fen"] == 50_000_000
    assert by_fund[street]["from_fund_id"] == district and by_fund[street]["allocated_by"] == "区总会计"


async def test_only_a_federation_admin_credits_the_budget(units, http):
    city, district, _ = await fund_tree(http, units)
    r = await post(http, f"/funds/{city}/budget", {"amount_fen": 100}, auth("staff", units["east"].district))
    assert r.status_code == 403
    r = await post(http, f"/funds/{district}/budget", {"amount_fen": 100})
    assert r.status_code == 409 and r.json()["type"] == "/problems/not-a-root-fund"


async def test_an_allocation_beyond_the_available_balance_is_refused_naming_the_available_yuan(units, http, db):
    city, district, _ = await fund_tree(http, units)
    before = await db.fetchval("SELECT count(*) FROM ledger_entries")
    r = await post(http, f"/funds/{city}/allocations", {"to_fund_id": district, "amount_fen": 50_000_001})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/insufficient-funds" and "500,000.00元" in r.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM ledger_entries") == before
    r = await post(http, f"/funds/{city}/allocations", {"to_fund_id": district, "amount_fen": 1.5})
    assert r.status_code == 422  # money is never a float


async def test_a_child_fund_belongs_to_the_parent_funds_subtree(units, http):
    _, district, _ = await fund_tree(http, units)
    west = units["west"]
    r = await post(http, "/funds", {"org_id": str(west.street), "name": "跨区资金", "year": 2026,
                                    "parent_fund_id": district})
    assert r.status_code == 422 and r.json()["type"] == "/problems/outside-parent-subtree"
    r = await post(http, "/funds", {"org_id": str(units["east"].street), "name": "无上级", "year": 2026},
                   auth("staff", units["east"].district))
    assert r.status_code == 403  # a root fund is the federation's


async def test_staff_of_another_district_do_not_see_the_fund(units, http):
    _, district, _ = await fund_tree(http, units)
    outsider = auth("staff", units["west"].district)
    assert (await http.get(f"/funds/{district}", headers=outsider)).status_code == 404
    assert (await http.get(f"/funds/{district}/ledger", headers=outsider)).status_code == 404
    assert (await http.get(f"/funds/{district}")).status_code == 401


async def test_the_audit_report_traces_every_movement_to_its_case_campaign_and_approver(units, http, db, stack_config):
    city, district, street = await fund_tree(http, units)
    await post(http, f"/funds/{city}/allocations", {"to_fund_id": district, "amount_fen": 1_000_000})
    case_id = uuid.uuid4()
    async with db.transaction():  # the case workflow's calls, as welfare.commands.cases makes them
        commitment = await ledger.commit(db, uuid.UUID(district), 300_000, case_id=case_id, approver="王主席",
                                         actor="李社工")
        paid = await ledger.disburse(db, commitment, 250_000, actor="张出纳")
    today = local_today().isoformat()
    r = await http.get(f"/funds/{district}/audit", params={"from": today, "to": today},
                       headers=auth("auditor", units["east"].district, "经审委员"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["opening_balance"]["available"]["fen"] == 0
    assert report["closing_balance"] == {"allocated": {"fen": 1_000_000, "yuan": "10,000.00元"},
                                         "available": {"fen": 750_000, "yuan": "7,500.00元"},
                                         "committed": {"fen": 0, "yuan": "0.00元"},
                                         "disbursed": {"fen": 250_000, "yuan": "2,500.00元"}}
    assert [m["kind"] for m in report["movements"]] == ["allocation_in", "commitment", "disbursement",
                                                        "commitment_release"]
    payment = next(m for m in report["movements"] if m["id"] == str(paid))
    assert payment["case_id"] == str(case_id) and payment["approver"] == "王主席" and payment["actor"] == "张出纳"
    assert report["totals"]["disbursement"] == {"fen": 250_000, "yuan": "2,500.00元"}
    assert report["totals"]["commitment_release"]["fen"] == 50_000

    r = await http.get(f"/funds/{district}/audit", params={"from": today, "to": today, "format": "csv"},
                       headers=auth("auditor", units["east"].district))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["seq", "created_at", "kind"]
    assert any(row[2] == "disbursement" and row[5] == str(case_id) and row[8] == "王主席" for row in rows[1:])

    r = await http.get(f"/funds/{district}/audit", params={"from": "2000-01-01", "to": "2000-01-31"},
                       headers=auth())
    assert r.json()["movement_count"] == 0 and r.json()["closing_balance"]["allocated"]["fen"] == 0
    # A period that ends before it starts is refused naming the query parameter, not a body field.
    r = await http.get(f"/funds/{district}/audit", params={"from": "2000-02-01", "to": "2000-01-31"},
                       headers=auth())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.to", r.text


async def test_the_audit_report_puts_a_new_year_morning_booking_in_the_new_year_whatever_the_server_zone(units, http, db):
    city, _, _ = await fund_tree(http, units)
    entry = await book_budget_at(db, uuid.UUID(city), 10_000, NEW_YEAR_MORNING)

    async def report(start: str, end: str, format: str = "json") -> httpx.Response:
        r = await http.get(f"/funds/{city}/audit", params={"from": start, "to": end, "format": format},
                           headers=auth())
        assert r.status_code == 200, r.text
        return r

    for start, end in (("2026-01-01", "2026-01-01"), ("2026-01-01", "2026-12-31")):
        moved = {m["id"]: m for m in (await report(start, end)).json()["movements"]}
        assert moved[str(entry)]["created_at"] == "2026-01-01T07:30:00+08:00"
    for start, end in (("2025-12-31", "2025-12-31"), ("2025-01-01", "2025-12-31")):
        got = (await report(start, end)).json()
        assert got["movement_count"] == 0 and got["closing_balance"]["allocated"]["fen"] == 0
    rows = list(csv.reader(io.StringIO((await report("2026-01-01", "2026-01-01", "csv")).text.lstrip("\ufeff"))))
    assert [row[1] for row in rows[1:] if row and row[-1] == str(entry)] == ["2026-01-01T07:30:00+08:00"]
