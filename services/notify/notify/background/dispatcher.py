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

Channels (issue 6): each loop claims up to a batch per channel (e-mail, SMS, webhook, in-app),
with what the channel needs — the sealed e-mail address or phone with the member's data key, the bot's encrypted URL
(it holds the token) and secret, all decrypted with the vault only for the call. In-app
deliveries send nothing: their inbox row is written in the transaction that marks them
delivered. Before a send, SMS in the member's quiet hours (theirs or NOTIFY_QUIET_HOURS,
Beijing time) and sends a provider's rate limit would refuse (token bucket per channel; per bot
for webhooks) are handed back unsent with a later next_attempt_at — postponed, their attempt not counted. Every failed delivery is also
dead-lettered to `notify.delivery.v1.dlq` from the `delivery_dlq` table (background.dead_letters).

Each send runs in a span whose parent is the trace context stored with the delivery, and the
outcome is staged while that span is current: a member's admission, welcome mail included,
stays one trace."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta, timezone

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from notify.adapters import Channel, OutgoingMessage, SendFailure
from notify.background import dead_letters
from notify.commands import settlement
from notify.domain import contacts, officers
from notify.domain import notices as domain
from notify.domain.preferences import QuietHours
from notify.domain.ratelimit import RateLimits
from notify.domain.templates import ChannelRenderer, Rendered, TemplateError, TemplateRegistry, mask_name
from notify.settings import Settings
from unionops import metrics
from unionops.listening import Listening
from unionops.telemetry import current_trace_headers
from unionops.unit_of_work import UnitOfWork

# A rate-limit wait up to this long is slept through; a longer one hands the delivery back.
MAX_INLINE_WAIT_SECONDS = 1.0

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, settings: Settings, channels: dict[str, Channel], templates: TemplateRegistry) -> None:
        self.settings = settings
        self.channels = channels
        self.templates = templates
        self.sent_total = 0
        self.failed_total = 0
        self.listening = Listening("deliveries", "dispatcher", poll_interval=settings.poll_interval_seconds)
        self._slots = asyncio.Semaphore(settings.send_concurrency)
        self._last_sweep = 0.0
        self._settling: list[tuple] = []  # (row, failure, span, future) ready to be settled
        self._settler: asyncio.Task | None = None
        self.renderer = ChannelRenderer(templates)
        self.quiet_hours = QuietHours.parse(settings.quiet_hours)
        self.rate_limits = RateLimits({
            "sms": (settings.sms_rate_per_second, settings.sms_burst),
            "webhook": (settings.webhook_rate_per_minute / 60.0, settings.webhook_burst),
            "email": (settings.email_rate_per_second, max(1, int(settings.email_rate_per_second) or 1)),
        }, per_key={"webhook"})
        self.vault = None  # set from the runtime in run(); decrypts phone numbers and bot secrets
        self.deferred_total = 0
        self._inbox: dict[tuple, Rendered] = {}  # (delivery id, attempt) -> rendered in-app message

    @property
    def claimed_channels(self) -> tuple[str, ...]:
        return (*self.channels, "inapp")

    def now(self) -> datetime:
        """The clock quiet hours are judged by (NOTIFY_CLOCK_OFFSET_SECONDS shifts it in tests)."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.settings.clock_offset_seconds)

    async def run(self, runtime) -> None:
        """Background task (create_app(background=[...])): runs until cancelled, reconnecting
        after database failures (unionops.listening). What is pending waits in the table meanwhile."""
        self.vault = runtime.vault
        if runtime.producer is not None:
            with contextlib.suppress(Exception):
                from unionops.kafka import ensure_topics
                await ensure_topics(self.settings, [settlement.DLQ_TOPIC])
        try:
            await self.listening.run(runtime.database_url, lambda _conn: self.round(runtime.pool, runtime.producer))
        finally:
            if self._settler is not None:
                self._settler.cancel()
            for channel in self.channels.values():  # e.g. QUIT the idle SMTP connections
                close = getattr(channel, "close", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(close(), 5.0)

    async def round(self, pool: asyncpg.Pool, producer=None) -> bool:
        """Sweep (at most once per poll interval), publish dead letters, send one batch; True when
        a full batch was claimed (more may be due at once)."""
        s = self.settings
        if time.monotonic() - self._last_sweep >= s.poll_interval_seconds:
            async with UnitOfWork.begin(pool) as uow:
                await settlement.sweep(uow, contact_wait_seconds=s.contact_wait_seconds, max_attempts=s.max_attempts)
            self._last_sweep = time.monotonic()
            if producer is not None:
                try:
                    await dead_letters.publish(pool, producer)
                except Exception:  # the broker is away: the rows wait in delivery_dlq
                    log.warning("publishing dead letters failed; will retry", exc_info=True)
        return await self.dispatch_batch(pool) >= s.dispatch_batch_size

    async def dispatch_batch(self, pool: asyncpg.Pool) -> int:
        """Claim one batch and send it; returns how many were claimed."""
        s = self.settings
        async with UnitOfWork.begin(pool) as uow:
            rows = await settlement.claim(uow, batch_size=s.dispatch_batch_size, lease_seconds=s.send_lease_seconds,
                                          max_attempts=s.max_attempts, channels=self.claimed_channels)
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
                async with UnitOfWork.begin(pool) as uow:
                    await settlement.release(uow, waiting)
            raise
        return len(rows)

    def _postponement(self, row) -> tuple[float, str] | None:
        """Seconds to wait and why, when this delivery may not go out now: quiet hours (SMS) or
        a provider rate limit longer than MAX_INLINE_WAIT_SECONDS. Takes a rate token otherwise."""
        if row["channel"] == "sms":
            quiet = (QuietHours(row["quiet_start"], row["quiet_end"]) if row["quiet_start"] is not None
                     else self.quiet_hours)
            now = self.now()
            if quiet.contains(now):
                return max(1.0, (quiet.ends_after(now) - now).total_seconds()), f"quiet hours {quiet}"
        return None

    async def _wait_for_rate(self, row) -> float:
        """0 once a token is taken (sleeping through short waits); else the longer wait."""
        while True:
            wait = self.rate_limits.try_take(row["channel"], row["member_id"])
            if wait <= 0:
                return 0.0
            if wait > MAX_INLINE_WAIT_SECONDS:
                metrics.notify_rate_limit_waits.add(1, {"channel": row["channel"], "handling": "postponed"})
                return wait
            metrics.notify_rate_limit_waits.add(1, {"channel": row["channel"], "handling": "slept"})
            await asyncio.sleep(wait)

    async def _defer(self, pool: asyncpg.Pool, row, seconds: float, why: str) -> None:
        async with UnitOfWork.begin(pool) as uow:
            if await settlement.defer(uow, row, until_seconds=seconds, why=why):
                self.deferred_total += 1
                metrics.notify_postponed.add(1, {"channel": row["channel"],
                                                 "why": "rate_limit" if why == "rate limit" else "quiet_hours"})
                log.info("delivery postponed", extra={"delivery_id": str(row["id"]), "channel": row["channel"],
                                                      "delay_s": round(seconds, 1), "why": why})

    async def _deliver(self, pool: asyncpg.Pool, row, started: set) -> None:
        postponed = self._postponement(row)
        if postponed is None:
            wait = await self._wait_for_rate(row)
            if wait > 0:
                postponed = (wait, "rate limit")
        if postponed is not None:
            started.add(row["id"])
            try:
                await self._defer(pool, row, *postponed)
            except Exception:  # the lease runs out and it is claimed again
                log.exception("postponing a delivery failed", extra={"delivery_id": str(row["id"])})
            return
        await self._slots.acquire()  # a send slot: bounds the conversations with providers
        holding = True
        try:
            started.add(row["id"])
            with settlement.delivery_span(row, f"send {row['template']}", SpanKind.CLIENT) as span:
                sending = time.perf_counter()
                try:
                    failure = await self._send(row)
                finally:
                    metrics.notify_send_duration.record(time.perf_counter() - sending, {"channel": row["channel"]})
                    # The slot is free before the settlement commits: the next send does not
                    # wait for this one's transaction (settlements are grouped; the claimed
                    # batch bounds how many wait).
                    self._slots.release()
                    holding = False
                if failure is not None:
                    span.set_status(Status(StatusCode.ERROR, failure.reason))
                    span.set_attribute("notify.failure.permanent", failure.permanent)
                # Settled while the send span is current: the event joins the same trace.
                try:
                    await self._settle_soon(pool, row, failure, span)
                finally:
                    self._inbox.pop((row["id"], row["attempts"]), None)
        except Exception:
            # The row stays `sending`; its lease runs out and it is sent again (same Message-ID).
            log.exception("settling a delivery failed", extra={"delivery_id": str(row["id"])})
        finally:
            if holding:
                self._slots.release()

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
                            self._count([item], await self._settle_group(pool, [item]))
                        except Exception as exc:
                            item[3].set_exception(exc)
                        else:
                            item[3].set_result(None)
                    continue
                self._count(group, outcomes)
                for *_, done in group:
                    done.set_result(None)
        except BaseException:  # cancelled (shutdown): nobody is left waiting forever
            for *_, done in (*group, *self._settling):
                if not done.done():
                    done.cancel()
            self._settling = []
            raise

    async def _settle_group(self, pool: asyncpg.Pool, group: list[tuple]) -> list[str | None]:
        """Settle the deliveries of `group` in one transaction — those sent with one UPDATE and
        one outbox INSERT, failures one by one; their outcomes once committed."""
        outcomes: list[str | None] = [None] * len(group)
        sent = []
        async with UnitOfWork.begin(pool) as uow:
            for i, (row, failure, span, _) in enumerate(group):
                # Staged while this delivery's send span is current: the event joins its trace.
                with trace.use_span(span, end_on_exit=False):
                    if failure is None:
                        sent.append((row, current_trace_headers(), self._inbox.get((row["id"], row["attempts"]))))
                    else:
                        outcomes[i] = await self._settle_failure(uow, row, failure)
            settled = await settlement.mark_delivered_many(uow, sent)
        for i, (row, failure, _, _) in enumerate(group):
            if failure is None and row["id"] in settled:
                outcomes[i] = "delivered"
        return outcomes

    def _count(self, group: list[tuple], outcomes: list[str | None]) -> None:
        """Once the group's transaction committed: "delivered", "retried", "failed:<reason>"."""
        for (row, *_), outcome in zip(group, outcomes):
            channel = row["channel"]
            if outcome == "delivered":
                self.sent_total += 1
                metrics.notify_deliveries.add(1, {"channel": channel, "outcome": "delivered", "reason": ""})
            elif outcome == "retried":
                metrics.notify_retries.add(1, {"channel": channel})
            elif outcome and outcome.startswith("failed:"):
                self.failed_total += 1
                metrics.notify_deliveries.add(1, {"channel": channel, "outcome": "failed",
                                                  "reason": outcome.removeprefix("failed:")})

    async def _send(self, row) -> SendFailure | None:
        kind = row["channel"]
        channel = self.channels.get(kind)
        if channel is None and kind != "inapp":
            return SendFailure(permanent=False, reason="no_channel", detail=f"channel {kind} not configured")
        # A group chat is not private: the member's name is masked there (and on a lock screen).
        name = row["recipient_name"]
        if kind == "webhook":
            name = mask_name(row["subject_name"]) if row["subject_name"] else ""
        try:
            rendered = self.renderer.render(row["template"], row["template_version"], kind,
                                            {**row["context"], "name": name or ""}, row["language"] or "zh-CN")
        except TemplateError as exc:
            return SendFailure(permanent=True, reason=domain.TEMPLATE_ERROR, detail=str(exc))
        if kind == "inapp":
            self._inbox[(row["id"], row["attempts"])] = rendered
            return None
        address, secret = None, None
        try:
            # Addresses are opened only now, and never logged: a member's under their data key, an
            # officer's and an employer side's under the vault.
            if kind == "email" and row["member_key"] is not None and row["email_sealed"] is not None:
                address = contacts.open_contact(self.vault.contact_keys, row["recipient_id"], row["member_key"],
                                                "email", row["email_sealed"])
            elif kind == "email" and row["employer_email_enc"] is not None:
                address = self.vault.decrypt(contacts.EMPLOYER_EMAIL_FIELD, bytes(row["employer_email_enc"]))
            elif kind == "email":
                address = self.vault.decrypt(officers.EMAIL_FIELD, bytes(row["officer_email_enc"]))
            elif kind == "sms" and row["member_key"] is not None and row["phone_sealed"] is not None:
                address = contacts.open_contact(self.vault.contact_keys, row["recipient_id"], row["member_key"],
                                                "phone", row["phone_sealed"])
            elif kind == "sms":
                address = self.vault.decrypt("phone", bytes(row["phone_enc"]))
            elif kind == "webhook":
                address = self.vault.decrypt("webhook_url", bytes(row["bot_url_enc"]))  # holds the bot's token
                if row["bot_secret_enc"] is not None:
                    secret = self.vault.decrypt("webhook_secret", bytes(row["bot_secret_enc"]))
        except Exception as exc:
            return SendFailure(permanent=True, reason=domain.INVALID_ADDRESS, detail=f"cannot decrypt: {type(exc).__name__}")
        try:
            await channel.send(OutgoingMessage(delivery_id=row["id"], recipient_name=name or "", address=address,
                                               subject=rendered.subject, body=rendered.body, secret=secret,
                                               flavour=row["bot_flavour"]))
        except SendFailure as failure:
            return failure
        except Exception as exc:  # a bug, not the server's answer: retried, then failed, never lost silently
            log.exception("unexpected send error", extra={"delivery_id": str(row["id"])})
            return SendFailure(permanent=False, reason="internal", detail=f"{type(exc).__name__}: {exc}")
        return None

    async def _settle_failure(self, uow: UnitOfWork, row, failure: SendFailure) -> str | None:
        """Apply a failed send in the caller's transaction: "failed:<reason>", "retried", or None
        (the claim was lost). Counted by the caller once committed."""
        s = self.settings
        error = f"{failure.reason}: {failure.detail}"
        if failure.permanent:
            reason = failure.reason
        elif domain.after_temporary_failure(row["attempts"], s.max_attempts) == "retry":
            delay = domain.retry_delay(row["attempts"], base=s.retry_base_seconds, cap=s.retry_max_seconds)
            await settlement.reschedule(uow, row, delay_seconds=delay, error=error)
            log.info("delivery will be retried", extra={"delivery_id": str(row["id"]), "attempt": row["attempts"],
                                                         "delay_s": round(delay, 2), "reason": failure.reason})
            return "retried"
        else:
            reason = domain.RETRIES_EXHAUSTED
        if await settlement.fail_claimed(uow, row, reason=reason, error=error):
            log.warning("delivery failed", extra={"delivery_id": str(row["id"]), "reason": reason,
                                                  "attempts": row["attempts"]})
            return f"failed:{reason}"
        return None
