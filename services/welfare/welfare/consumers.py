"""Where welfare's handlers of other services' events are registered — the only place. The
projections need nothing but their connection, so no start-up object is involved."""
from __future__ import annotations

from contracts.events import MemberJoined, MemberLeft, MemberStatusChanged, MemberTransferred, UnionEstablished
from contracts.events import UnionMoved
from unionops.consumer import IdempotentConsumer
from welfare import projections

# The members welfare may aid, kept from membership's events, and the organisation tree, for
# funds, campaigns and hotline tickets. The name is the consumer group: it must not change.
members = IdempotentConsumer("welfare.members")
members.on_batch(MemberJoined)(projections.members_joined)
members.on(MemberTransferred)(projections.member_transferred)
members.on(MemberStatusChanged)(projections.member_status_changed)
members.on(MemberLeft)(projections.member_left)
members.on(UnionMoved)(projections.union_moved)
members.on(UnionEstablished)(projections.union_established)

consumers = [members]
