"""Gauges computed when Prometheus scrapes `/metrics`: what is true now, not what the last
successful batch saw — a relay or consumer that is stuck shows a growing backlog, age or lag.
Each probe is one cheap query (partial indexes) under a timeout; a probe that fails leaves its
gauges as they were and the scrape still answers."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from unionops import metrics

if TYPE_CHECKING:
    from unionops.service import Runtime

log = logging.getLogger(__name__)

ScrapeProbe = Callable[["Runtime"], Awaitable[None]]
PROBE_TIMEOUT_SECONDS = 2.0


async def run_probes(runtime: "Runtime", probes: list[ScrapeProbe]) -> None:
    async def one(probe: ScrapeProbe) -> None:
        try:
            await asyncio.wait_for(probe(runtime), PROBE_TIMEOUT_SECONDS)
        except Exception as exc:  # the scrape answers with what is known
            log.warning("metrics probe %s failed: %s", getattr(probe, "__name__", probe), exc)

    await asyncio.gather(*(one(p) for p in probes))


async def outbox(runtime: "Runtime") -> None:
    """Backlog and age of the oldest unpublished row (the `outbox_pending` partial index)."""
    row = await runtime.pool.fetchrow(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float8 AS age"
        " FROM outbox WHERE published_at IS NULL")
    metrics.outbox_backlog.set(row["n"], runtime.name)
    metrics.outbox_oldest_age.set(max(row["age"], 0.0), runtime.name)


async def dead_letters(runtime: "Runtime") -> None:
    """Dead-lettered events per consumer of this service (the `inbox_dead_lettered` index)."""
    if not runtime.consumers:
        return
    counts = {r["consumer"]: r["n"] for r in await runtime.pool.fetch(
        "SELECT consumer, count(*) AS n FROM inbox WHERE status = 'dead_lettered' GROUP BY consumer")}
    metrics.consumer_dead_letters.replace({(c.name,): counts.get(c.name, 0) for c in runtime.consumers})


class ConsumerLag:
    """Lag per consumer group and partition = end of the partition − the group's committed offset.

    The committed offsets come from the group coordinator (OffsetFetch), so a consumer that is
    stuck in a batch or gone keeps its old offset while the end moves on. With
    `KAFKA_LAG_FROM_END_OFFSETS` (Apache Kafka): every partition of the group's topics, committed
    offsets through the admin client, ends from the partitions' end offsets (ListOffsets, a client
    of its own). Without it (the local Tansu, whose ListOffsets answers are wrong and which closes
    the admin client's OffsetFetch): the partitions assigned to this process, the end the
    high-water mark its consumer last fetched — which stops moving while that consumer does not
    fetch, so there a stuck consumer's lag is what it had fetched but not committed, not the
    whole backlog."""

    def __init__(self) -> None:
        self._admin: AIOKafkaAdminClient | None = None
        self._ends: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()

    async def __call__(self, runtime: "Runtime") -> None:
        if not runtime.consumers:
            return
        settings = runtime.settings
        if not settings.kafka_lag_from_end_offsets:
            metrics.consumer_lag.replace(await self._from_high_water(runtime))
            return
        async with self._lock:
            if self._admin is None:
                admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers,
                                            client_id=f"{runtime.name}-lag", request_timeout_ms=2000)
                await admin.start()
                self._admin = admin
            if self._ends is None:
                ends = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                        client_id=f"{runtime.name}-lag", enable_auto_commit=False,
                                        request_timeout_ms=2000)
                await ends.start()
                self._ends = ends
        values: dict[tuple, float] = {}
        for consumer in runtime.consumers:  # Apache Kafka: every partition, whoever holds it
            committed = await self._admin.list_consumer_group_offsets(consumer.name)
            own = {tp: (meta.offset if meta is not None else -1) for tp, meta in committed.items()
                   if tp.topic in consumer.topics}
            tps = await self._partitions(consumer.topics)
            ends = await self._ends.end_offsets(tps)
            starts = await self._ends.beginning_offsets([tp for tp in tps if own.get(tp, -1) < 0])
            for tp, end in ends.items():
                position = own.get(tp, -1)
                if position < 0:  # nothing committed yet: the group starts from the earliest record
                    position = starts.get(tp, 0)
                values[(consumer.name, tp.topic, tp.partition)] = max(end - position, 0)
        metrics.consumer_lag.replace(values)

    @staticmethod
    async def _from_high_water(runtime: "Runtime") -> dict[tuple, float]:
        """Tansu: the partitions this process's consumers are assigned, their last fetched
        high-water mark, the committed offset asked through the group's own coordinator
        connection (Tansu closes the admin client's OffsetFetch)."""
        values: dict[tuple, float] = {}
        for consumer in runtime.consumers:
            live = getattr(getattr(consumer, "subscriber", None), "consumer", None)
            if live is None:
                continue
            for tp in live.assignment():
                high = live.highwater(tp)
                if high is None:
                    continue
                committed = await live.committed(tp)
                values[(consumer.name, tp.topic, tp.partition)] = max(high - (committed or 0), 0)
        return values

    async def _partitions(self, topics: list[str]) -> list[TopicPartition]:
        if any(not self._ends.partitions_for_topic(t) for t in topics):
            await self._ends.topics()  # a metadata request for every topic
        return [TopicPartition(t, p) for t in topics for p in sorted(self._ends.partitions_for_topic(t) or ())]

    async def close(self) -> None:
        for client in (self._ends, self._admin):
            if client is not None:
                try:
                    await (client.stop() if isinstance(client, AIOKafkaConsumer) else client.close())
                except Exception:
                    pass
        self._admin = self._ends = None
