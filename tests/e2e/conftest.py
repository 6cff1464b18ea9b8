"""The whole system as separate processes: PostgreSQL, the broker, the trace receiver, the SMTP
sink and the four services — exactly what `make run` starts, on free ports."""
from __future__ import annotations

import httpx
import pytest

from devstack.config import SERVICES
from devstack.processes import ServiceProcess, smtpsink, tracesink


@pytest.fixture(scope="package")
def system(infra, stack_config):
    helpers = [tracesink(stack_config).start(), smtpsink(stack_config).start()]
    services = {name: ServiceProcess(stack_config, name) for name in SERVICES}
    for proc in services.values():
        proc.start(wait=False)
    try:
        from devstack.processes import wait_http_ready

        for proc in services.values():
            wait_http_ready(proc.url + "/health/ready", proc=proc.proc)
        yield services
    finally:
        for proc in services.values():
            proc.stop()
        for h in helpers:
            h.stop()


@pytest.fixture()
def membership_client(system):
    with httpx.Client(base_url=system["membership"].url, timeout=30) as client:
        yield client


@pytest.fixture()
def sink(stack_config):
    with httpx.Client(base_url=stack_config.smtpsink_url, timeout=30) as client:
        yield client
