"""Deliveries of the workers' congresses' events (issue 14; rules in domain.congresses),
in the consumer's transaction."""
from __future__ import annotations

from contracts.events import CongressProposalAnswered, CongressProposalOverdue, DelegatesElected
from notify.commands import deliveries
from notify.domain import congresses as domain
from notify.domain.templates import TemplateRegistry
from unionops.envelope import Envelope
from unionops.unit_of_work import UnitOfWork


async def delegates_elected(uow: UnitOfWork, event: DelegatesElected, env: Envelope,
                            templates: TemplateRegistry) -> None:
    await deliveries.create_many(uow, env, domain.delegates_elected(event), templates)


async def proposal_answered(uow: UnitOfWork, event: CongressProposalAnswered, env: Envelope,
                            templates: TemplateRegistry) -> None:
    await deliveries.create(uow, env, domain.proposal_answered(event), templates)


async def proposal_overdue(uow: UnitOfWork, event: CongressProposalOverdue, env: Envelope,
                           templates: TemplateRegistry) -> None:
    await deliveries.tell_officers(uow, env, domain.proposal_overdue(event), templates)
