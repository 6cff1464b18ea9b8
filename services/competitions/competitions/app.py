"""Wiring of the competitions service."""
from pathlib import Path

from competitions import api, api_contests, handlers
from competitions import api_awards, api_proposals
from competitions import api_judging
from contracts.events import ContestResultsPublished
from competitions.settings import Settings
from contracts.events import AwardGranted, ProposalAdopted, ProposalAnswered, ProposalSubmitted
from contracts.events import (
    ContestantRegistered,
    ContestCreated,
    ContestScored,
    MemberJoined,
    MemberLeft,
    MemberStatusChanged,
    MemberTransferred,
    RegistrationOpened,
    TeamRegistered,
    TeamWaitlisted,
    TeamWithdrawn,
    UnionEstablished,
    UnionMoved,
)
from unionops.consumer import IdempotentConsumer
from unionops.service import create_app

settings = Settings()

# The organisation tree and the members who may enter contests, kept from membership's events.
members = IdempotentConsumer("competitions.members")
members.on(UnionEstablished)(handlers.project_union_established)
members.on_batch(MemberJoined)(handlers.project_members_joined)
members.on(MemberTransferred)(handlers.project_member_transferred)
members.on(MemberLeft)(handlers.project_member_left)
members.on(MemberStatusChanged)(handlers.project_member_status_changed)
members.on(UnionMoved)(handlers.project_union_moved)

app = create_app(
    name="competitions",
    title="UnionOps competitions",
    description="劳动竞赛：竞赛、报名、评分。",
    settings=settings,
    database_url=settings.database_url,
    migrations=Path(__file__).parent / "migrations",
    routers=[api_contests.router, api.router, api_judging.router, api_awards.router, api_proposals.router],
    publishes=[ContestCreated, RegistrationOpened, TeamRegistered, TeamWaitlisted, TeamWithdrawn, ContestantRegistered,
               ContestScored, ContestResultsPublished,
               AwardGranted, ProposalSubmitted, ProposalAnswered, ProposalAdopted],
    consumers=[members],
)
