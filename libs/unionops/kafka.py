"""Kafka clients and topic administration."""
from __future__ import annotations

import asyncio
import logging
import random
import time
import zlib

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from unionops.settings import CommonSettings

log = logging.getLogger(__name__)

TOPIC_ALREADY_EXISTS = 36


def key_partitioner(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """Partition by CRC32 of the key (C-implemented; aiokafka's default murmur2 is pure Python and
    was a third of the relay's time). Deterministic across processes, so one aggregate's events
    always land in one partition, in order. Only our relays write our topics."""
    if key is None:
        return random.choice(available or all_partitions)
    return sorted(all_partitions)[zlib.crc32(key) % len(all_partitions)]


def new_producer(settings: CommonSettings, *, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        partitioner=key_partitioner,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=2,
        request_timeout_ms=15000,
    )


async def ensure_topics(settings: CommonSettings, topics: list[str], *, timeout: float = 60.0) -> list[str]:
    """Create the topics that do not exist yet; returns those created. Waits for the broker."""
    deadline = time.monotonic() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=10000)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            wanted = [t for t in dict.fromkeys(topics) if t not in existing]
            created = []
            if wanted:
                resp = await admin.create_topics(
                    [NewTopic(t, settings.kafka_topic_partitions, settings.kafka_replication_factor) for t in wanted]
                )
                for topic, code, *_ in resp.topic_errors:
                    if code == 0:
                        created.append(topic)
                    elif code != TOPIC_ALREADY_EXISTS:
                        raise KafkaError(f"creating topic {topic} failed with error code {code}")
            return created
        except (KafkaError, OSError) as exc:
            if time.monotonic() > deadline:
                raise
            log.info("broker not ready yet: %s", exc)
            await asyncio.sleep(0.5)
        finally:
            await admin.close()


def relay_marker(service: str) -> str:
    """The topic by which a service's relay knows the broker has seen it (devstack's settler too)."""
    return f"_unionops.relay.{service}"


async def broker_is_new(settings: CommonSettings, service: str) -> bool:
    """True when the broker lacks the relay's marker topic: it has not seen this service's relay
    before (first start, or a memory broker that restarted and forgot its log). The marker is
    made by `mark_broker_seen` once the relay has staged its replay, so whoever sees the marker
    also sees the replay in the outbox."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=10000)
    try:
        await admin.start()
        return relay_marker(service) not in set(await admin.list_topics())
    finally:
        await admin.close()


async def mark_broker_seen(settings: CommonSettings, service: str) -> None:
    marker = CommonSettings.model_validate(settings.model_dump(by_alias=True) | {"KAFKA_TOPIC_PARTITIONS": 1})
    await ensure_topics(marker, [relay_marker(service)], timeout=5)
