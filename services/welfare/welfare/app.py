"""Wiring of the welfare service."""
from pathlib import Path

from contracts.events import CaseOpened, MemberJoined, MemberLeft, MemberStatusChanged, MemberTransferred, UnionMoved
from unionops.consumer import IdempotentConsumer
from unionops.service import create_app
from welfare import api, handlers
from welfare.settings import Settings

settings = Settings()

# The members welfare may aid, kept from membership's events.
members = IdempotentConsumer("welfare.members")
members.on(MemberJoined)(handlers.project_member_joined)
members.on(MemberTransferred)(handlers.project_member_transferred)
members.on(MemberStatusChanged)(handlers.project_member_status)
members.on(MemberLeft)(handlers.project_member_left)
members.on(UnionMoved)(handlers.project_union_moved)

app = create_app(
    name="welfare",
    title="UnionOps welfare",
    description="帮扶：可帮扶会员、帮扶案件。",
    settings=settings,
    database_url=settings.database_url,
    migrations=Path(__file__).parent / "migrations",
    routers=[api.router],
    publishes=[CaseOpened],
    consumers=[members],
)
