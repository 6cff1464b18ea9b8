"""`make run`'s process supervision: supervisord (the `supervisor` package) runs PostgreSQL, the
broker, the sinks and the four services, restarts whichever exits (at once after a crash, then
with a growing backoff while it keeps failing to stay up) and logs it; the others keep running.

Every program is started through devstack.pdeathsig, and supervisord itself with the same
signal armed, so nothing outlives the launcher: `kill -9` of `make run` makes supervisord stop
its programs in order; `kill -9` of supervisord makes each program get its signal directly.
Programs also die with their own process group on a forced stop (killasgroup)."""
from __future__ import annotations

import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path

from supervisor.xmlrpc import SupervisorTransport

from devstack import broker, postgres
from devstack.config import REPO, SERVICES, StackConfig

CONFIG_NAME = "supervisord.conf"
RUNNING = "RUNNING"


@dataclass
class Program:
    name: str
    command: list[str]
    cwd: Path = REPO
    env: dict[str, str] = field(default_factory=dict)  # what differs from the launcher's environment
    priority: int = 40  # lower starts first and stops last
    autostart: bool = False
    stop_signal: str = "TERM"
    death_signal: str = "TERM"
    user: str | None = None  # devstack.pdeathsig switches to it (a change of user clears the signal)
    stop_wait_seconds: int = 15


def _env_delta(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if os.environ.get(k) != v}


def programs(cfg: StackConfig) -> list[Program]:
    """What `make run` supervises: the same commands processes.py starts for the tests."""
    py = sys.executable
    helper_env = _env_delta({"PYTHONPATH": cfg.pythonpath(), "PYTHONUNBUFFERED": "1"})
    pg_dir = cfg.state_dir / "postgres"
    broker_argv, broker_cwd = broker.command(cfg.state_dir, cfg.kafka_port)
    pg_user = postgres.server_user()
    return [
        # Fast shutdown on stop and on the launcher's death: committed data is kept either way.
        Program("postgres", postgres.server_command(pg_dir, cfg.pg_port), pg_dir, priority=10, autostart=True,
                stop_signal="INT", death_signal="INT", user=pg_user,
                env={"HOME": str(pg_dir)} if pg_user else {}),
        Program("broker", broker_argv, broker_cwd, priority=20, autostart=True),
        Program("tracesink", [py, "-m", "devstack.tracesink", "--port", str(cfg.tracesink_port), "--dsn",
                              cfg.dsn("traces")], env=helper_env, priority=30),
        Program("smtpsink", [py, "-m", "devstack.smtpsink", "--smtp-port", str(cfg.smtp_port), "--http-port",
                             str(cfg.smtp_http_port), "--dir", str(cfg.state_dir / "mail")], env=helper_env,
                priority=30),
        Program("httpsink", [py, "-m", "devstack.httpsink", "--port", str(cfg.httpsink_port), "--dir",
                             str(cfg.state_dir / "httpsink")], env=helper_env, priority=30),
        *(Program(s, [py, "-m", s], env=_env_delta(cfg.service_env(s)), priority=40) for s in SERVICES),
    ]


def _quote(value: str) -> str:
    return value.replace("%", "%%")  # supervisord expands %(name)s in its values


def render(cfg: StackConfig, progs: list[Program], password: str) -> str:
    logs = cfg.state_dir / "logs"
    lines = [
        "; written by `make run` (devstack.supervise) at each start; edits are overwritten",
        "[unix_http_server]", f"file={_quote(str(socket_path(cfg)))}", "chmod=0700", "username=unionops",
        f"password={password}", "",
        "[supervisord]", "nodaemon=true", f"logfile={_quote(str(logs / 'supervisord.log'))}",
        "logfile_maxbytes=5MB", "logfile_backups=2", f"pidfile={_quote(str(cfg.state_dir / 'supervisord.pid'))}",
        f"childlogdir={_quote(str(logs))}", "loglevel=info",
        *(["user=root"] if os.geteuid() == 0 else []), "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
    ]
    for p in progs:
        argv = [sys.executable, "-m", "devstack.pdeathsig", *(["--user", p.user] if p.user else []),
                p.death_signal, "--", *p.command]
        env = {"PYTHONPATH": cfg.pythonpath(), **p.env} if "PYTHONPATH" not in p.env else p.env
        lines += [
            f"[program:{p.name}]", f"command={_quote(shlex.join(argv))}", f"directory={_quote(str(p.cwd))}",
            "environment=" + ",".join(f'{k}="{_quote(v)}"' for k, v in env.items()),
            f"autostart={str(p.autostart).lower()}", "autorestart=true",
            # Restarted at once after a crash; a program that cannot stay up 3 s is retried after
            # 1 s, 2 s, 3 s … (supervisord's backoff), so a broken one does not spin the CPU.
            "startsecs=3", "startretries=100",
            f"stopsignal={p.stop_signal}", f"stopwaitsecs={p.stop_wait_seconds}", "killasgroup=true",
            f"priority={p.priority}", "redirect_stderr=true",
            f"stdout_logfile={_quote(str(logs / (p.name + '.log')))}", "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=2", "",
        ]
    return "\n".join(lines)


def socket_path(cfg: StackConfig) -> Path:
    return cfg.state_dir / "supervisor.sock"


def config_path(cfg: StackConfig) -> Path:
    return cfg.state_dir / CONFIG_NAME


def _arm_death_signal() -> None:
    from devstack.pdeathsig import die_with_parent

    die_with_parent(signal.SIGTERM)


class Supervisor:
    """One supervisord for one state folder, driven over its XML-RPC socket."""

    def __init__(self, cfg: StackConfig, progs: list[Program] | None = None):
        self.cfg = cfg
        self.programs = progs if progs is not None else programs(cfg)
        self.password = secrets.token_hex(16)
        self.proc: subprocess.Popen | None = None

    @classmethod
    def attach(cls, cfg: StackConfig) -> "Supervisor":
        """The supervisord a running `make run` started for this state folder (to ask it, not to own it)."""
        sup = cls(cfg, [])
        for line in config_path(cfg).read_text(encoding="utf-8").splitlines():
            if line.startswith("password="):
                sup.password = line.removeprefix("password=")
        return sup

    def start(self, timeout: float = 30.0) -> "Supervisor":
        path = config_path(self.cfg)
        path.write_text(render(self.cfg, self.programs, self.password), encoding="utf-8")
        path.chmod(0o600)  # it holds the socket's password
        socket_path(self.cfg).unlink(missing_ok=True)
        # Its own session: Ctrl-C reaches only the launcher, which stops supervisord in order.
        self.proc = subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-c", str(path)],
                                     cwd=self.cfg.state_dir, preexec_fn=_arm_death_signal, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"supervisord exited with code {self.proc.returncode}")
            try:
                self.rpc().supervisor.getState()
                return self
            except (OSError, xmlrpc.client.Fault):
                if time.monotonic() > deadline:
                    raise TimeoutError("supervisord did not answer") from None
                time.sleep(0.1)

    def rpc(self) -> xmlrpc.client.ServerProxy:
        transport = SupervisorTransport("unionops", self.password, f"unix://{socket_path(self.cfg)}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def start_program(self, name: str) -> None:
        self.rpc().supervisor.startProcess(name, False)

    def info(self, name: str) -> dict:
        return self.rpc().supervisor.getProcessInfo(name)

    def pids(self) -> dict[str, int]:
        return {i["name"]: i["pid"] for i in self.rpc().supervisor.getAllProcessInfo() if i["pid"]}

    def stop(self, timeout: float = 90.0) -> int:
        """Stop every program (services first, PostgreSQL last) and supervisord."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()
