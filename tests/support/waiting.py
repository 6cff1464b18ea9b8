"""Waiting for what happens asynchronously (a projection, a delivery, a restart): one deadline
rule for coroutine tests (`eventually`) and plain ones (`eventually_sync`)."""
from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


class _Deadline:
    def __init__(self, timeout: float, what: str | None, probe: object) -> None:
        self.at, self.timeout = time.monotonic() + timeout, timeout
        self.what = what or getattr(probe, "__name__", probe)

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise AssertionError(f"timed out after {self.timeout}s waiting for {self.what}")


async def eventually(probe: Callable[[], Awaitable[T]], what: str | None = None, *, timeout: float = 30.0,
                     interval: float = 0.2) -> T:
    """Await `probe()` until it returns something truthy, and return that; fail after `timeout`
    seconds, naming `what` was awaited (the probe's name by default). The first consumer-group
    join on the local broker takes several seconds, so the default deadline is generous."""
    deadline = _Deadline(timeout, what, probe)
    while not (result := await probe()):
        deadline.check()
        await asyncio.sleep(interval)
    return result


def eventually_sync(probe: Callable[[], T], what: str | None = None, *, timeout: float = 60.0,
                    interval: float = 0.3) -> T:
    """`eventually` for a plain (blocking) probe, in tests that are not coroutines."""
    deadline = _Deadline(timeout, what, probe)
    while not (result := probe()):
        deadline.check()
        time.sleep(interval)
    return result
