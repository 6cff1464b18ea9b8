"""Where the competitions service's event handlers are registered: one consumer (its group name
is the Kafka consumer group and the inbox key, so it never changes) for membership's events."""
from __future__ import annotations

from competitions import projections
from contracts.events import (
    MemberJoined, MemberLeft, MemberStatusChanged, MemberTransferred, UnionEstablished, UnionMoved,
)
from unionops.consumer import IdempotentConsumer

# The organisation tree and the members who may enter contests, kept from membership's events.
members = IdempotentConsumer("competitions.members")
members.on(UnionEstablished)(projections.union_established)
members.on_batch(MemberJoined)(projections.members_joined)
members.on(MemberTransferred)(projections.member_transferred)
members.on(MemberLeft)(projections.member_left)
members.on(MemberStatusChanged)(projections.member_status_changed)
members.on(UnionMoved)(projections.union_moved)

consumers = [members]
