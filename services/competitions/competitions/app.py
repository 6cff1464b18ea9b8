"""Wiring of the competitions service."""
from pathlib import Path

from competitions import api, handlers
from competitions.settings import Settings
from contracts.events import (
    ContestantRegistered,
    ContestCreated,
    ContestScored,
    MemberJoined,
    MemberLeft,
    MemberTransferred,
    UnionEstablished,
    UnionMoved,
)
from unionops.consumer import IdempotentConsumer
from unionops.service import create_app

settings = Settings()

# The organisation tree and the members who may enter contests, kept from membership's events.
members = IdempotentConsumer("competitions.members")
members.on(UnionEstablished)(handlers.project_union_established)
members.on(MemberJoined)(handlers.project_member_joined)
members.on(MemberTransferred)(handlers.project_member_transferred)
members.on(MemberLeft)(handlers.project_member_left)
members.on(UnionMoved)(handlers.project_union_moved)

app = create_app(
    name="competitions",
    title="UnionOps competitions",
    description="劳动竞赛：竞赛、报名、评分。",
    settings=settings,
    database_url=settings.database_url,
    migrations=Path(__file__).parent / "migrations",
    routers=[api.router],
    publishes=[ContestCreated, ContestantRegistered, ContestScored],
    consumers=[members],
)
