"""Readiness follows the database alone: a broker outage must not take the HTTP API out of the
load balancer (writes commit into the outbox and are published when the broker is back)."""
from __future__ import annotations

import httpx
import pytest

from tests.support.processes import running
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_service_stays_ready_while_only_the_broker_is_away(infra, stack_config):
    with running(stack_config, "competitions") as services:
        url = services["competitions"].url
        assert httpx.get(f"{url}/health/broker", timeout=10).status_code == 200
        infra.stop_broker()
        try:
            async def broker_reported_away():
                return httpx.get(f"{url}/health/broker", timeout=10).status_code == 503

            await eventually(broker_reported_away, timeout=30)
            ready = httpx.get(f"{url}/health/ready", timeout=10)
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"database": True, "broker": False}
            assert ready.json()["status"] == "ready"
            assert ready.json()["service"] == "competitions"  # whose port this is (devstack waits on it)
        finally:
            infra.start_broker()

        async def broker_back():
            return httpx.get(f"{url}/health/broker", timeout=10).status_code == 200

        await eventually(broker_back, timeout=60)
