"""Wiring of the competitions service: its routers, the events it publishes and its consumer."""
from competitions.api import routers
from competitions.consumers import consumers
from competitions.settings import Settings
from unionops.service import create_app

settings = Settings()

app = create_app(
    name="competitions",
    description="劳动竞赛：竞赛、报名、评分。",
    settings=settings,
    routers=routers,
    consumers=consumers,
)
