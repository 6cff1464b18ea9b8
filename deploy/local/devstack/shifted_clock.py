"""Run a command with every process's wall clock shifted to a chosen UTC time of day, to prove
that the business day is the Beijing day at every hour (the suite once failed every day from
16:00 to 24:00 UTC, 00:00–08:00 Beijing).

    python -m devstack.shifted_clock --at 16:30 -- make test
    make test-at TIME=23:50

How: libfaketime (the `.so` of PyPI's `libfaketime` wheel, or Debian's `faketime`) preloaded into every process the command starts —
the test run, the services, PostgreSQL (its now() moves too; the broker is a static binary and
keeps the real time, which nothing of ours reads) — with a relative offset, so all clocks agree
and keep ticking. The monotonic clock stays real: faking it makes threads' timed waits (the span
exporter's, any lock with a timeout) wait for the whole offset, since Python waits on an absolute
monotonic deadline the kernel compares with the real clock. Left real, libfaketime breaks
`time.sleep` (EINVAL from clock_nanosleep with an absolute deadline; libfaketime issue #426), so
while the shift is on a `.pth` file in this interpreter's site-packages replaces `time.sleep` by
a select() with a relative timeout in every Python process. It is removed afterwards."""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import sysconfig
from datetime import datetime, time, timedelta, timezone
from pathlib import Path


_PATCH = """# Written by devstack.shifted_clock for the length of one shifted-clock run.
import os

if os.environ.get("UNIONOPS_SHIFTED_CLOCK"):
    import select
    import time

    def _sleep(seconds):
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        select.select([], [], [], seconds)

    time.sleep = _sleep
"""


def offset_to(at: time, now: datetime | None = None) -> int:
    """Seconds from now to the next `at` (UTC): the shift that makes the clock read `at` now."""
    now = now or datetime.now(timezone.utc)
    target = datetime.combine(now.date(), at, tzinfo=timezone.utc)
    if target <= now:
        target += timedelta(days=1)
    return round((target - now).total_seconds())


def library() -> str:
    from devstack.year.clock import faketime_library
    try:
        return faketime_library()
    except RuntimeError as exc:
        sys.exit(str(exc))


@contextlib.contextmanager
def sleep_patch():
    """`time.sleep` through select() in every Python process of this interpreter that runs with
    UNIONOPS_SHIFTED_CLOCK set, for as long as the block lasts; left in place if an outer run (a
    year inside `make test-at`) put it there."""
    site = Path(sysconfig.get_paths()["purelib"])
    pth, patch = site / "unionops_shifted_clock.pth", site / "unionops_shifted_clock_patch.py"
    mine = not pth.exists()
    if mine:
        patch.write_text(_PATCH)
        pth.write_text("import unionops_shifted_clock_patch\n")
    try:
        yield
    finally:
        if mine:
            pth.unlink(missing_ok=True)
            patch.unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--at", required=True, help="UTC time of day the clocks read when the command starts, HH:MM")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    now = datetime.now(timezone.utc)
    shift = offset_to(time.fromisoformat(args.at), now)
    env = dict(os.environ, LD_PRELOAD=library(), FAKETIME=f"+{shift}s", FAKETIME_DONT_FAKE_MONOTONIC="1",
               FAKETIME_DONT_RESET="1", UNIONOPS_SHIFTED_CLOCK="1")
    print(f"clocks shifted by +{shift} s: it is {args.at} UTC now "
          f"({(now + timedelta(seconds=shift)).astimezone(timezone(timedelta(hours=8))):%Y-%m-%d %H:%M} Beijing)",
          flush=True)
    with sleep_patch():
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
