"""Welfare benchmark: a Spring-Festival 送温暖 batch run over N hardship files.

    python -m devstack.bench_welfare [--files 10000]

Runs its own stack (PostgreSQL, broker, trace sink, membership, welfare) on free ports in a
temporary folder; a running `make run` is not touched. Steps:
1. N members imported in one CSV through membership's `POST /imports/members`; timed until
   welfare's member projection holds all N (MemberJoined through the broker);
2. N open hardship files (levels deep / accident / relative) written set-based into welfare's
   `hardship_files` (one INSERT … SELECT: the hardship API's per-file work is not what is measured);
3. a city fund credited from the budget, allocated to the district, a 送温暖 campaign launched;
4. `POST /campaigns/{id}/runs`: payments/s of the run (ledger entries, payments and AidDisbursed
   outbox rows written set-based in one transaction), the time until the last AidDisbursed was
   published to the broker, the time until notify settled the last payment notification, and a
   second run (pays nobody);
5. the raw figure: the same three INSERT … SELECTs of N rows into bare tables with plain asyncpg,
   no service, no rules — reported as a ratio."""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx

from devstack.bench_membership import generate_people, setup_unions, write_csv
from devstack.config import StackConfig
from devstack.processes import Infrastructure, ServiceProcess, tracesink
from unionops.auth import issue_token, root_org_id
from unionops.clock import local_today
from unionops.settings import CommonSettings

TODAY = local_today()

_FILES = """
INSERT INTO hardship_files (id, member_id, union_id, union_name, org_path, file_kind, level, status, opened_on,
                            review_due_on, causes, household_size, minimum_living_standard_fen, annual_income_enc,
                            unavoidable_costs_enc, largest_event_cost_enc, per_capita_monthly_enc, opened_by)
SELECT gen_random_uuid(), member_id, union_id, union_name, org_path, 'worker',
       (ARRAY['deep', 'accident', 'relative', 'relative'])[1 + (row_number() OVER (ORDER BY member_id)) % 4],
       'open', $2::date - (row_number() OVER (ORDER BY member_id))::int % 700, $2::date + 180,
       '{illness}', 3, 120000, '\\x00', '\\x00', '\\x00', '\\x00', 'bench'
  FROM members WHERE org_path @> ARRAY[$1::uuid]
"""


async def wait_for(probe, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


async def raw_pipeline(dsn: str, n: int) -> float:
    """The same writes with nothing around them: N payment, ledger and outbox rows by three
    INSERT … SELECTs in one transaction."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("""
            CREATE TEMP TABLE raw_ledger (id uuid PRIMARY KEY, fund_id uuid, amount_fen bigint, case_id uuid);
            CREATE TEMP TABLE raw_payments (id uuid PRIMARY KEY, file_id uuid UNIQUE, amount_fen bigint,
                                            entry_id uuid REFERENCES raw_ledger (id));
            CREATE TEMP TABLE raw_outbox (id bigserial PRIMARY KEY, event_id uuid, key text, payload jsonb);""")
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.execute("CREATE TEMP TABLE raw_plan ON COMMIT DROP AS SELECT gen_random_uuid() AS payment_id,"
                               " gen_random_uuid() AS entry_id, gen_random_uuid() AS file_id, 300000::bigint AS amount"
                               " FROM generate_series(1, $1)", n)
            await conn.execute("INSERT INTO raw_ledger SELECT entry_id, gen_random_uuid(), amount, payment_id"
                               " FROM raw_plan")
            await conn.execute("INSERT INTO raw_payments SELECT payment_id, file_id, amount, entry_id FROM raw_plan")
            await conn.execute("INSERT INTO raw_outbox (event_id, key, payload) SELECT gen_random_uuid(),"
                               " payment_id::text, jsonb_build_object('case_id', payment_id, 'amount_fen', amount)"
                               " FROM raw_plan")
        return time.perf_counter() - t0
    finally:
        await conn.close()


async def bench(cfg: StackConfig, membership_url: str, welfare_url: str, n: int, tmp: Path, say) -> None:
    settings = CommonSettings()
    root = root_org_id(settings.city_region_code)
    headers = {"Authorization": "Bearer " + issue_token(settings, subject="bench", role="federation_admin",
                                                        org_id=root)}
    welfare_db = await asyncpg.connect(cfg.dsn("welfare"))
    try:
        with httpx.Client(base_url=membership_url, headers=headers, timeout=600) as client:
            unions = setup_unions(client, str(root))
            district = unions[0]["path"][1]
            sheet = tmp / "members.csv"
            write_csv(sheet, generate_people(n, 11, [u["name"] for u in unions]))
            t0 = time.perf_counter()
            with sheet.open("rb") as fh:
                r = client.post("/imports/members", files={"file": (sheet.name, fh, "text/csv")})
            r.raise_for_status()
        await wait_for(lambda: welfare_db.fetchval("SELECT count(*) >= $1 FROM members", n), 600,
                       "welfare's member projection")
        say(f"N = {n}: members imported and projected into welfare in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        await welfare_db.execute(_FILES, district, TODAY)
        files = await welfare_db.fetchval("SELECT count(*) FROM hardship_files WHERE status = 'open'")
        say(f"hardship files written set-based    {files} in {time.perf_counter() - t0:.2f} s")

        async with httpx.AsyncClient(base_url=welfare_url, headers=headers, timeout=600) as http:
            await wait_for(lambda: welfare_db.fetchval("SELECT 1 FROM org_units WHERE org_id = $1", district), 120,
                           "units in welfare")
            budget = n * 300_000

            async def post(path, body):
                resp = await http.post(path, json=body)
                if resp.status_code != 201:
                    raise SystemExit(f"{path}: {resp.status_code} {resp.text}")
                return resp.json()

            city = (await post("/funds", {"org_id": str(root), "name": "压测专项帮扶资金", "year": TODAY.year}))["id"]
            await post(f"/funds/{city}/budget", {"amount_fen": budget})
            fund = (await post("/funds", {"org_id": district, "name": "压测区专项资金", "year": TODAY.year,
                                          "parent_fund_id": city}))["id"]
            await post(f"/funds/{city}/allocations", {"to_fund_id": fund, "amount_fen": budget})
            campaign = await post("/campaigns", {
                "name": f"{TODAY.year}年春节送温暖（压测）", "kind": "spring_festival", "org_id": district,
                "fund_id": fund, "budget_fen": budget,
                "level_amounts": {"deep": 300_000, "accident": 250_000, "relative": 200_000},
                "starts_on": str(TODAY - timedelta(days=1)), "ends_on": str(TODAY + timedelta(days=30))})

            started_at = await welfare_db.fetchval("SELECT clock_timestamp()")
            t0 = time.perf_counter()
            result = await post(f"/campaigns/{campaign['id']}/runs", {})
            run_s = time.perf_counter() - t0
            paid = result["paid_count"]
            say(f"batch run POST /campaigns/…/runs   {paid / run_s:>9.0f} payments/s   {paid} paid "
                f"({result['paid']['yuan']}), {result['not_paid_count']} not paid, {run_s:.2f} s")

            last = await wait_for(lambda: welfare_db.fetchval(
                "SELECT max(published_at) FROM outbox WHERE event_type = 'AidDisbursed'"
                " HAVING count(*) FILTER (WHERE published_at IS NULL) = 0"), 600, "AidDisbursed published")
            say(f"last AidDisbursed published        {(last - started_at).total_seconds():>9.2f} s after the run "
                f"started ({paid / (last - started_at).total_seconds():.0f} events/s)")
            # Notify turns each payment into notices (in-app always; these generated members have no
            # e-mail, so their e-mail rows end undeliverable, not failed). The last one settled is the
            # last notification.
            notify_db = await asyncpg.connect(cfg.dsn("notify"))
            try:
                last_notice = await wait_for(lambda: notify_db.fetchval(
                    "SELECT max(delivered_at) FROM deliveries WHERE source_event_type = 'AidDisbursed'"
                    " AND channel = 'inapp' HAVING count(*) FILTER (WHERE status = 'delivered') >= $1"
                    " AND count(*) FILTER (WHERE status IN ('pending', 'sending')) = 0", paid), 900,
                    "a notification for every payment")
            finally:
                await notify_db.close()
            say(f"last payment notification          {(last_notice - started_at).total_seconds():>9.2f} s after the "
                f"run started ({paid / (last_notice - started_at).total_seconds():.0f} notifications/s end to end)")

            t0 = time.perf_counter()
            again = await post(f"/campaigns/{campaign['id']}/runs", {})
            say(f"second run (idempotent)            {time.perf_counter() - t0:>9.2f} s   paid {again['paid_count']}")

            balance = (await http.get(f"/funds/{fund}")).json()["balance"]
            say(f"fund after the run                 disbursed {balance['disbursed']['yuan']}, "
                f"committed {balance['committed']['yuan']}, available {balance['available']['yuan']}")
    finally:
        await welfare_db.close()
    raw_s = await raw_pipeline(cfg.dsn("welfare"), n)
    say(f"raw asyncpg (3 INSERT … SELECT)    {n / raw_s:>9.0f} rows/s   {raw_s:.2f} s   "
        f"service run / raw = {run_s / raw_s:.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000, help="hardship files (= members) to pay")
    args = parser.parse_args()

    def say(line: str) -> None:
        print(line, flush=True)

    with tempfile.TemporaryDirectory(prefix="unionops-bench-welfare-") as tmp:
        cfg = StackConfig.ephemeral(Path(tmp) / "stack")
        infra = Infrastructure(cfg, fsync=True).start()
        sink = tracesink(cfg).start()
        services = []
        try:
            for name in ("membership", "welfare", "notify"):
                services.append(ServiceProcess(cfg, name, {"LOG_LEVEL": "WARNING"}).start())
            asyncio.run(bench(cfg, services[0].url, services[1].url, args.files, Path(tmp), say))
        finally:
            for s in reversed(services):
                s.stop()
            sink.stop()
            infra.stop()


if __name__ == "__main__":
    main()
