"""The year's settler (devstack.year.settle) on the suite's broker: a subscriber that has not
committed anything yet has the whole partition still to read, and a broker whose relay markers
are gone (it restarted and forgot its log) is not settled until every relay has staged its
replay. The year once moved on with a subscriber that had not yet read anything after a broker
restart, and a hardship file was refused for a member welfare had not yet heard of."""
from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devstack.config import SERVICES
from devstack.year.settle import Settler
from unionops.kafka import relay_marker

pytestmark = pytest.mark.integration


@pytest.fixture()
async def topic(infra, stack_config):
    name = f"settle.test.{uuid.uuid4().hex[:8]}.v1"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack_config.bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        await admin.create_topics([NewTopic(t, 1, 1) for t in [name, *(relay_marker(s) for s in SERVICES)]
                                   if t not in existing])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=stack_config.bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(name, f"event {i}".encode())
    finally:
        await producer.stop()
    return name


@pytest.fixture()
async def settler(stack_config):
    s = Settler({}, stack_config.bootstrap, {})
    yield s
    await s._drop_kafka()


async def test_a_subscriber_that_committed_nothing_has_everything_still_to_read(topic, settler, stack_config):
    group = f"settle-test-{uuid.uuid4().hex[:6]}"
    settler.readers = {topic: {group}}
    assert await settler.lag() == 5
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=stack_config.bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        read = 0
        while read < 3:
            batch = await consumer.getmany(timeout_ms=2000, max_records=3 - read)
            read += sum(len(v) for v in batch.values())
        await consumer.commit({TopicPartition(topic, 0): 3})
    finally:
        await consumer.stop()
    assert await settler.lag() == 2


async def test_without_every_relays_marker_the_broker_is_not_settled(topic, settler, stack_config):
    settler.readers = {topic: set()}
    assert await settler.lag() == 0
    admin = AIOKafkaAdminClient(bootstrap_servers=stack_config.bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([relay_marker("welfare")])
        assert await settler.lag() == -1
        await admin.create_topics([NewTopic(relay_marker("welfare"), 1, 1)])
    finally:
        await admin.close()
    assert await settler.lag() == 0
