"""`make run` survives what a laptop does to it: a service, the broker or PostgreSQL killed with
-9 is restarted while the rest keep running, and a launcher killed with -9 leaves nothing of its
state folder behind, so the next `make run` starts. Runs the real launcher (devstack.run) on free
ports in a private state folder."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import httpx
import psutil
import pytest

from devstack import broker
from devstack.config import REPO, SERVICES, StackConfig
from devstack.supervise import Supervisor
from tests.support.membership import admit, found_district
from tests.support.sinks import messages_to
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

UP = "UnionOps is running"


class Launcher:
    """`make run` as a subprocess, its output in a file."""

    def __init__(self, cfg: StackConfig):
        self.cfg = cfg
        self.out = cfg.state_dir.parent / f"{cfg.state_dir.name}-run.out"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        c = self.cfg
        return dict(os.environ, UNIONOPS_STATE_DIR=str(c.state_dir), PG_PORT=str(c.pg_port),
                    KAFKA_PORT=str(c.kafka_port), TRACESINK_PORT=str(c.tracesink_port), SMTP_PORT=str(c.smtp_port),
                    SMTPSINK_HTTP_PORT=str(c.smtp_http_port), HTTPSINK_PORT=str(c.httpsink_port), DEMO_MEMBERS="3",
                    PYTHONPATH=os.pathsep.join(str(REPO / p) for p in
                                               ("libs", "deploy/local", *(f"services/{s}" for s in SERVICES))),
                    **{f"{s.upper()}_HTTP_PORT": str(p) for s, p in c.service_ports.items()})

    def start(self, timeout: float = 300) -> "Launcher":
        start_at = self.out.stat().st_size if self.out.exists() else 0
        self.proc = subprocess.Popen([sys.executable, "-m", "devstack.run"], env=self.env(), cwd=REPO,
                                     stdout=open(self.out, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        eventually_sync(lambda: self.proc.poll() is not None or UP in self.output(start_at), "make run to come up",
                        timeout=timeout, interval=1)
        assert self.proc.poll() is None, self.output(start_at)[-3000:]
        return self

    def output(self, start_at: int = 0) -> str:
        return self.out.read_bytes()[start_at:].decode("utf-8", "replace")

    def pids(self) -> dict[str, int]:
        return Supervisor.attach(self.cfg).pids()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    run = Launcher(StackConfig.ephemeral(tmp_path_factory.mktemp("makerun") / "state"))
    try:
        yield run.start()
    finally:
        run.stop()


@pytest.fixture()
def membership(launcher):
    with httpx.Client(base_url=launcher.cfg.url("membership"), timeout=30) as client:
        yield client


@pytest.fixture()
def sink(launcher):
    with httpx.Client(base_url=launcher.cfg.smtpsink_url, timeout=30) as client:
        yield client


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def restarted(launcher: Launcher, name: str, old_pid: int, timeout: float = 60) -> int:
    def new_running_pid():
        info = Supervisor.attach(launcher.cfg).info(name)
        return info["pid"] if info["statename"] == "RUNNING" and info["pid"] not in (0, old_pid) else None
    return eventually_sync(new_running_pid, f"{name} to be restarted", timeout=timeout, interval=0.5)


def admitted_with_welcome(membership: httpx.Client, sink: httpx.Client, union: str, email: str,
                          timeout: float = 120) -> None:
    def admitted():
        try:
            r = admit(membership, union, email=email, headers=None)
            return r.status_code == 201 or r.status_code == 409
        except httpx.HTTPError:
            return False
    eventually_sync(admitted, f"admission of {email}", interval=1)
    eventually_sync(lambda: messages_to(sink, email), f"the welcome mail to {email}", timeout=timeout, interval=1)


def test_a_service_killed_with_sigkill_is_restarted_while_the_others_keep_running(launcher, membership, sink):
    before = launcher.pids()
    os.kill(before["notify"], signal.SIGKILL)
    new = restarted(launcher, "notify", before["notify"])
    eventually_sync(lambda: _try(lambda: httpx.get(launcher.cfg.url("notify") + "/health/ready", timeout=5).status_code == 200),
                    "notify to be ready again", timeout=90, interval=1)
    after = launcher.pids()
    assert {k: v for k, v in after.items() if k != "notify"} == {k: v for k, v in before.items() if k != "notify"}
    assert after["notify"] == new
    assert "exited: notify (terminated by SIGKILL; not expected)" in launcher.output()
    union = found_district(membership).union_ids[0]
    admitted_with_welcome(membership, sink, union, f"after-notify-kill-{uuid.uuid4().hex[:8]}@example.cn")


def test_a_broker_killed_with_sigkill_is_restarted_and_events_flow_again(launcher, membership, sink):
    union = found_district(membership).union_ids[0]
    before = launcher.pids()
    os.kill(before["broker"], signal.SIGKILL)
    # Written while the broker is down or has just come back empty: it waits in the outbox.
    during = f"during-broker-loss-{uuid.uuid4().hex[:8]}@example.cn"
    assert admit(membership, union, email=during).status_code == 201
    restarted(launcher, "broker", before["broker"])
    after_restart = f"after-broker-restart-{uuid.uuid4().hex[:8]}@example.cn"
    admitted_with_welcome(membership, sink, union, after_restart)
    eventually_sync(lambda: messages_to(sink, during), "the welcome mail written while the broker was down",
                    timeout=120, interval=1)
    assert {k: v for k, v in launcher.pids().items() if k != "broker"} == \
        {k: v for k, v in before.items() if k != "broker"}


def test_postgres_killed_with_sigkill_is_restarted_and_admissions_work_again(launcher, membership, sink):
    before = launcher.pids()
    os.kill(before["postgres"], signal.SIGKILL)
    restarted(launcher, "postgres", before["postgres"], timeout=120)
    union = eventually_sync(lambda: _try(lambda: found_district(membership).union_ids[0]), "membership to write again",
                            timeout=90, interval=1)
    admitted_with_welcome(membership, sink, union, f"after-postgres-kill-{uuid.uuid4().hex[:8]}@example.cn")


def _try(fn):
    try:
        return fn()
    except (httpx.HTTPError, AssertionError, KeyError):
        return None


def test_a_launcher_killed_with_sigkill_leaves_nothing_behind_and_make_run_starts_again(launcher, tmp_path):
    cfg = launcher.cfg
    pids = launcher.pids()
    # supervisord, the programs and PostgreSQL's own backends
    children = [p.pid for p in psutil.Process(launcher.proc.pid).children(recursive=True)]
    os.kill(launcher.proc.pid, signal.SIGKILL)
    launcher.proc.wait()
    eventually_sync(lambda: not any(alive(p) for p in [*pids.values(), *children]),
                    "every process of the killed run to stop", timeout=30, interval=0.5)

    # What older runs left behind (a broker in its own session) is stopped by the next run;
    # another state folder's broker is not.
    broker.stage_schemas(cfg.state_dir)
    orphan = broker.start(cfg.state_dir, cfg.kafka_port)
    other_dir = tmp_path / "other-stack"
    stranger = broker.start(other_dir, StackConfig.ephemeral(other_dir).kafka_port)
    try:
        broker.wait_ready(cfg.kafka_port, proc=orphan)
        launcher.start()
        assert orphan.poll() is not None
        assert stranger.poll() is None
        assert "stopping a leftover broker" in launcher.output()

        # Ctrl-C stops everything cleanly and leaves nothing running.
        pids = launcher.pids()
        launcher.proc.send_signal(signal.SIGINT)
        assert launcher.proc.wait(90) == 0
        assert not any(alive(p) for p in pids.values())
        assert "stopped: postgres (exit status 0)" in launcher.output()
    finally:
        broker.stop(stranger)
        broker.stop(orphan)
