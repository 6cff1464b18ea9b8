"""The one loop of the background workers that wait for PostgreSQL NOTIFY (the outbox relay,
notify's dispatcher and fan-out worker): connect, LISTEN, work in rounds — at once after a
notification, otherwise every poll interval — and reconnect after any failure, for the life of
the service. What is pending meanwhile waits in its table."""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

import asyncpg

from unionops import db

log = logging.getLogger(__name__)

Work = Callable[[asyncpg.Connection], Awaitable[bool]]


class Listening:
    """`run(dsn, work)` until `stop()` or cancellation. `work(conn)` does one round on the
    listening connection (or on a pool of its own) and returns True when more is waiting,
    so the next round starts at once; otherwise the worker sleeps until a NOTIFY on `channel`
    or `poll_interval` seconds. A notification that arrives during a round is not lost."""

    def __init__(self, channel: str, what: str, *, poll_interval: float = 1.0, restart_delay: float = 1.0) -> None:
        self.channel = channel
        self.what = what
        self.poll_interval = poll_interval
        self.restart_delay = restart_delay
        self.wake = asyncio.Event()
        self.stopping = False

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()

    async def run(self, dsn: str, work: Work, *, setup: Callable[[asyncpg.Connection], Awaitable[bool]] | None = None,
                  on_disconnect: Callable[[], None] | None = None) -> None:
        """`setup(conn)` runs after each (re)connection, before LISTEN (the relay takes its
        leader lock there); returning False ends the run. `on_disconnect` runs whenever the
        connection is given up."""
        while not self.stopping:
            conn = None
            try:
                conn = await db.connect(dsn)
                if setup is not None and not await setup(conn):
                    return
                await conn.add_listener(self.channel, self._notified)
                while not self.stopping:
                    self.wake.clear()
                    if not await work(conn):
                        await self.nap()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep working whatever broke; what is pending waits in its table
                log.exception("%s failed; restarting", self.what)
                await asyncio.sleep(self.restart_delay)
            finally:
                if on_disconnect is not None:
                    on_disconnect()
                if conn is not None and not conn.is_closed():
                    await conn.close()

    async def nap(self, timeout: float | None = None) -> None:
        """Until a notification (or `stop()`), at most `timeout` (default: the poll interval)."""
        try:
            await asyncio.wait_for(self.wake.wait(), timeout=self.poll_interval if timeout is None else timeout)
        except asyncio.TimeoutError:
            pass

    def _notified(self, *_: object) -> None:
        self.wake.set()
