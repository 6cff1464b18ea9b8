"""Wiring of the welfare service."""
from pathlib import Path

from contracts.events import CaseOpened, MemberJoined, MemberLeft, MemberStatusChanged, MemberTransferred, UnionMoved
from contracts.events import HardshipFileClosed, HardshipFileOpened, HardshipFileReviewed
from contracts.events import AidDisbursed, CampaignLaunched, FundAllocated, UnionEstablished
from contracts.events import CaseApproved, CaseAssessed, CaseClosed, CaseRejected, HotlineTicketOverdue
from unionops.consumer import IdempotentConsumer
from unionops.service import create_app
from welfare import api, handlers
from welfare import api_hardship, api_visits, hardship
from welfare import api_campaigns, api_funds, funds
from welfare import api_golden_autumn, api_hotline, hotline
from welfare.settings import Settings

settings = Settings()

# The members welfare may aid, kept from membership's events.
members = IdempotentConsumer("welfare.members")
members.on_batch(MemberJoined)(handlers.project_members_joined)
members.on(MemberTransferred)(handlers.project_member_transferred)
members.on(MemberStatusChanged)(handlers.project_member_status)
members.on(MemberLeft)(handlers.project_member_left)
members.on(UnionMoved)(handlers.project_union_moved)
# The organisation tree, for funds, campaigns and hotline tickets.
members.on(UnionEstablished)(funds.project_union_established)


app = create_app(
    name="welfare",
    title="UnionOps welfare",
    description="帮扶：可帮扶会员、帮扶案件。",
    settings=settings,
    database_url=settings.database_url,
    migrations=Path(__file__).parent / "migrations",
    routers=[api.router, api_hardship.router, api_visits.router, api_funds.router, api_campaigns.router,
             api_golden_autumn.router, api_hotline.router],
    publishes=[CaseOpened, HardshipFileOpened, HardshipFileReviewed, HardshipFileClosed,
                FundAllocated, CampaignLaunched, AidDisbursed,
                CaseAssessed, CaseApproved, CaseRejected, CaseClosed, HotlineTicketOverdue],
    consumers=[members],
    background=[hardship.run_sweeps,  # re-verification overdue flags, files of members who left
                hotline.watch_overdue],  # 12351 tickets past their deadline, reported once
)
