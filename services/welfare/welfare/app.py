"""Wiring of the welfare service: its routers, the events it publishes, its consumer and its
background jobs."""
from unionops.service import create_app
from welfare import background, consumers
from welfare.api import routers
from welfare.settings import Settings

settings = Settings()

app = create_app(
    name="welfare",
    description="帮扶：可帮扶会员、帮扶案件、劳动争议调解与法律援助。",
    settings=settings,
    routers=routers,
    consumers=consumers.consumers,
    background=[background.hardship_sweeps,  # re-verification overdue flags, files of members who left
                background.hotline_overdue_watch,  # 12351 tickets past their deadline, reported once
                background.dispute_arbitration_watch],  # disputes 15 days without agreement, reported once
)
