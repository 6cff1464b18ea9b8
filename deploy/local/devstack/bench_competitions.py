"""Competitions benchmark: 5,000 scores from 20 judges, ranked and published.

    python -m devstack.bench_competitions [--entries 125] [--judges 20] [--concurrency 8]

Runs its own stack (PostgreSQL, broker, competitions) on free ports in a temporary folder; a
running `make run` is not touched. Membership does not run: the organisation tree, the members,
a closed individual contest and its entries are written straight into competitions' database
(one INSERT … SELECT each) — registration is measured elsewhere; what is measured here is judging.
Steps:
1. the scoring standard (理论 30 %, 实操 70 %) and 20 judges through the API;
2. every judge's score sheet per entry, `POST /contests/{id}/score-sheets` (2 lines each), from
   `--concurrency` clients: entries × 2 criteria × judges scores (125 × 2 × 20 = 5,000) — scores/s
   and request latency; each sheet is one INSERT of its lines and one outbox INSERT;
3. `POST /contests/{id}/results`: completeness check, trimmed means (≥ 5 judges: highest and lowest
   dropped), ranking, prizes, status → published, ContestResultsPublished — computed in one pass in
   memory from six set-based reads; then the time until the relay had that event acknowledged by
   the broker (time to published ranking);
4. the raw figure: the same 5,000 scores inserted with one unnest INSERT and ranked by one SQL
   statement (trimmed mean by window functions) with plain asyncpg, no service — as a ratio."""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from devstack.config import StackConfig
from devstack.processes import Infrastructure, ServiceProcess
from devstack.seed import zh_digits
from unionops.auth import issue_token, root_org_id
from unionops.clock import local_today
from unionops.settings import CommonSettings

UNIONS = 10

_SEED = """
WITH d AS (
    INSERT INTO org_units (org_id, parent_id, org_path, name, level, last_event_id)
    VALUES ($1, $2, ARRAY[$2, $1]::uuid[], '压测区总工会', 'district', gen_random_uuid()) RETURNING org_id
), u AS (
    INSERT INTO org_units (org_id, parent_id, org_path, name, level, last_event_id)
    SELECT gen_random_uuid(), $1, ARRAY[$2, $1]::uuid[], '压测企业工会' || g, 'grassroots', gen_random_uuid()
      FROM generate_series(1, $3) g RETURNING org_id, org_path, name
), c AS (
    INSERT INTO contests (id, name, kind, org_id, org_path, status, created_by)
    VALUES ($4, '压测职工技能比赛', 'skill', $1, ARRAY[$2, $1]::uuid[], 'judging', 'bench') RETURNING id
), m AS (
    INSERT INTO members (member_id, union_id, union_name, org_path, name, gender, joined_on, last_event_id)
    SELECT gen_random_uuid(), u.org_id, u.name, u.org_path || u.org_id, '选手' || g,
           CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END, $6::date, gen_random_uuid()
      FROM generate_series(1, $5) g JOIN (SELECT *, row_number() OVER () - 1 AS k FROM u) u ON u.k = g % $3
    RETURNING member_id, union_id, union_name, org_path, name, gender
)
INSERT INTO contest_entries (id, contest_id, member_id, member_name, gender, union_id, union_name, org_path,
                             registered_by)
SELECT gen_random_uuid(), (SELECT id FROM c), member_id, name, gender, union_id, union_name, org_path, 'bench'
  FROM m
"""


def percentiles(values: list[float]) -> str:
    qs = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
    return f"p50 {qs[49] * 1000:.1f} ms, p95 {qs[94] * 1000:.1f} ms, p99 {qs[98] * 1000:.1f} ms"


async def bench(cfg: StackConfig, url: str, entries_n: int, judges_n: int, concurrency: int, say) -> None:
    settings = CommonSettings()
    root = root_org_id(settings.city_region_code)
    district, contest = uuid.uuid4(), uuid.uuid4()
    db = await asyncpg.connect(cfg.dsn("competitions"))
    try:
        await db.execute(_SEED, district, root, UNIONS, contest, entries_n, local_today())
        entries = [r["id"] for r in await db.fetch("SELECT id FROM contest_entries WHERE contest_id = $1", contest)]
        headers = {"Authorization": "Bearer " + issue_token(settings, subject="bench", role="staff", org_id=district)}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as http:
            async def call(method: str, path: str, body) -> dict:
                r = await http.request(method, path, json=body)
                if r.status_code >= 300:
                    raise SystemExit(f"{path}: {r.status_code} {r.text[:500]}")
                return r.json()

            await call("PUT", f"/contests/{contest}/criteria", {"criteria": [
                {"name": "理论", "kind": "theory", "weight_bp": 3000, "max_score": "100"},
                {"name": "实操", "kind": "practical", "weight_bp": 7000, "max_score": "100"}]})
            judges = [f"judge-{i:02d}" for i in range(1, judges_n + 1)]
            for j in judges:
                await call("POST", f"/contests/{contest}/judges", {"judge_id": j, "name": f"评委{zh_digits(j[-2:])}",
                                                                   "union_id": str(district)})
            import random
            rng = random.Random(5)
            work = [(j, e) for e in entries for j in judges]
            rng.shuffle(work)
            queue: asyncio.Queue = asyncio.Queue()
            for item in work:
                queue.put_nowait(item)
            latencies: list[float] = []

            async def worker():
                while not queue.empty():
                    j, e = queue.get_nowait()
                    t = time.perf_counter()
                    await call("POST", f"/contests/{contest}/score-sheets", {"judge_id": j, "scores": [
                        {"entry_id": str(e), "criterion": "理论", "score": f"{rng.randint(6000, 10000) / 100:.2f}"},
                        {"entry_id": str(e), "criterion": "实操", "score": f"{rng.randint(6000, 10000) / 100:.2f}"}]})
                    latencies.append(time.perf_counter() - t)

            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            score_s = time.perf_counter() - t0
            n_scores = await db.fetchval("SELECT count(*) FROM judge_scores WHERE contest_id = $1", contest)
            say(f"scores (sheets of 2, {concurrency} clients)  {n_scores / score_s:>9.0f} scores/s   {n_scores} scores "
                f"from {judges_n} judges in {score_s:.2f} s; per sheet {percentiles(latencies)}")

            started = await db.fetchval("SELECT clock_timestamp()")
            t0 = time.perf_counter()
            published = await call("POST", f"/contests/{contest}/results", {})
            publish_s = time.perf_counter() - t0
            placings = published["rankings"][0]["placings"]
            say(f"rank + publish POST …/results      {publish_s * 1000:>9.0f} ms   {len(placings)} ranked, revision "
                f"{published['revision']}, winner {placings[0]['final_score']}")
            acked = await wait_for(lambda: db.fetchval(
                "SELECT published_at FROM outbox WHERE event_type = 'ContestResultsPublished' AND key = $1"
                " AND published_at IS NOT NULL", str(contest)), 120, "ContestResultsPublished on the broker")
            say(f"time to published ranking          {(acked - started).total_seconds() * 1000:>9.0f} ms   "
                f"from the POST to the broker's ack of ContestResultsPublished (after {n_scores} ContestScored)")
    finally:
        await db.close()
    raw = await raw_pipeline(cfg.dsn("competitions"), entries_n, judges_n)
    say(f"raw asyncpg (1 INSERT + 1 SELECT)  {raw[0] / raw[1]:>9.0f} scores/s   {raw[1] * 1000:.0f} ms insert, "
        f"{raw[2] * 1000:.0f} ms rank;  service scoring / raw = {score_s / raw[1]:.0f}×, "
        f"service publish / raw rank = {publish_s / raw[2]:.1f}×")


async def wait_for(probe, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def raw_pipeline(dsn: str, entries_n: int, judges_n: int) -> tuple[int, float, float]:
    """The same scores with nothing around them: one unnest INSERT, one ranking SELECT."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TEMP TABLE raw_scores (entry_id int, judge_id int, criterion int, score int,"
                           " PRIMARY KEY (entry_id, judge_id, criterion))")
        rows = [(e, j, c, 6000 + (e * 31 + j * 17 + c * 7) % 4000)
                for e in range(entries_n) for j in range(judges_n) for c in (0, 1)]
        t0 = time.perf_counter()
        await conn.execute("INSERT INTO raw_scores SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::int[])",
                           [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])
        insert_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        await conn.fetch("""
            WITH totals AS (
                SELECT entry_id, judge_id, sum(score * CASE criterion WHEN 0 THEN 3000 ELSE 7000 END) / 10000.0 AS t
                  FROM raw_scores GROUP BY entry_id, judge_id
            ), ordered AS (
                SELECT entry_id, t, row_number() OVER (PARTITION BY entry_id ORDER BY t) AS lo,
                       count(*) OVER (PARTITION BY entry_id) AS n FROM totals
            )
            SELECT entry_id, round(avg(t), 2) AS final, rank() OVER (ORDER BY avg(t) DESC) AS place
              FROM ordered WHERE n < 5 OR (lo > 1 AND lo < n) GROUP BY entry_id ORDER BY place""")
        rank_s = time.perf_counter() - t0
        return len(rows), insert_s, rank_s
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=125, help="entries (each scored on 2 criteria)")
    parser.add_argument("--judges", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    def say(line: str) -> None:
        print(line, flush=True)

    with tempfile.TemporaryDirectory(prefix="unionops-bench-competitions-") as tmp:
        cfg = StackConfig.ephemeral(Path(tmp) / "stack")
        infra = Infrastructure(cfg, fsync=True).start()
        service = None
        try:
            service = ServiceProcess(cfg, "competitions", {"LOG_LEVEL": "WARNING",
                                                           "OTEL_EXPORTER_OTLP_ENDPOINT": ""}).start()
            asyncio.run(bench(cfg, service.url, args.entries, args.judges, args.concurrency, say))
        finally:
            if service is not None:
                service.stop()
            infra.stop()


if __name__ == "__main__":
    main()
