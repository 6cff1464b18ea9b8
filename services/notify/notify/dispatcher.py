"""The dispatcher: a background task that sends due deliveries.

Loop: give up on what can no longer go out (sweep), claim a batch of due deliveries that have
an address (`FOR UPDATE SKIP LOCKED`, marked `sending` under a lease and committed), render and
send each, then settle each as soon as its send is done — delivered + NotificationDelivered, or
back to pending with backoff, or failed + NotificationFailed. Settlements that are ready at the
same moment share one transaction (group commit: nothing waits for a group to fill); if that
transaction fails, each is tried again in a transaction of its own. Woken by NOTIFY on channel
'deliveries' (new delivery, new contact), with a short poll for retries and expired leases.
Several replicas may run it: claims skip each other's rows, and a settlement only applies while
the claim (row id + attempt number) is still the row's.

Each send runs in a span whose parent is the trace context stored with the delivery, and the
outcome is staged while that span is current: a member's admission, welcome mail included,
stays one trace."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from notify import deliveries, domain
from notify.channels import Channel, OutgoingMessage, SendFailure
from notify.settings import Settings
from notify.templates import TemplateError, TemplateRegistry
from unionops import db

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, settings: Settings, channels: dict[str, Channel], templates: TemplateRegistry) -> None:
        self.settings = settings
        self.channels = channels
        self.templates = templates
        self.sent_total = 0
        self.failed_total = 0
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(settings.send_concurrency)
        self._last_sweep = 0.0
        self._settling: list[tuple] = []  # (row, failure, span, future) ready to be settled
        self._settler: asyncio.Task | None = None

    async def run(self, runtime) -> None:
        """Background task (create_app(background=[...])): runs until cancelled, reconnecting
        after database failures. What is pending waits in the table meanwhile."""
        try:
            while True:
                listener = None
                try:
                    listener = await db.connect(runtime.database_url)
                    await listener.add_listener("deliveries", lambda *_: self._wake.set())
                    await self._loop(runtime.pool)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("dispatcher failed; restarting")
                    await asyncio.sleep(1.0)
                finally:
                    if listener is not None and not listener.is_closed():
                        await listener.close()
        finally:
            if self._settler is not None:
                self._settler.cancel()
            for channel in self.channels.values():  # e.g. QUIT the idle SMTP connections
                close = getattr(channel, "close", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(close(), 5.0)

    async def _loop(self, pool: asyncpg.Pool) -> None:
        s = self.settings
        while True:
            self._wake.clear()
            if time.monotonic() - self._last_sweep >= s.poll_interval_seconds:
                async with pool.acquire() as conn, conn.transaction():
                    await deliveries.sweep(conn, contact_wait_seconds=s.contact_wait_seconds,
                                           max_attempts=s.max_attempts)
                self._last_sweep = time.monotonic()
            handled = await self.dispatch_batch(pool)
            if handled < s.dispatch_batch_size:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=s.poll_interval_seconds)
                except asyncio.TimeoutError:
                    pass

    async def dispatch_batch(self, pool: asyncpg.Pool) -> int:
        """Claim one batch and send it; returns how many were claimed."""
        s = self.settings
        async with pool.acquire() as conn, conn.transaction():
            rows = await deliveries.claim(conn, batch_size=s.dispatch_batch_size, lease_seconds=s.send_lease_seconds,
                                          max_attempts=s.max_attempts)
        if not rows:
            return 0
        started: set = set()
        try:
            await asyncio.gather(*(self._deliver(pool, row, started) for row in rows))
        except asyncio.CancelledError:
            # Shutting down: hand back what never reached the server, so a restart need not wait
            # for the lease. Sends already under way keep theirs (their outcome is unknown).
            waiting = [r for r in rows if r["id"] not in started]
            if waiting:
                async with pool.acquire() as conn:
                    await deliveries.release(conn, waiting)
            raise
        return len(rows)

    async def _deliver(self, pool: asyncpg.Pool, row, started: set) -> None:
        async with self._slots:
            started.add(row["id"])
            try:
                with deliveries.delivery_span(row, f"send {row['template']}", SpanKind.CLIENT) as span:
                    failure = await self._send(row)
                    if failure is not None:
                        span.set_status(Status(StatusCode.ERROR, failure.reason))
                        span.set_attribute("notify.failure.permanent", failure.permanent)
                    # Settled while the send span is current: the event joins the same trace.
                    await self._settle_soon(pool, row, failure, span)
            except Exception:
                # The row stays `sending`; its lease runs out and it is sent again (same Message-ID).
                log.exception("settling a delivery failed", extra={"delivery_id": str(row["id"])})

    async def _settle_soon(self, pool: asyncpg.Pool, row, failure: SendFailure | None, span: Span) -> None:
        """Settle one delivery; returns once its transaction committed (raises if it did not).
        Settlements that are ready together are committed together."""
        done = asyncio.get_running_loop().create_future()
        self._settling.append((row, failure, span, done))
        if self._settler is None or self._settler.done():
            self._settler = asyncio.create_task(self._settle_ready(pool), name="notify-settler")
        await asyncio.shield(done)  # a cancelled waiter does not cancel the others' commit

    async def _settle_ready(self, pool: asyncpg.Pool) -> None:
        group: list[tuple] = []
        try:
            while self._settling:
                group, self._settling = self._settling, []
                try:
                    outcomes = await self._settle_group(pool, group)
                except Exception as exc:
                    if len(group) == 1:
                        group[0][3].set_exception(exc)
                        continue
                    # One bad settlement must not hold back the others: each on its own.
                    log.warning("settling %d deliveries together failed; settling each alone", len(group),
                                exc_info=True)
                    for item in group:
                        try:
                            self._count(await self._settle_group(pool, [item]))
                        except Exception as exc:
                            item[3].set_exception(exc)
                        else:
                            item[3].set_result(None)
                    continue
                self._count(outcomes)
                for *_, done in group:
                    done.set_result(None)
        except BaseException:  # cancelled (shutdown): nobody is left waiting forever
            for *_, done in (*group, *self._settling):
                if not done.done():
                    done.cancel()
            self._settling = []
            raise

    async def _settle_group(self, pool: asyncpg.Pool, group: list[tuple]) -> list[str | None]:
        """Settle the deliveries of `group` in one transaction; their outcomes once committed."""
        async with pool.acquire() as conn, conn.transaction():
            outcomes = []
            for row, failure, span, _ in group:
                # Staged while this delivery's send span is current: the event joins its trace.
                with trace.use_span(span, end_on_exit=False):
                    outcomes.append(await self._settle(conn, row, failure))
        return outcomes

    def _count(self, outcomes: list[str | None]) -> None:
        self.sent_total += outcomes.count("delivered")
        self.failed_total += outcomes.count("failed")

    async def _send(self, row) -> SendFailure | None:
        channel = self.channels.get(row["channel"])
        if channel is None:
            return SendFailure(permanent=False, reason="no_channel", detail=f"channel {row['channel']} not configured")
        try:
            rendered = self.templates.render(row["template"], row["template_version"],
                                             {**row["context"], "name": row["recipient_name"]})
        except TemplateError as exc:
            return SendFailure(permanent=True, reason=domain.TEMPLATE_ERROR, detail=str(exc))
        try:
            await channel.send(OutgoingMessage(delivery_id=row["id"], recipient_name=row["recipient_name"],
                                               address=row["address"], subject=rendered.subject, body=rendered.body))
        except SendFailure as failure:
            return failure
        except Exception as exc:  # a bug, not the server's answer: retried, then failed, never lost silently
            log.exception("unexpected send error", extra={"delivery_id": str(row["id"])})
            return SendFailure(permanent=False, reason="internal", detail=f"{type(exc).__name__}: {exc}")
        return None

    async def _settle(self, conn: asyncpg.Connection, row, failure: SendFailure | None) -> str | None:
        """Apply one outcome in the caller's transaction: "delivered", "failed", or None
        (rescheduled, or the claim was lost). Counted by the caller once committed."""
        s = self.settings
        if failure is None:
            return "delivered" if await deliveries.mark_delivered(conn, row) else None
        error = f"{failure.reason}: {failure.detail}"
        if failure.permanent:
            reason = failure.reason
        elif domain.after_temporary_failure(row["attempts"], s.max_attempts) == "retry":
            delay = domain.retry_delay(row["attempts"], base=s.retry_base_seconds, cap=s.retry_max_seconds)
            await deliveries.reschedule(conn, row, delay_seconds=delay, error=error)
            log.info("delivery will be retried", extra={"delivery_id": str(row["id"]), "attempt": row["attempts"],
                                                         "delay_s": round(delay, 2), "reason": failure.reason})
            return None
        else:
            reason = domain.RETRIES_EXHAUSTED
        if await deliveries.fail_claimed(conn, row, reason=reason, error=error):
            log.warning("delivery failed", extra={"delivery_id": str(row["id"]), "reason": reason,
                                                  "attempts": row["attempts"]})
            return "failed"
        return None
