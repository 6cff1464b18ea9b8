"""The fan-out worker (commands.fanouts does the work): woken by NOTIFY fanouts, one chunk per
unit of work until no fan-out is running."""
from __future__ import annotations

import logging

from notify.commands import fanouts
from unionops import metrics
from unionops.listening import Listening
from unionops.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class FanoutWorker:
    def __init__(self, *, chunk_size: int = 2000, poll_interval: float = 1.0) -> None:
        self.chunk_size = chunk_size
        self.chunks_total = 0
        self.listening = Listening("fanouts", "fan-out worker", poll_interval=poll_interval)

    async def run(self, runtime) -> None:
        """Background task (create_app(background=[...])): until cancelled."""
        await self.listening.run(runtime.database_url, lambda _conn: self.step(runtime.pool))

    async def step(self, pool) -> bool:
        """Create one chunk of one running fan-out; False when none is running."""
        async with UnitOfWork.begin(pool) as uow:
            chunk = await fanouts.next_chunk(uow, self.chunk_size)
        if chunk is None:
            return False
        self.chunks_total += 1
        metrics.notify_fanout_members.add(chunk.members)
        if chunk.finished:
            log.info("fan-out finished", extra={"source_event_id": str(chunk.source_event_id)})
        return True
