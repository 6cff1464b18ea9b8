"""The year's stack until devstack.year.stack (replicas, chaos) lands: one process per service."""
from __future__ import annotations

from devstack.config import SERVICES, StackConfig
from devstack.processes import Infrastructure, ServiceProcess, httpsink, smtpsink, tracesink


class BasicStack:
    def __init__(self, cfg: StackConfig, *, replicas: dict[str, int] | None = None, env: dict[str, str] | None = None,
                 log=print):
        self.cfg = cfg
        self.log = log
        self.infra = Infrastructure(cfg, fsync=False)
        self.helpers = [tracesink(cfg), smtpsink(cfg), httpsink(cfg)]
        self.services = {s: ServiceProcess(cfg, s, {"LOG_LEVEL": "WARNING"}) for s in SERVICES}

    def start(self) -> None:
        self.infra.start()
        for h in self.helpers:
            h.start()
        for s in self.services.values():
            s.start(wait=False)
        for s in self.services.values():
            from devstack.processes import wait_http_ready
            wait_http_ready(s.url + "/health/ready", timeout=120, proc=s.proc)

    def urls(self, service: str) -> list[str]:
        proc = self.services[service]
        return [proc.url] if proc.proc and proc.proc.poll() is None else []

    def stop(self) -> None:
        for s in self.services.values():
            s.stop()
        for h in self.helpers:
            h.stop()
        self.infra.stop()
