"""`make run`: the whole system on one machine, from pip-installed packages only.

PostgreSQL and the broker start first (in their own process groups, so they stop last and
cleanly); then honcho supervises the trace receiver, the SMTP sink and the four services.
When every service is ready a demo city is seeded and the addresses to look at are printed.
Ctrl-C stops everything; state stays in UNIONOPS_STATE_DIR (default .state/) for next time."""
from __future__ import annotations

import os
import socket
import sys
import threading
import time

import httpx
import psutil
from honcho.manager import Manager
from honcho.printer import Printer

from devstack import seed
from devstack.config import REPO, SERVICES, StackConfig
from devstack.processes import Infrastructure, wait_http_ready

MANAGED_MODULES = (*SERVICES, "devstack.tracesink", "devstack.smtpsink", "devstack.httpsink")


def reap_stale(cfg: StackConfig) -> None:
    """A previous run killed hard may have left our processes behind: stop those (and only
    those) that belong to this state folder, so a second `make run` needs no manual cleanup."""
    mine = str(cfg.state_dir)
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            if proc.pid == os.getpid() or not cmd:
                continue
            ours = mine in cmd or (
                any(f"-m {m}" in cmd for m in MANAGED_MODULES) and proc.environ().get("UNIONOPS_STATE_DIR") == mine)
            if ours:
                print(f"stopping a leftover process from an earlier run: {cmd[:100]}")
                proc.terminate()
                try:
                    proc.wait(10)
                except psutil.TimeoutExpired:
                    proc.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue


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
        "   (python -m devstack.httpsink list)",
        f"  Traces: {cfg.tracesink_url}/api/traces   (make traces; make trace ID=<trace id>)",
        "  Staff token: make token   (city federation admin; --role/--org for others)",
        "",
        "  Follow one admission through all four services: see README.md, 'See a member join'.",
    ]
    if m:
        lines.append(f"  e.g. member {m['name']} ({m['id_number_masked']}) in {m['union_name']}: "
                     f"{cfg.url('membership')}/members/{m['id']}")
    lines.append("  Ctrl-C stops everything.")
    return "\n".join(lines) + "\n"


def main() -> int:
    cfg = StackConfig.from_env()
    os.environ["UNIONOPS_STATE_DIR"] = str(cfg.state_dir)
    reap_stale(cfg)
    check_ports(cfg)
    print(f"starting PostgreSQL (:{cfg.pg_port}) and the broker (:{cfg.kafka_port}); state in {cfg.state_dir}")
    infra = Infrastructure(cfg).start()
    manager = Manager(Printer(sys.stdout))
    try:
        py = sys.executable
        helper_env = dict(os.environ, PYTHONPATH=cfg.pythonpath(), PYTHONUNBUFFERED="1")
        manager.add_process("tracesink", f"{py} -m devstack.tracesink --port {cfg.tracesink_port} "
                            f"--dsn {cfg.dsn('traces')}", env=helper_env, cwd=str(REPO))
        manager.add_process("smtpsink", f"{py} -m devstack.smtpsink --smtp-port {cfg.smtp_port} --http-port "
                            f"{cfg.smtp_http_port} --dir {cfg.state_dir / 'mail'}", env=helper_env, cwd=str(REPO))
        manager.add_process("httpsink", f"{py} -m devstack.httpsink --port {cfg.httpsink_port} "
                            f"--dir {cfg.state_dir / 'httpsink'}", env=helper_env, cwd=str(REPO))
        for service in SERVICES:
            manager.add_process(service, f"{py} -m {service}", env=cfg.service_env(service), cwd=str(REPO))

        def seed_when_ready() -> None:
            try:
                for service in SERVICES:
                    wait_http_ready(cfg.url(service) + "/health/ready", timeout=120)
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

        threading.Thread(target=seed_when_ready, daemon=True).start()
        manager.loop()
        return manager.returncode or 0
    finally:
        print("stopping the broker and PostgreSQL …")
        infra.stop()


if __name__ == "__main__":
    time.tzset()
    sys.exit(main())
