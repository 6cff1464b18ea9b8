"""Starting and stopping the stack's processes from Python (used by the tests and the bench;
`make run` puts the long-running ones under supervisord, devstack.supervise)."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack import broker, postgres
from devstack.config import DATABASES, REPO, StackConfig


def wait_http_ready(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None, *,
                    service: str | None = None, log: Path | None = None) -> None:
    """Until `url` answers 200 — from `service` when named (a service's /health/ready says whose
    it is: a port held by another process answers too, for the wrong service). A process that
    exits first raises with the end of its `log`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with code {proc.returncode}{_tail(log)}")
        try:
            r = httpx.get(url, timeout=2)
            if r.status_code == 200 and (service is None or _answered_by(r) == service):
                return
            last = r.text if r.status_code != 200 else f"answered by {_answered_by(r)!r}, not {service}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s: {last}{_tail(log)}")


def _answered_by(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("service") if isinstance(body, dict) else None


def _tail(log: Path | None, lines: int = 25) -> str:
    if log is None or not log.exists():
        return ""
    with open(log, "rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - 16384))
        text = f.read().decode("utf-8", "replace")
    return f"\n--- the end of {log} ---\n" + "\n".join(text.splitlines()[-lines:])


@dataclass
class Infrastructure:
    """PostgreSQL (one database per service) and the broker. `env` is added to PostgreSQL's
    environment (the year's simulated clock); the broker keeps the machine's clock."""

    config: StackConfig
    fsync: bool = True
    env: dict[str, str] = field(default_factory=dict)
    pg: subprocess.Popen | None = None
    kafka: subprocess.Popen | None = None

    def start(self) -> "Infrastructure":
        cfg = self.config
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        logs = cfg.state_dir / "logs"
        logs.mkdir(exist_ok=True)
        postgres.init_cluster(cfg.state_dir / "postgres")
        self.pg = postgres.start(cfg.state_dir / "postgres", cfg.pg_port, fsync=self.fsync, log_file=logs / "postgres.log",
                                 env=self.env)
        self.start_broker()
        postgres.wait_ready(cfg.pg_port, proc=self.pg)
        asyncio.run(create_databases(cfg))
        return self

    def start_broker(self) -> None:
        self.kafka = broker.start(self.config.state_dir, self.config.kafka_port,
                                  log_file=self.config.state_dir / "logs" / "broker.log")
        broker.wait_ready(self.config.kafka_port, proc=self.kafka)

    def stop_broker(self) -> None:
        if self.kafka is not None:
            broker.stop(self.kafka)

    def stop(self) -> None:
        self.stop_broker()
        if self.pg is not None:
            postgres.stop(self.pg)


async def create_databases(cfg: StackConfig) -> None:
    from unionops.db import ensure_database

    for name in DATABASES:
        await ensure_database(cfg.dsn("postgres"), name)


@dataclass
class ServiceProcess:
    """One service as a separate OS process, as in production."""

    config: StackConfig
    name: str
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    log_name: str = ""  # the log file's name when not the service's (a replica: "notify-1")

    @property
    def url(self) -> str:
        return self.config.url(self.name)

    @property
    def log(self) -> Path:
        return self.config.state_dir / "logs" / f"{self.log_name or self.name}.log"

    def start(self, wait: bool = True) -> "ServiceProcess":
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.name], env=self.config.service_env(self.name, self.extra_env),
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Ready, and this service answering on its port (not another process that holds it)."""
        wait_http_ready(self.url + "/health/ready", timeout, self.proc, service=self.name, log=self.log)

    def stop(self, timeout: float = 15.0) -> None:
        stop_services([self], timeout)

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no flush — a crash."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def stop_services(services: list[ServiceProcess], timeout: float = 15.0) -> None:
    """SIGTERM to every running service at once, then wait for each (killed after `timeout`):
    several services shut down in the time of one."""
    running = [s for s in services if s.proc is not None and s.proc.poll() is None]
    for service in running:
        service.proc.send_signal(signal.SIGTERM)
    for service in running:
        try:
            service.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            service.proc.kill()
            service.proc.wait()


@dataclass
class HelperProcess:
    """The trace receiver, the SMTP sink or the HTTP provider sink; `extra_env` is added to its
    environment (the year's simulated clock)."""

    config: StackConfig
    name: str
    args: list[str]
    ready_url: str
    proc: subprocess.Popen | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def start(self) -> "HelperProcess":
        log = open(self.config.state_dir / "logs" / f"{self.name}.log", "ab")
        env = {**os.environ, "PYTHONPATH": self.config.pythonpath(), "PYTHONUNBUFFERED": "1", **self.extra_env}
        self.proc = subprocess.Popen([sys.executable, "-m", *self.args], env=env, cwd=REPO, stdout=log,
                                     stderr=subprocess.STDOUT)
        wait_http_ready(self.ready_url, proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def tracesink(cfg: StackConfig) -> HelperProcess:
    return HelperProcess(cfg, "tracesink", ["devstack.tracesink", "--port", str(cfg.tracesink_port), "--dsn",
                                            cfg.dsn("traces")], cfg.tracesink_url + "/health/ready")


def smtpsink(cfg: StackConfig) -> HelperProcess:
    return HelperProcess(cfg, "smtpsink", ["devstack.smtpsink", "--smtp-port", str(cfg.smtp_port), "--http-port",
                                           str(cfg.smtp_http_port), "--dir", str(cfg.state_dir / "mail")],
                         cfg.smtpsink_url + "/health/ready")


def httpsink(cfg: StackConfig) -> HelperProcess:
    """The SMS provider + robot webhook sink (devstack.httpsink)."""
    return HelperProcess(cfg, "httpsink", ["devstack.httpsink", "--port", str(cfg.httpsink_port), "--dir",
                                           str(cfg.state_dir / "httpsink")], cfg.httpsink_url + "/health/ready")
