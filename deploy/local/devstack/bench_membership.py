"""Membership benchmark: bulk import of members (rows/s, peak memory) and admissions per second
through the API.

    python -m devstack.bench_membership [--members 100000] [--admissions 2000] [--concurrency 16]

Runs its own stack (PostgreSQL, broker, trace sink, membership) on free ports in a temporary
folder; a running `make run` is not touched. Measured, in this order:
1. the CLI `python -m membership.cli` importing an .xlsx of N generated members (real
   resident ID numbers, zh_CN names from Faker) — rows/s and the CLI process's peak RSS;
2. `POST /imports/members` with a CSV (GB18030) of N other members — rows/s and the service's
   peak RSS growth (sampled);
3. re-importing the first sheet's people as CSV: every row "unchanged", nothing written;
4. how long the outbox relay takes to publish the 4·N events of the imports;
5. single admissions `POST /members` with C concurrent clients: admissions/s and latency."""
from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil

from devstack.config import REPO, StackConfig
from devstack.processes import Infrastructure, ServiceProcess, tracesink
from devstack.seed import zh_digits
from unionops.auth import issue_token, root_org_id
from unionops.pii import check_character
from unionops.settings import CommonSettings

HEADER = ["序号", "姓名", "身份证号", "手机号", "电子邮箱", "工作单位", "职业", "学历", "是否农民工", "入会日期", "所属工会"]
AREAS = ["510104", "510105", "510106", "510107", "510108", "510112", "510113", "510114"]
EDUCATION = ["初中", "高中", "中专", "大专", "本科", "硕士"]


def generate_people(n: int, seed: int, union_names: list[str], areas: list[str] = AREAS):
    """n distinct persons with valid resident ID numbers (area + birth date + sequence + check);
    sheets drawn from disjoint `areas` never share a person."""
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    seen: set[str] = set()
    i = 0
    while i < n:
        born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 40))
        first17 = f"{rng.choice(areas)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
        number = first17 + check_character(first17)
        if number in seen:
            continue
        seen.add(number)
        i += 1
        yield [i, fake.name(), number, f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
               f"m{seed}_{i}@bench.unionops.cn" if rng.random() < 0.5 else None, fake.company(), fake.job()[:100],
               rng.choice(EDUCATION), rng.choice(["是", "否"]), (date(2024, 1, 1) + timedelta(days=rng.randrange(600))),
               rng.choice(union_names)]


def write_xlsx(path: Path, rows) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("会员花名册")
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    wb.save(path)


def write_csv(path: Path, rows, encoding: str = "gb18030") -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for r in rows:
            w.writerow([v.isoformat() if isinstance(v, date) else v for v in r])


def percentiles(values: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return {"p50": qs[49], "p95": qs[94], "p99": qs[98]}


class RssSampler:
    """Peak resident memory of another process, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def mb(n_bytes: float) -> float:
    return n_bytes / 2**20


def setup_unions(client: httpx.Client, root: str, unions: int = 4) -> list[dict]:
    def create(body):
        r = client.post("/organisations", json=body)
        r.raise_for_status()
        return r.json()

    d = create({"parent_id": root, "name": "压测区总工会", "level": "district", "kind": "district_federation",
                "region_code": "510104"})
    s = create({"parent_id": d["id"], "name": "压测街道工会", "level": "street", "kind": "street_union",
                "region_code": "510104"})
    return [create({"parent_id": s["id"], "name": f"压测第{i + 1}公司工会", "level": "grassroots",
                    "kind": "enterprise_union", "region_code": "510104"}) for i in range(unions)]


async def outbox_drain(dsn: str, timeout: float) -> tuple[int, int, float]:
    conn = await asyncpg.connect(dsn)
    try:
        start = time.perf_counter()
        total = await conn.fetchval("SELECT count(*) FROM outbox")
        while time.perf_counter() - start < timeout:
            pending = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            if pending == 0:
                break
            await asyncio.sleep(0.5)
        first, last = await conn.fetchrow(
            "SELECT min(occurred_at), max(published_at) FROM outbox WHERE published_at IS NOT NULL")
        published = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
        return published, total, (last - first).total_seconds() if first and last else float("nan")
    finally:
        await conn.close()


async def admissions(url: str, headers: dict, union_id: str, n: int, concurrency: int, seed: int) -> dict:
    rng = random.Random(seed)
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        async def worker():
            while not queue.empty():
                i = queue.get_nowait()
                born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 40))
                first17 = f"510115{born:%Y%m%d}{rng.randrange(1000):03d}"  # 温江区: a real code no sheet uses
                body = {"union_id": union_id, "name": f"单录会员{zh_digits(i)}", "id_number": first17 + check_character(first17),
                        "phone": f"137{rng.randrange(10**8):08d}"}
                t0 = time.perf_counter()
                r = await client.post("/members", json=body)
                if r.status_code == 409:  # a drawn ID number collided: draw another
                    queue.put_nowait(i)
                    continue
                r.raise_for_status()
                latencies.append((time.perf_counter() - t0) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"n": n, "rate": n / elapsed, "latency_ms": percentiles(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000, help="rows per imported sheet")
    parser.add_argument("--admissions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    settings = CommonSettings()
    root = root_org_id(settings.city_region_code)
    headers = {"Authorization": "Bearer " + issue_token(settings, subject="bench", role="federation_admin", org_id=root)}
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory(prefix="unionops-bench-membership-") as tmp:
        tmp_path = Path(tmp)
        cfg = StackConfig.ephemeral(tmp_path / "stack")
        infra = Infrastructure(cfg, fsync=True).start()
        sink = tracesink(cfg).start()
        service = ServiceProcess(cfg, "membership", {"LOG_LEVEL": "WARNING"}).start()
        try:
            with httpx.Client(base_url=service.url, headers=headers, timeout=600) as client:
                unions = setup_unions(client, str(root))
                names = [u["name"] for u in unions]
                print(f"stack up; generating 2 × {args.members} members …", flush=True)
                t0 = time.perf_counter()
                xlsx = tmp_path / "members.xlsx"
                write_xlsx(xlsx, generate_people(args.members, 1, names, AREAS[:4]))
                csv_new = tmp_path / "members-2.csv"
                write_csv(csv_new, generate_people(args.members, 2, names, AREAS[4:]))
                csv_again = tmp_path / "members-again.csv"
                write_csv(csv_again, generate_people(args.members, 1, names, AREAS[:4]), encoding="utf-8-sig")
                print(f"  sheets written in {time.perf_counter() - t0:.1f} s "
                      f"(xlsx {mb(xlsx.stat().st_size):.1f} MB, csv {mb(csv_new.stat().st_size):.1f} MB)", flush=True)

                # 1. the CLI, its own process: peak RSS of that process
                env = cfg.service_env("membership", {"LOG_LEVEL": "WARNING"})
                t0 = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "membership.cli", str(xlsx), "--as", "bench",
                                       "--json", "--intake", "new_joins"], env=env, cwd=REPO, capture_output=True, text=True)
                wall = time.perf_counter() - t0
                if done.returncode != 0:
                    raise SystemExit(f"CLI import failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
                cli = json.loads(done.stdout.strip().splitlines()[-1])
                children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                say(f"N = {args.members} rows per sheet")
                say(f"CLI import (.xlsx, new members)   {cli['rows'] / cli['elapsed_s']:>9.0f} rows/s   "
                    f"{cli['elapsed_s']:.1f} s in the import, {wall:.1f} s wall   peak RSS {cli['peak_rss_mb']:.0f} MB "
                    f"(children max {children_peak:.0f} MB)   imported {cli['imported']}")

                # 2. HTTP upload: peak RSS growth of the service process
                with RssSampler(service.proc.pid) as rss, csv_new.open("rb") as fh:
                    t0 = time.perf_counter()
                    r = client.post("/imports/members", files={"file": (csv_new.name, fh, "text/csv")})
                    elapsed = time.perf_counter() - t0
                r.raise_for_status()
                body = r.json()
                say(f"HTTP import (CSV GB18030, new)    {body['rows'] / elapsed:>9.0f} rows/s   {elapsed:.1f} s   "
                    f"service RSS {mb(rss.base):.0f} → peak {mb(rss.peak):.0f} MB (+{mb(rss.peak - rss.base):.0f})"
                    f"   imported {body['imported']}")

                # 3. re-import of the first sheet's people: all unchanged
                with csv_again.open("rb") as fh:
                    t0 = time.perf_counter()
                    r = client.post("/imports/members", files={"file": (csv_again.name, fh, "text/csv")})
                    elapsed = time.perf_counter() - t0
                r.raise_for_status()
                body = r.json()
                say(f"HTTP re-import (all unchanged)    {body['rows'] / elapsed:>9.0f} rows/s   {elapsed:.1f} s   "
                    f"unchanged {body['unchanged']}, imported {body['imported']}")

            # 4. the relay publishing what the imports staged
            published, total, seconds = asyncio.run(outbox_drain(cfg.dsn("membership"), timeout=max(300, args.members / 50)))
            say(f"outbox → broker                   {published / seconds if seconds else float('nan'):>9.0f} events/s"
                f"   {published}/{total} published, {seconds:.1f} s from first staged to last published")

            # 5. single admissions through the API
            adm = asyncio.run(admissions(service.url, headers, unions[0]["id"], args.admissions, args.concurrency, 3))
            lat = adm["latency_ms"]
            say(f"admissions POST /members (c={args.concurrency:<3})  {adm['rate']:>9.1f} /s      "
                f"p50 {lat['p50']:.1f} ms   p95 {lat['p95']:.1f} ms   p99 {lat['p99']:.1f} ms   n={adm['n']}")
        finally:
            service.stop()
            sink.stop()
            infra.stop()


if __name__ == "__main__":
    main()
