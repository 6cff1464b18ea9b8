"""The broker as a test sees it: what is really on a topic, and publishing as another system would."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts.events import DomainEvent
from unionops.envelope import Envelope


async def read_topic(bootstrap: str, topic: str) -> list:
    """Every record currently in `topic`, read without a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        records = []
        while True:
            positions = [await consumer.position(tp) for tp in tps]
            if all(pos >= end[tp] for pos, tp in zip(positions, tps)):
                break
            batch = await consumer.getmany(timeout_ms=1000)
            for msgs in batch.values():
                records.extend(msgs)
        return records
    finally:
        await consumer.stop()


def header(record, name: str) -> str | None:
    for k, v in record.headers or ():
        if k == name:
            return v.decode()
    return None


async def publish_as_hr_system(bootstrap: str, event: DomainEvent, *, event_id: uuid.UUID | None = None) -> uuid.UUID:
    """Publish an event the way another system would: aiokafka, CloudEvents binary-mode headers,
    JSON value, keyed by the event's key. Returns the CloudEvents id."""
    env = Envelope(id=event_id or uuid.uuid4(), type=event.event_type(), source="hr/test-payroll",
                   time=datetime.now(timezone.utc), data=event.model_dump(mode="json"), subject=event.key())
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(event.topic, env.value(), key=event.key().encode(), headers=env.kafka_headers())
    finally:
        await producer.stop()
    return env.id
