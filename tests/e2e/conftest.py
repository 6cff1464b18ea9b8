"""The whole system as separate processes: PostgreSQL, the broker, the trace receiver, the SMTP
sink and the four services — exactly what `make run` starts, on free ports."""
from __future__ import annotations

import httpx
import pytest

from devstack.config import SERVICES
from devstack.processes import ServiceProcess, smtpsink, tracesink


@pytest.fixture(scope="package")
def system(infra, stack_config):
    started = []  # stopped in reverse whatever happens, a failed start included
    try:
        for helper in (tracesink(stack_config), smtpsink(stack_config)):
            started.append(helper)
            helper.start()
        services = {name: ServiceProcess(stack_config, name) for name in SERVICES}
        for proc in services.values():  # all four start at once; then each is waited for
            started.append(proc)
            proc.start(wait=False)
        for proc in services.values():
            proc.wait_ready()
        yield services
    finally:
        for proc in reversed(started):
            proc.stop()


@pytest.fixture()
def membership_client(system):
    with httpx.Client(base_url=system["membership"].url, timeout=30) as client:
        yield client


@pytest.fixture()
def sink(stack_config):
    with httpx.Client(base_url=stack_config.smtpsink_url, timeout=30) as client:
        yield client
