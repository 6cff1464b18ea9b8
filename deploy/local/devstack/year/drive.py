"""The driver of the year (started by `python -m devstack.year`, under the simulated clock): the
stack up, the city built, every step of the plan on its date, the system settled after each, then
the invariants, the dashboard's reconciliation and the report."""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import asyncpg

from devstack import welfare_calendar
from devstack.config import SERVICES, StackConfig
from devstack.year import city, plan, report
from devstack.year.clock import SimulatedClock
from devstack.year.context import PhaseStats, Scale, Year, YearFailed
from devstack.year.settle import Settler
from unionops.clock import _zone


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m devstack.year", description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--members", type=int, default=5_000, help="the city's size (default 5,000; the moonshot: 1000000)")
    p.add_argument("--seed", type=int, default=2027, help="the random generator's seed: the same seed, the same year")
    p.add_argument("--chaos", action="store_true", help="kill replicas at random moments and restart the broker")
    p.add_argument("--only", default="", help="comma-separated phase modules to run (membership,rights,welfare,"
                                               "competitions); the city is always built")
    p.add_argument("--report", default="", help="also write the report as JSON to this file")
    p.add_argument("--state", default="", help="the state folder (default: a new temporary one)")
    p.add_argument("--year", type=int, default=0, help="the calendar year simulated (default: next year)")
    p.add_argument("--no-dashboard", action="store_true", help="do not start the city dashboard")
    return p


# The services keep the year's outbox and inbox rows (their defaults are 7 and 30 days): the
# invariants compare every event published with every subscriber's inbox, and a replica restarted
# by chaos purges at start what is older than its retention on the simulated clock.
KEPT_FOR_THE_YEAR = {"OUTBOX_RETENTION_DAYS": "400", "INBOX_RETENTION_DAYS": "800"}
# The services' deadline sweeps (minutes to an hour apart in production) look every few seconds:
# a day of the year lasts seconds. The year's end waits two of them before its last settle, so
# what the last day made due (a 12351 ticket overdue on 31 December) is sent before it is counted.
SWEEP_SECONDS = 5
SWEEPS_FOR_THE_YEAR = {name: str(SWEEP_SECONDS) for name in (
    "WELFARE_HOTLINE_CHECK_SECONDS", "WELFARE_DISPUTE_CHECK_SECONDS", "HARDSHIP_SWEEP_INTERVAL_SECONDS",
    "TRANSFER_REQUEST_SWEEP_INTERVAL_SECONDS", "COLLECTIVE_CONTRACT_CHECK_SECONDS", "HR_SCHEDULE_INTERVAL_SECONDS",
    "CONGRESS_PROPOSAL_SWEEP_INTERVAL_SECONDS")}


def _stack(cfg: StackConfig, year: int, log):
    from devstack.year.stack import YearStack
    env = welfare_calendar.typed_in(year) | KEPT_FOR_THE_YEAR | SWEEPS_FOR_THE_YEAR
    return YearStack(cfg, replicas={"membership": 2, "notify": 2}, env=env, log=log)


class Progress:
    """One line per step, and a month's summary; a bar on a terminal."""

    def __init__(self, total: int):
        self.total = total
        self.done = 0
        self.tty = sys.stdout.isatty()

    def step(self, stats: PhaseStats) -> None:
        self.done += 1
        bar = ""
        if self.tty:
            filled = round(30 * self.done / self.total)
            bar = "[" + "#" * filled + "." * (30 - filled) + "] "
        counts = ", ".join(f"{k} {v}" for k, v in stats.counts.most_common(4))
        print(f"{bar}{stats.day:%m-%d} {stats.name}: {stats.seconds:.1f} s, {stats.requests} requests"
              f"{' — ' + counts if counts else ''}", flush=True)


async def run(args) -> int:
    clock = SimulatedClock.from_env()
    state = Path(args.state)
    cfg = StackConfig.ephemeral(state)
    started = time.monotonic()
    log = lambda line: print(line, flush=True)  # noqa: E731
    stack = _stack(cfg, args.year, log)
    print(f"the year {args.year} of a city of {args.members:,} members (seed {args.seed}); state in {state}", flush=True)
    await asyncio.to_thread(stack.start)
    dashboard = None if args.no_dashboard else start_dashboard(cfg, state)
    if dashboard:
        print(f"the city dashboard, live: {dashboard[1]}/", flush=True)
    chaos = None
    if args.chaos:
        from devstack.year.stack import Chaos
        chaos = Chaos(stack, random.Random(args.seed + 1), log,  # the timeline in the machine's time
                      real_now=lambda: datetime.fromtimestamp(clock.real_epoch(), timezone.utc))
        chaos.start()
    boot_seconds = time.monotonic() - started
    settler = Settler({s: cfg.dsn(s) for s in SERVICES}, cfg.bootstrap, {s: stack.urls(s)[0] for s in SERVICES})
    await settler.start()
    membership_db = await asyncpg.create_pool(cfg.dsn("membership"), min_size=1, max_size=2)
    year = Year(clock=clock, rng=random.Random(args.seed), scale=Scale(args.members), urls=stack.urls,
                bootstrap=cfg.bootstrap, settle=settler.settle, year=args.year, membership_db=membership_db)
    only = {m for m in args.only.split(",") if m} or None
    steps = [plan.Step(1, 4, "建市：组织、企业与存量会员", city.build, "city")] + plan.steps(only)
    progress = Progress(len(steps))
    failures: list[str] = []
    findings = []
    try:
        month = 0
        for step in steps:
            when = datetime(args.year, step.month, step.day, 9, 0, tzinfo=_zone("Asia/Shanghai"))
            await clock.move_to(when)
            if step.month != month:
                month = step.month
                print(f"— {args.year}-{month:02d} —", flush=True)
            stats = PhaseStats(step.name, clock.today())
            year.phase = stats
            t0 = time.monotonic()
            await step.run(year)
            t1 = time.monotonic()
            await year.settle()
            stats.settle_seconds = time.monotonic() - t1
            stats.seconds = time.monotonic() - t0
            year.phases.append(stats)
            progress.step(stats)
        if chaos:
            await asyncio.to_thread(chaos.ensure_broker_restart)
            chaos.stop()
            stack.chaos_timeline = chaos.timeline
        await clock.move_to(datetime(args.year, 12, 31, 18, 0, tzinfo=_zone("Asia/Shanghai")))
        async with year.closing_step("年终：全部处理完毕（settle）"):
            await year.settle()
            await asyncio.sleep(2 * SWEEP_SECONDS)
            await year.settle()
        async with year.closing_step("年终：不变量核查"):
            findings = await report.check(year, cfg, stack)
        if dashboard:
            async with year.closing_step("年终：看板与各服务对账"):
                findings.append(await report.reconciled(year, stack, dashboard[1]))
    except YearFailed as exc:
        failures.append(str(exc))
    finally:
        if chaos:
            chaos.stop()  # no fault under way while the stack stops (a year that failed midway)
        await year.close()
        await settler.close()
        await membership_db.close()
        text, body = report.render(year, findings, failures, boot_seconds, time.monotonic() - started, stack, args)
        print(text, flush=True)
        if args.report:
            Path(args.report).write_text(json.dumps(body, ensure_ascii=False, indent=2, default=str))
        if dashboard:
            dashboard[0].terminate()
            dashboard[0].wait(10)
        await asyncio.to_thread(stack.stop)
    return 0 if not failures and all(f.ok for f in findings) else 1


def start_dashboard(cfg: StackConfig, state: Path):
    """The city dashboard (citydash): a downstream reader of the published topics only."""
    import subprocess

    from devstack.config import REPO, free_port
    from devstack.processes import wait_http_ready
    port = free_port()
    log = open(state / "logs" / "citydash.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "citydash", "--bootstrap", cfg.bootstrap, "--port", str(port),
                             "--state", str(state / "citydash.sqlite")], cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_http_ready(url + "/health/ready", timeout=60, proc=proc)
    return proc, url


def main() -> int:
    return asyncio.run(run(parser().parse_args()))


if __name__ == "__main__":
    sys.exit(main())
