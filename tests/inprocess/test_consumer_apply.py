"""IdempotentConsumer.apply: the entry for events that come without a broker (a replay, the
loopback) runs the inbox dedupe and the handlers `process` runs, in the caller's transaction."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from tests.support.inprocess import CONSUMERS
from unionops.envelope import Envelope

pytestmark = pytest.mark.integration


def envelope(event_type: str, data: dict) -> Envelope:
    return Envelope(id=uuid.uuid4(), type=event_type, source="membership", time=datetime.now(timezone.utc), data=data,
                    topic="membership.member.v1")


async def test_an_event_the_consumer_has_no_handler_for_is_skipped_and_leaves_no_inbox_row(rolled_back):
    welfare = await rolled_back("welfare")
    assert await CONSUMERS["welfare"].apply(welfare, [envelope("NotificationDelivered", {})]) == 0
    assert await welfare.fetchval("SELECT count(*) FROM inbox") == 0


async def test_an_event_whose_data_breaks_its_contract_is_refused_and_nothing_is_written(rolled_back):
    welfare = await rolled_back("welfare")
    with pytest.raises(ValueError, match="invalid MemberJoined"):
        await CONSUMERS["welfare"].apply(welfare, [envelope("MemberJoined", {"member_id": "not-a-uuid"})])
    assert await welfare.fetchval("SELECT count(*) FROM inbox") == 0
