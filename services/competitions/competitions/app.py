"""Wiring of the competitions service: its routers, the events it publishes and its consumer."""
from pathlib import Path

from contracts.events import published_by
from competitions.api import routers
from competitions.consumers import consumers
from competitions.settings import Settings
from unionops.service import create_app

settings = Settings()

app = create_app(
    name="competitions",
    title="UnionOps competitions",
    description="劳动竞赛：竞赛、报名、评分。",
    settings=settings,
    database_url=settings.database_url,
    migrations=Path(__file__).parent / "migrations",
    routers=routers,
    publishes=published_by("competitions"),
    consumers=consumers,
)
