"""Waiting for a service: ready only when the service itself answers on its port; a process that
exits first says why from its log."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from devstack.config import free_port
from devstack.processes import wait_http_ready


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = json.dumps({"service": "welfare", "status": "ready"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def welfare_on_a_port():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/health/ready"
    server.shutdown()
    server.server_close()


def test_another_service_on_the_port_is_not_the_service_being_waited_for(welfare_on_a_port):
    wait_http_ready(welfare_on_a_port, timeout=5, service="welfare")
    with pytest.raises(TimeoutError, match="answered by 'welfare', not membership"):
        wait_http_ready(welfare_on_a_port, timeout=1, service="membership")


def test_a_process_that_exits_first_is_reported_with_the_end_of_its_log(tmp_path):
    log = tmp_path / "membership.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", "import sys; print('[Errno 98] address already in use'); sys.exit(3)"],
                                stdout=out, stderr=subprocess.STDOUT)
        proc.wait()
    with pytest.raises(RuntimeError, match=r"(?s)exited with code 3.*address already in use"):
        wait_http_ready(f"http://127.0.0.1:{free_port()}/health/ready", timeout=5, proc=proc, log=log)
