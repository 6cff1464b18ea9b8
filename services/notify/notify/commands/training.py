"""What training events tell whom (the rules are domain.training): deliveries only, in the
consumer's transaction."""
from __future__ import annotations

from contracts.events import TrainingCompleted, TrainingEnrolled
from notify.commands import deliveries
from notify.domain import training as domain
from notify.domain.templates import TemplateRegistry
from unionops.envelope import Envelope
from unionops.unit_of_work import UnitOfWork


async def training_enrolled(uow: UnitOfWork, event: TrainingEnrolled, env: Envelope,
                            templates: TemplateRegistry) -> None:
    """Every member of the enrolment, in one set of statements (create_many)."""
    await deliveries.create_many(uow, env, domain.enrolled_notices(event), templates)


async def training_completed(uow: UnitOfWork, event: TrainingCompleted, env: Envelope,
                             templates: TemplateRegistry) -> None:
    await deliveries.create(uow, env, domain.completed_notice(event), templates)
