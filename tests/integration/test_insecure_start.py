"""A service refuses to start outside development mode with the development secrets published in
this repository — a deployment that forgot to set JWT_SECRET must not accept tokens anyone can mint."""
from __future__ import annotations

import pytest

from devstack.processes import ServiceProcess
from tests.support.processes import NO_TRACES

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", ["membership", "welfare", "competitions", "notify"])
def test_a_service_refuses_to_start_with_published_secrets_outside_development_mode(infra, stack_config, service):
    process = ServiceProcess(stack_config, service, NO_TRACES | {"UNIONOPS_DEVELOPMENT_MODE": "false"})
    try:
        with pytest.raises(RuntimeError, match="exited"):
            process.start()
    finally:
        process.stop()
    log = (stack_config.state_dir / "logs" / f"{service}.log").read_text(errors="replace")
    assert "refusing to start" in log and "JWT_SECRET" in log
