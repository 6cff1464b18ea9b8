"""`make year` — the year of the city (docs/benchmarks.md, "The year of the city").

    python -m devstack.year [--members 5000] [--seed 2027] [--chaos] [--only welfare,...] [--report FILE]

This launcher creates the simulated clock (devstack.year.clock), then runs the driver
(devstack.year.drive) with libfaketime preloaded, so that the driver and every process it starts
live on the simulated date. Exit status 0 only when every invariant holds."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from devstack.shifted_clock import sleep_patch
from devstack.year.clock import SimulatedClock
from unionops.clock import _zone, local_today


def main() -> int:
    if "-h" in sys.argv or "--help" in sys.argv:
        from devstack.year import drive
        drive.parser().print_help()
        return 0
    args = _peek(sys.argv[1:])
    state = Path(args.state) if args.state else Path(tempfile.mkdtemp(prefix="unionops-year-"))
    state.mkdir(parents=True, exist_ok=True)
    year = args.year or local_today().year + 1
    start = datetime(year, 1, 4, 8, 30, tzinfo=_zone("Asia/Shanghai"))
    clock = SimulatedClock.create(state / "clock", start)
    env = {k: v for k, v in os.environ.items() if k != "FAKETIME"} | clock.environment()
    env["UNIONOPS_STATE_DIR"] = str(state)
    with sleep_patch():
        return subprocess.call([sys.executable, "-m", "devstack.year.drive", *sys.argv[1:], "--state", str(state),
                                "--year", str(year)], env=env)


def _peek(argv: list[str]):
    from devstack.year import drive
    return drive.parser().parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
