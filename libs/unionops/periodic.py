"""Background housekeeping that runs every so often for the life of a service (sweeps, summaries,
schedules): one loop for all of them."""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(interval_seconds: float, work: Callable[[], Awaitable[object]], what: str, *,
                wait_first: bool = False) -> None:
    """Run `work` every `interval_seconds` until cancelled (a `create_app(background=…)` task).
    A failing round is logged and the next one tries again: an outage must not end the task.
    `wait_first`: the first round comes after one interval rather than at start."""
    if wait_first:
        await asyncio.sleep(interval_seconds)
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; trying again next round", what)
        await asyncio.sleep(interval_seconds)
