"""The test stacks' ports: every port handed out in one process is distinct, so two processes of
one stack are never told to listen on the same port (CI once started competitions on the port
membership already held: 54 errors, and a 404 for /organisations from the wrong service)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from devstack.config import StackConfig, free_port


def test_no_port_is_handed_out_twice_in_one_process():
    ports = [free_port() for _ in range(3000)]
    assert len(set(ports)) == len(ports)


def test_a_stack_of_free_ports_has_a_port_of_its_own_for_every_process():
    with tempfile.TemporaryDirectory() as tmp:
        configs = [StackConfig.ephemeral(Path(tmp) / str(i)) for i in range(300)]
    ports = [p for c in configs for p in (c.pg_port, c.kafka_port, c.tracesink_port, c.smtp_port, c.smtp_http_port,
                                          c.httpsink_port, *c.service_ports.values())]
    assert len(set(ports)) == len(ports)
