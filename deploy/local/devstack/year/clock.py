"""The year's simulated clock: the city lives a year while the run takes minutes.

Every process of the year — the driver, the services, PostgreSQL, the sinks — runs with
libfaketime preloaded (the `.so` bundled in PyPI's `libfaketime` wheel, so nothing but Python is
needed; Debian's `faketime` is the fallback), reading its offset from one file
(FAKETIME_TIMESTAMP_FILE). Python's clock and PostgreSQL's now() therefore agree, deadlines
computed in SQL and in Python move together, and tokens are minted and checked on the same time.

The offset is relative ("+N" seconds), so clocks keep ticking within a simulated day; the driver
only ever moves it forward, and only when the system is settled (nothing in flight: a jump
forward expires leases, which is harmless when no one holds one). libfaketime re-reads the file
when the real second changes (FAKETIME_CACHE_DURATION=0), so a move is seen everywhere once the
next real second has begun: `move_to` waits for that.

The monotonic clock stays real (FAKETIME_DONT_FAKE_MONOTONIC), which also gives every process a
shared real time base: the real epoch of one monotonic instant travels in UNIONOPS_YEAR_REAL_ANCHOR."""
from __future__ import annotations

import asyncio
import importlib.util
import math
import os
import re
import time
from datetime import date, datetime, timezone
from pathlib import Path

from unionops.clock import local_time

ANCHOR_ENV = "UNIONOPS_YEAR_REAL_ANCHOR"
FILE_ENV = "FAKETIME_TIMESTAMP_FILE"
DEBIAN_LIBRARIES = ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1")


def faketime_library() -> str:
    """The libfaketime shared library: PyPI's wheel first (x86_64 Linux), then Debian's."""
    spec = importlib.util.find_spec("libfaketime")  # located, not imported (it needs pytz at import)
    candidates = []
    if spec and spec.submodule_search_locations:
        candidates.append(str(Path(spec.submodule_search_locations[0]) / "vendor" / "libfaketime" / "src"
                              / "libfaketime.so.1"))
    candidates += DEBIAN_LIBRARIES
    machine = os.uname().machine
    for path in candidates:
        if Path(path).exists() and (machine == "x86_64" or "/usr/lib" in path):
            return path
    raise RuntimeError("libfaketime not found: `pip install libfaketime` (x86_64) or `apt-get install faketime`")


def inherited_shift() -> float:
    """The shift of a clock this process already runs under (`make test-at`: FAKETIME="+Ns")."""
    spec = os.environ.get("FAKETIME", "")
    m = re.fullmatch(r"\+(\d+)s?", spec)
    return float(m.group(1)) if m and os.environ.get("LD_PRELOAD") else 0.0


class SimulatedClock:
    def __init__(self, path: Path, anchor: tuple[float, float]):
        self.path = path
        self.anchor_epoch, self.anchor_monotonic = anchor

    @classmethod
    def create(cls, path: Path, start: datetime) -> "SimulatedClock":
        """A new clock reading `start` now (the launcher, before any faked process starts)."""
        anchor = (time.time() - inherited_shift(), time.monotonic())
        clock = cls(path, anchor)
        clock._write(start)
        return clock

    @classmethod
    def from_env(cls) -> "SimulatedClock":
        epoch, mono = os.environ[ANCHOR_ENV].split(",")
        return cls(Path(os.environ[FILE_ENV]), (float(epoch), float(mono)))

    def real_epoch(self) -> float:
        return self.anchor_epoch + (time.monotonic() - self.anchor_monotonic)

    def offset(self) -> int:
        return int(self.path.read_text().strip().lstrip("+"))

    def now(self) -> datetime:
        """The simulated instant (UTC), whatever this process's own clock says."""
        return datetime.fromtimestamp(self.real_epoch() + self.offset(), timezone.utc)

    def today(self) -> date:
        """The simulated Beijing day."""
        return local_time(self.now()).date()

    def _write(self, instant: datetime) -> None:
        offset = math.ceil(instant.timestamp() - self.real_epoch())
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(f"+{offset}\n")
        tmp.replace(self.path)  # atomic: a reader sees the old offset or the new one

    async def move_to(self, instant: datetime) -> None:
        """Forward to `instant`, and wait until every process reads it; an instant already past
        (a second step of the same day) leaves the clock as it is: it never goes back."""
        if instant <= self.now():
            return
        self._write(instant)
        written = self.real_epoch()
        await asyncio.sleep(math.floor(written) + 1 - written + 0.05)

    def environment(self) -> dict[str, str]:
        """What every process of the year gets in its environment."""
        return {
            "LD_PRELOAD": faketime_library(),
            FILE_ENV: str(self.path),
            "FAKETIME_CACHE_DURATION": "0",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "FAKETIME_DONT_RESET": "1",
            "UNIONOPS_SHIFTED_CLOCK": "1",  # time.sleep through select() (devstack.shifted_clock)
            ANCHOR_ENV: f"{self.anchor_epoch!r},{self.anchor_monotonic!r}",
        }
