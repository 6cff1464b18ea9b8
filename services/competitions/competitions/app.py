"""Wiring of the competitions service: its routers, the events it publishes and its consumer."""
from pathlib import Path

from competitions.api import routers
from competitions.consumers import consumers
from competitions.settings import Settings
from contracts.events import (
    AwardGranted,
    ContestantRegistered,
    ContestCreated,
    ContestResultsPublished,
    ContestScored,
    ProposalAdopted,
    ProposalAnswered,
    ProposalSubmitted,
    RegistrationOpened,
    TeamRegistered,
    TeamWaitlisted,
    TeamWithdrawn,
)
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
    publishes=[ContestCreated, RegistrationOpened, TeamRegistered, TeamWaitlisted, TeamWithdrawn, ContestantRegistered,
               ContestScored, ContestResultsPublished,
               AwardGranted, ProposalSubmitted, ProposalAnswered, ProposalAdopted],
    consumers=consumers,
)
