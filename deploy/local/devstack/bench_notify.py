"""Notify benchmark: a campaign fan-out to N members (default 100,000) through the real stack.

    python -m devstack.bench_notify [--members 100000] [--chunk 2000] [--concurrency 32]

Runs its own stack (PostgreSQL, broker, SMTP sink, membership, notify) on free ports in a
temporary folder; a running `make run` is not touched. Steps:
1. N members with e-mail addresses through membership's bulk import (`POST /imports/members`,
   a generated CSV); notify consumes MemberJoined + MemberContactChanged and sends N welcome
   mails — waited for and reported, then the sink is cleared;
2. a CampaignLaunched for the city published to Kafka as welfare's relay would; a campaign tells the
   households it concerns, so every member is given an open hardship file in notify's projection
   first (as welfare's HardshipFileOpened leave them): the worst case, N households;
3. measured: time until the fan-out created every delivery (rows/s), time to the last campaign
   mail received by the SMTP sink (messages/s), and notify's peak memory during the fan-out
   (VmHWM from /proc/<pid>/status, reset through clear_refs before the launch; RSS sampled too);
4. the same mails sent by a minimal raw sender (aiosmtplib, same concurrency, no database) to
   the same sink — the ceiling the sink allows — as a ratio;
5. with --payments P: P AidDisbursed of one campaign run published at once (as welfare's batch
   run does), and how fast notify's consumer turns them into deliveries (events/s)."""
from __future__ import annotations

import argparse
import asyncio
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
import tempfile
from pathlib import Path

import aiosmtplib
import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from contracts.events import AidDisbursed, CampaignLaunched
from devstack.bench_membership import setup_unions, write_csv
from devstack.config import StackConfig
from devstack.processes import Infrastructure, ServiceProcess, smtpsink
from unionops.auth import issue_token, root_org_id
from unionops.envelope import Envelope
from unionops.pii import check_character
from unionops.settings import CommonSettings

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"


def generate_members(n: int, union_names: list[str], *, tag: str, area: str = "510131"):
    """n distinct people with valid resident ID numbers (area + birth date + sequence + check)
    and an e-mail each, as rows of membership's import sheet. Cheap: no Faker."""
    start = date(1966, 1, 1) + timedelta(days=int(tag, 16) % 3000)
    for i in range(n):
        born = start + timedelta(days=i // 1000)
        first17 = f"{area}{born:%Y%m%d}{i % 1000:03d}"
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + GIVEN[(i // 7) % len(GIVEN)]
        yield [i + 1, name, first17 + check_character(first17), None, f"m{tag}_{i}@bench.unionops.cn",
               "压测企业", "操作工", "高中", "否", date(2025, 1, 2), union_names[i % len(union_names)]]


class MemorySampler:
    """Peak VmRSS of a process, sampled every 50 ms, and its VmHWM (kernel-kept peak)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def reset_hwm(self) -> bool:
        try:  # "5" resets the peak RSS (Linux ≥ 4.0); not allowed everywhere
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_rss = max(self.peak_rss, self.status("VmRSS"))

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def mb(n: float) -> float:
    return n / 2**20


async def wait_for(probe, what: str, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


async def publish_campaign(cfg: StackConfig, event: CampaignLaunched) -> uuid.UUID:
    env = Envelope(id=uuid.uuid4(), type=event.event_type(), source="welfare", time=datetime.now(timezone.utc),
                   data=event.model_dump(mode="json"), subject=event.key())
    producer = AIOKafkaProducer(bootstrap_servers=cfg.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(event.topic, env.value(), key=event.key().encode(), headers=env.kafka_headers())
    finally:
        await producer.stop()
    return env.id


async def raw_smtp(port: int, n: int, concurrency: int, tag: str) -> float:
    """Messages/s of bare aiosmtplib sends over persistent connections to the sink."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker():
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await client.connect()
        try:
            while not queue.empty():
                i = queue.get_nowait()
                msg = EmailMessage()
                msg["From"], msg["To"] = "noreply@unionops.local", f"raw{i}@bench.unionops.cn"
                msg["Subject"], msg["Message-ID"] = f"raw {tag}", f"<raw-{tag}-{i}@unionops.local>"
                msg.set_content("基准：直接发送，无数据库。")
                await client.send_message(msg)
        finally:
            await client.quit()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - start)


async def measure(cfg: StackConfig, notify: ServiceProcess, sink: httpx.AsyncClient, root: uuid.UUID, n: int,
                  concurrency: int, payments: int, say) -> None:
    pool = await asyncpg.create_pool(cfg.dsn("notify"), min_size=1, max_size=2)
    try:
        t0 = time.perf_counter()

        async def projected():
            return await pool.fetchval("SELECT count(*) FROM members m JOIN contacts c USING (member_id)"
                                       " WHERE c.email_sealed IS NOT NULL") >= n
        await wait_for(projected, "notify's projection of the members", timeout=max(600, n / 50))
        say(f"notify projection has {n} members with e-mail   {time.perf_counter() - t0:.1f} s after the import")

        t0 = time.perf_counter()

        async def welcomes_done():
            return not await pool.fetchval("SELECT EXISTS (SELECT 1 FROM deliveries WHERE status IN"
                                           " ('pending', 'sending') AND source_event_type = 'MemberJoined')")
        await wait_for(welcomes_done, "the welcome mails", timeout=max(900, n / 20), interval=1.0)
        welcome = await pool.fetchrow("SELECT count(*) FILTER (WHERE channel = 'email') AS mails,"
                                      " max(delivered_at) - min(created_at) AS span FROM deliveries"
                                      " WHERE source_event_type = 'MemberJoined' AND status = 'delivered'")
        span = welcome["span"].total_seconds() if welcome["span"] else float("nan")
        say(f"welcome mails (one event each)    {welcome['mails'] / span:>9.0f} mails/s   {welcome['mails']} mails,"
            f" {span:.1f} s first created → last delivered (waited {time.perf_counter() - t0:.1f} s)")
        (await sink.delete("/messages")).raise_for_status()
        await pool.execute("INSERT INTO hardship_files (file_id, member_id, org_path, level)"
                           " SELECT gen_random_uuid(), member_id, org_path, 'deep' FROM members")

        mem = MemorySampler(notify.proc.pid)
        rss_before = mem.status("VmRSS")
        hwm_reset = mem.reset_hwm()
        tag = uuid.uuid4().hex[:6]
        event = CampaignLaunched(
            campaign_id=uuid.uuid4(), name=f"春节送温暖{tag}", kind="spring_festival", org_id=root, org_path=[root],
            fund_id=uuid.uuid4(), budget_fen=500_000_000, per_payment_cap_fen=300_000, per_person_year_cap_fen=600_000,
            starts_on=date(2026, 1, 5), ends_on=date(2026, 2, 10))
        with mem:
            start = time.perf_counter()
            event_id = await publish_campaign(cfg, event)

            async def created():
                return await pool.fetchrow("SELECT created, members_done, finished_at - started_at AS span"
                                           " FROM fanouts WHERE source_event_id = $1 AND status = 'done'", event_id)
            fan = await wait_for(created, "the fan-out's deliveries", timeout=max(600, n / 100), interval=0.2)
            created_at = time.perf_counter() - start

            # Progress from notify's own table (cheap); the sink is asked once at the end — asking it
            # every second to count 100,000+ receipts would cost it more than receiving them.
            async def all_settled():
                return await pool.fetchval("SELECT count(*) FILTER (WHERE status IN ('pending', 'sending')) = 0"
                                           " AND count(*) > 0 FROM deliveries WHERE source_event_id = $1", event_id)
            await wait_for(all_settled, "the last campaign mail", timeout=max(900, n / 20), interval=1.0)
            last = time.perf_counter() - start
        hwm = mem.status("VmHWM")
        got = (await sink.get("/messages/count", params={"subject_contains": f"春节送温暖{tag}"})).json()
        delivered = await pool.fetchval("SELECT count(*) FROM deliveries WHERE source_event_id = $1"
                                        " AND status = 'delivered' AND channel = 'email'", event_id)
        if got["messages"] != n or delivered != n:
            raise SystemExit(f"not every member got the campaign mail once: sink has {got['messages']} distinct"
                             f" mails ({got['receipts']} receipts), notify marked {delivered} delivered, expected {n}")
        span = fan["span"].total_seconds()
        say(f"fan-out: deliveries created      {fan['created'] / span:>9.0f} rows/s    {fan['created']} rows for"
            f" {fan['members_done']} members (e-mail + in-app), {span:.1f} s in the worker, {created_at:.1f} s after publish")
        say(f"fan-out: e-mails to the sink      {n / last:>9.0f} msgs/s    last of {got['messages']} received"
            f" {last:.1f} s after publish ({got['receipts']} receipts, {delivered} marked delivered)")
        say(f"notify memory: RSS {mb(rss_before):.0f} MB at launch, sampled peak {mb(mem.peak_rss):.0f} MB,"
            f" VmHWM {mb(hwm):.0f} MB" + (" (reset at launch)" if hwm_reset else " (since start: clear_refs refused)"))
        raw_n = min(n, 20_000)
        raw = await raw_smtp(cfg.smtp_port, raw_n, concurrency, tag)
        say(f"raw aiosmtplib → same sink        {raw:>9.0f} msgs/s    n={raw_n}, c={concurrency};"
            f" notify/raw = {(n / last) / raw:.2f}")
        if payments:
            await measure_payments(cfg, pool, event.campaign_id, payments, say)
    finally:
        await pool.close()


async def measure_payments(cfg: StackConfig, pool, campaign_id: uuid.UUID, n: int, say) -> None:
    rows = await pool.fetch("SELECT member_id, union_id, org_path FROM members ORDER BY member_id LIMIT $1", n)
    producer = AIOKafkaProducer(bootstrap_servers=cfg.bootstrap, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    try:
        start = time.perf_counter()
        sends = []
        for i in range(n):
            m = rows[i % len(rows)]
            event = AidDisbursed(case_id=uuid.uuid4(), member_id=m["member_id"], union_id=m["union_id"],
                                 org_path=m["org_path"], kind="living", amount_fen=150000 + i % 100, fund_id=campaign_id,
                                 campaign_id=campaign_id, ledger_entry_id=uuid.uuid4(), paid_on=date(2026, 1, 20))
            env = Envelope(id=uuid.uuid4(), type=event.event_type(), source="welfare",
                           time=datetime.now(timezone.utc), data=event.model_dump(mode="json"), subject=event.key())
            sends.append(await producer.send(event.topic, env.value(), key=event.key().encode(),
                                             headers=env.kafka_headers()))
        await asyncio.gather(*sends)
        published = time.perf_counter() - start
    finally:
        await producer.stop()

    async def created():
        return await pool.fetchval("SELECT count(DISTINCT source_event_id) FROM deliveries"
                                   " WHERE source_event_type = 'AidDisbursed'") >= n
    await wait_for(created, "the payments' deliveries", timeout=max(300, n / 10), interval=0.2)
    took = time.perf_counter() - start
    say(f"AidDisbursed → deliveries         {n / took:>9.0f} events/s   {n} payment events of one campaign run,"
        f" {took:.1f} s from first publish (publishing took {published:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=2000, help="NOTIFY_FANOUT_CHUNK_SIZE")
    parser.add_argument("--concurrency", type=int, default=32, help="NOTIFY_SEND_CONCURRENCY")
    parser.add_argument("--payments", type=int, default=10_000, help="AidDisbursed events of one campaign run (0: skip)")
    args = parser.parse_args()
    settings = CommonSettings()
    root = root_org_id(settings.city_region_code)
    headers = {"Authorization": "Bearer " + issue_token(settings, subject="bench", role="federation_admin", org_id=root)}
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory(prefix="unionops-bench-notify-") as tmp:
        cfg = StackConfig.ephemeral(Path(tmp) / "stack")
        infra = Infrastructure(cfg, fsync=True).start()
        quiet = {"LOG_LEVEL": "WARNING", "OTEL_EXPORTER_OTLP_ENDPOINT": ""}
        sink_proc = smtpsink(cfg).start()
        membership = ServiceProcess(cfg, "membership", quiet).start()
        notify = ServiceProcess(cfg, "notify", {**quiet, "NOTIFY_FANOUT_CHUNK_SIZE": str(args.chunk),
                                                "NOTIFY_SEND_CONCURRENCY": str(args.concurrency),
                                                "NOTIFY_DISPATCH_BATCH_SIZE": "500"}).start()
        try:
            with httpx.Client(base_url=membership.url, headers=headers, timeout=1800) as client:
                unions = setup_unions(client, str(root))
                sheet = Path(tmp) / "members.csv"
                write_csv(sheet, generate_members(args.members, [u["name"] for u in unions], tag=uuid.uuid4().hex[:6]))
                t0 = time.perf_counter()
                with sheet.open("rb") as fh:
                    r = client.post("/imports/members", files={"file": (sheet.name, fh, "text/csv")})
                r.raise_for_status()
                say(f"N = {args.members} members, chunk {args.chunk}, send concurrency {args.concurrency}")
                say(f"membership import                 {args.members / (time.perf_counter() - t0):>9.0f} rows/s   "
                    f"imported {r.json()['imported']}")

            async def run():
                async with httpx.AsyncClient(base_url=cfg.smtpsink_url, timeout=120) as sink:
                    await measure(cfg, notify, sink, root, args.members, args.concurrency, args.payments, say)
            asyncio.run(run())
        finally:
            notify.stop()
            membership.stop()
            sink_proc.stop()
            infra.stop()
    print("\n".join(["", "summary:", *lines]))


if __name__ == "__main__":
    main()
