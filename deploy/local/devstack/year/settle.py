"""Settling: the system is settled when every service's outbox is relayed, every consumer group
has consumed every partition to its end, and notify has nothing due — no delivery pending whose
time has come, none being sent, no fan-out running. The driver settles after every step and
before it moves the clock (a jump forward with work in flight would expire leases under the
feet of whoever holds them)."""
from __future__ import annotations

import asyncio
import time

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

SERVICES = ("membership", "welfare", "competitions", "notify")
NOTIFY_DUE = ("SELECT (SELECT count(*) FROM deliveries WHERE status = 'sending' OR (status = 'pending'"
              " AND next_attempt_at <= now())) + (SELECT count(*) FROM fanouts WHERE status = 'running')")


class Settler:
    def __init__(self, dsns: dict[str, str], bootstrap: str):
        self.dsns = dsns
        self.bootstrap = bootstrap
        self.pools: dict[str, asyncpg.Pool] = {}
        self.waited = 0.0
        self._kafka: tuple[AIOKafkaAdminClient, AIOKafkaConsumer] | None = None

    async def start(self) -> None:
        for s in SERVICES:
            self.pools[s] = await asyncpg.create_pool(self.dsns[s], min_size=1, max_size=2)

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
        """Messages not yet consumed, summed over every consumer group and partition."""
        try:
            admin, consumer = await self._clients()
            await consumer._client.force_metadata_update()  # topics created since the last poll
            total = 0
            groups = [g[0] for g in await admin.list_consumer_groups()]
            partitions = [TopicPartition(t, p) for t in await consumer.topics()
                          for p in sorted(consumer.partitions_for_topic(t) or ())]
            if not partitions:
                return 0
            ends = await consumer.end_offsets(partitions)
            for group in groups:
                # The partitions named: the broker (Tansu) does not answer "all of the group's".
                committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
                total += sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items() if meta.offset >= 0)
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
