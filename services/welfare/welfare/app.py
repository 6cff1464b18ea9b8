"""Wiring of the welfare service: its routers, the events it publishes, its consumer and its
background jobs."""
from pathlib import Path

from contracts.events import published_by
from unionops.service import create_app
from welfare import background, consumers
from welfare.api import routers
from welfare.settings import Settings

settings = Settings()

app = create_app(
    name="welfare",
    title="UnionOps welfare",
    description="帮扶：可帮扶会员、帮扶案件。",
    settings=settings,
    database_url=settings.database_url,
    migrations=Path(__file__).parent / "migrations",
    routers=routers,
    publishes=published_by("welfare"),
    consumers=consumers.consumers,
    background=[background.hardship_sweeps,  # re-verification overdue flags, files of members who left
                background.hotline_overdue_watch],  # 12351 tickets past their deadline, reported once
)
