"""Settling: the system is settled when the broker has seen every service's relay since it last
forgot its log (the relay's marker topic, made once its replay is staged), every service's
outbox is relayed, every subscriber has consumed every partition to its end, and notify has
nothing due — no delivery pending whose time has come, none being sent, no fan-out running. The driver settles after every step and
before it moves the clock (a jump forward with work in flight would expire leases under the
feet of whoever holds them)."""
from __future__ import annotations

import asyncio
import time

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from devstack.year.invariants import subscriptions
from unionops.kafka import relay_marker

SERVICES = ("membership", "welfare", "competitions", "notify")
NOTIFY_DUE = ("SELECT (SELECT count(*) FROM deliveries WHERE status = 'sending' OR (status = 'pending'"
              " AND next_attempt_at <= now())) + (SELECT count(*) FROM fanouts WHERE status = 'running')")


class Settler:
    """`urls` (service -> a base URL): where each service's AsyncAPI names its consumers and the
    topics they read — the subscribers whose lag counts, also before they committed anything."""

    def __init__(self, dsns: dict[str, str], bootstrap: str, urls: dict[str, str]):
        self.dsns = dsns
        self.bootstrap = bootstrap
        self.urls = urls
        self.pools: dict[str, asyncpg.Pool] = {}
        self.readers: dict[str, set[str]] = {}  # topic -> the consumer groups that read it
        self.waited = 0.0
        self._kafka: tuple[AIOKafkaAdminClient, AIOKafkaConsumer] | None = None

    async def start(self) -> None:
        for s in SERVICES:
            self.pools[s] = await asyncpg.create_pool(self.dsns[s], min_size=1, max_size=2)
        for sub in await subscriptions(self.urls):
            self.readers.setdefault(sub.topic, set()).add(sub.consumer)

    async def close(self) -> None:
        await self._drop_kafka()
        for p in self.pools.values():
            await p.close()

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        """One admin client and one offsets reader for every poll; made again after a failure."""
        if self._kafka is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10_000)
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, request_timeout_ms=10_000)
            await admin.start()
            await consumer.start()
            self._kafka = admin, consumer
        return self._kafka

    async def _drop_kafka(self) -> None:
        if self._kafka is not None:
            admin, consumer = self._kafka
            self._kafka = None
            await consumer.stop()
            await admin.close()

    async def backlog(self) -> dict[str, int]:
        out = {}
        for s, pool in self.pools.items():
            out[f"{s} outbox"] = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        out["notify due"] = await self.pools["notify"].fetchval(NOTIFY_DUE)
        out["consumer lag"] = await self.lag()
        return out

    async def lag(self) -> int:
        """Messages not yet consumed, summed over every topic's subscribers and its partitions. A
        subscriber that has committed nothing for a partition (it has not joined yet, or the broker
        restarted and forgot the group) has all of it still to read: from the partition's first
        offset to its end, never "no lag"."""
        try:
            admin, consumer = await self._clients()
            await consumer._client.force_metadata_update()  # topics created since the last poll
            topics = await consumer.topics()
            if any(relay_marker(s) not in topics for s in SERVICES):
                return -1  # a broker that forgot its log, the replay not yet staged in the outbox
            partitions = [TopicPartition(t, p) for t in topics if t in self.readers
                          for p in sorted(consumer.partitions_for_topic(t) or ())]
            if not partitions:
                return 0
            ends = await consumer.end_offsets(partitions)
            firsts = await consumer.beginning_offsets(partitions)
            groups: dict[str, list[TopicPartition]] = {}
            for tp in partitions:
                for group in self.readers[tp.topic]:
                    groups.setdefault(group, []).append(tp)
            total = 0
            for group, tps in groups.items():
                # The partitions named: the broker (Tansu) does not answer "all of the group's".
                committed = await admin.list_consumer_group_offsets(group, partitions=tps)
                for tp in tps:
                    meta = committed.get(tp)
                    done = meta.offset if meta is not None and meta.offset >= 0 else firsts[tp]
                    total += max(0, ends[tp] - done)
            return total
        except Exception:  # the broker restarting (chaos): not settled yet; connect again next poll
            await self._drop_kafka()
            return -1

    async def settle(self, timeout: float = 900) -> None:
        started = time.monotonic()
        quiet = 0
        while True:
            left = await self.backlog()
            busy = {k: v for k, v in left.items() if v}
            quiet = 0 if busy else quiet + 1
            if quiet >= 2:  # twice in a row: an event consumed in between may have staged another
                self.waited += time.monotonic() - started
                return
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the system did not settle in {timeout:.0f} s: {busy}")
            await asyncio.sleep(0.25)
