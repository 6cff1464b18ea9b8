"""`make bench`: end-to-end throughput and latency of a member joining, from the admission
request to the welcome e-mail received by the SMTP sink, and in the same run a minimal raw
pipeline (aiokafka produce → consume → asyncpg insert of effect + inbox row, no framework)
over the same N, reported as a ratio.

    python -m devstack.bench [--members 2000] [--concurrency 16]

Runs its own stack on free ports in a temporary folder; a running `make run` is not touched."""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devstack.config import SERVICES, StackConfig
from devstack.processes import Infrastructure, ServiceProcess, smtpsink, tracesink
from devstack.seed import resident_id, zh_digits
from unionops.auth import issue_token, root_org_id
from unionops.settings import CommonSettings


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    qs = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return {"p50": qs[49], "p95": qs[94], "p99": qs[98]}


async def end_to_end(cfg: StackConfig, n: int, concurrency: int) -> dict:
    settings = CommonSettings()
    headers = {"Authorization": "Bearer " + issue_token(settings, subject="bench", role="federation_admin",
                                                        org_id=root_org_id(settings.city_region_code))}
    async with httpx.AsyncClient(base_url=cfg.url("membership"), headers=headers, timeout=60) as client:
        async def create(body):
            r = await client.post("/organisations", json=body)
            r.raise_for_status()
            return r.json()["id"]

        d = await create({"parent_id": str(root_org_id(settings.city_region_code)), "name": "压测区总工会",
                          "level": "district", "kind": "district_federation", "region_code": "510104"})
        s = await create({"parent_id": d, "name": "压测街道工会", "level": "street", "kind": "street_union",
                          "region_code": "510104"})
        u = await create({"parent_id": s, "name": "压测公司工会", "level": "grassroots", "kind": "enterprise_union",
                          "region_code": "510104"})
        import random
        rng = random.Random(7)
        sent_at: dict[str, float] = {}
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)

        async def worker():
            while not queue.empty():
                i = queue.get_nowait()
                email = f"bench{i:06d}@bench.unionops.cn"
                body = {"union_id": u, "name": f"压测会员{zh_digits(i)}", "id_number": resident_id(rng, "510104"), "email": email}
                t0 = time.time()
                r = await client.post("/members", json=body)
                if r.status_code == 409:  # a random ID number collided: draw another
                    queue.put_nowait(i)
                    continue
                r.raise_for_status()
                sent_at[email] = t0

        start = time.time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        admitted = time.time()

    received: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=cfg.smtpsink_url, timeout=30) as sink:
        deadline = time.time() + max(120, n / 10)
        while len(received) < n and time.time() < deadline:
            msgs = (await sink.get("/messages", params={"limit": n + 100})).json()
            for m in msgs.get("messages", msgs) if isinstance(msgs, dict) else msgs:
                for rcpt in m["rcpt_tos"]:
                    if rcpt in sent_at and rcpt not in received:
                        received[rcpt] = datetime.fromisoformat(m["received_at"]).timestamp()
            if len(received) < n:
                await asyncio.sleep(0.5)
    latencies = [(received[e] - sent_at[e]) * 1000 for e in received]
    last = max(received.values()) if received else time.time()
    return {"n": n, "delivered": len(received), "admission_rate": n / (admitted - start),
            "throughput": len(received) / (last - start), "latency_ms": percentiles(latencies)}


async def raw_pipeline(cfg: StackConfig, n: int) -> dict:
    """The floor: what aiokafka and asyncpg alone do with the same N, batched the same way."""
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 6, 1)])
    await admin.close()
    conn = await asyncpg.connect(cfg.dsn("postgres"))
    await conn.execute("DROP TABLE IF EXISTS bench_effect, bench_inbox;"
                       "CREATE TABLE bench_inbox (event_id uuid PRIMARY KEY);"
                       "CREATE TABLE bench_effect (event_id uuid, payload jsonb, sent_at double precision)")
    producer = AIOKafkaProducer(bootstrap_servers=cfg.bootstrap, acks="all", linger_ms=2)
    consumer = AIOKafkaConsumer(bootstrap_servers=cfg.bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=5)
    await producer.start()
    await consumer.start()
    await consumer._client.force_metadata_update()
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(tps)
    latencies: list[float] = []

    async def produce():
        for i in range(n):
            body = json.dumps({"member_id": str(uuid.uuid4()), "name": f"会员{i}", "union_id": str(uuid.uuid4()),
                               "sent_at": time.time(), "pad": "x" * 150}).encode()
            await producer.send(topic, body, key=str(i).encode(), headers=[("ce_id", str(uuid.uuid4()).encode())])
        await producer.flush()

    async def consume():
        done = 0
        while done < n:
            batch = await consumer.getmany(timeout_ms=100, max_records=500)
            records = [r for msgs in batch.values() for r in msgs]
            if not records:
                continue
            ids = [uuid.UUID(dict(r.headers)["ce_id"].decode()) for r in records]
            bodies = [json.loads(r.value) for r in records]
            async with conn.transaction():
                fresh = await conn.fetch("INSERT INTO bench_inbox SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING"
                                         " RETURNING event_id", ids)
                await conn.execute("INSERT INTO bench_effect SELECT * FROM unnest($1::uuid[], $2::jsonb[],"
                                   " $3::float8[])", [r["event_id"] for r in fresh],
                                   [json.dumps(b) for b in bodies], [b["sent_at"] for b in bodies])
            now = time.time()
            latencies.extend((now - b["sent_at"]) * 1000 for b in bodies)
            done += len(records)

    start = time.time()
    await asyncio.gather(produce(), consume())
    elapsed = time.time() - start
    await producer.stop()
    await consumer.stop()
    await conn.execute("DROP TABLE bench_effect, bench_inbox")
    await conn.close()
    return {"n": n, "throughput": n / elapsed, "latency_ms": percentiles(latencies)}


def report(e2e: dict, raw: dict) -> str:
    def row(name, r):
        lat = r["latency_ms"]
        return (f"{name:<34} {r['throughput']:>10.1f} /s   p50 {lat['p50']:>9.1f} ms   p95 {lat['p95']:>9.1f} ms"
                f"   p99 {lat['p99']:>9.1f} ms")

    lines = [
        "",
        f"N = {e2e['n']} admissions ({e2e['delivered']} welcome e-mails delivered)",
        row("end to end (admit → e-mail)", e2e),
        f"{'  admissions accepted (HTTP 201)':<34} {e2e['admission_rate']:>10.1f} /s",
        row("raw pipeline (aiokafka+asyncpg)", raw),
        f"ratio end-to-end / raw throughput: {e2e['throughput'] / raw['throughput']:.3f}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="unionops-bench-") as tmp:
        cfg = StackConfig.ephemeral(Path(tmp))
        infra = Infrastructure(cfg, fsync=True).start()
        helpers = [tracesink(cfg).start(), smtpsink(cfg).start()]
        services = [ServiceProcess(cfg, s, {"LOG_LEVEL": "WARNING"}).start() for s in SERVICES]
        try:
            print(f"stack up on free ports; admitting {args.members} members …")
            e2e = asyncio.run(end_to_end(cfg, args.members, args.concurrency))
            print("raw pipeline …")
            raw = asyncio.run(raw_pipeline(cfg, args.members))
            print(report(e2e, raw))
        finally:
            for p in services:
                p.stop()
            for h in helpers:
                h.stop()
            infra.stop()


if __name__ == "__main__":
    main()
