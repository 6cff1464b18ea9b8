"""What each labour-dispute event of welfare tells whom (the rules are domain.disputes): one
command per event, run in the consumer's transaction; each only creates deliveries."""
from __future__ import annotations

from contracts.events import DisputeArbitrationOpen, DisputeFailed, DisputeMediated, DisputeOpened, DisputeReferred
from notify import queries
from notify.commands import deliveries
from notify.domain import disputes as domain
from notify.domain.notices import Notice
from notify.domain.templates import TemplateRegistry
from unionops.envelope import Envelope
from unionops.unit_of_work import UnitOfWork


async def _tell_worker(uow: UnitOfWork, env: Envelope, notice: Notice | None, templates: TemplateRegistry) -> None:
    if notice is not None:  # a non-member worker has no address in notify
        await deliveries.create(uow, env, notice, templates)


async def dispute_opened(uow: UnitOfWork, event: DisputeOpened, env: Envelope, templates: TemplateRegistry) -> None:
    await _tell_worker(uow, env, domain.dispute_registered(event), templates)
    flagged = domain.collective_dispute_flagged(event, await queries.unit_name(uow.conn, event.unit_id))
    if flagged is not None:
        await deliveries.tell_officers(uow, env, flagged, templates)


async def dispute_mediated(uow: UnitOfWork, event: DisputeMediated, env: Envelope,
                           templates: TemplateRegistry) -> None:
    await _tell_worker(uow, env, domain.dispute_mediated(event), templates)


async def dispute_failed(uow: UnitOfWork, event: DisputeFailed, env: Envelope, templates: TemplateRegistry) -> None:
    await _tell_worker(uow, env, domain.dispute_failed(event), templates)


async def arbitration_open(uow: UnitOfWork, event: DisputeArbitrationOpen, env: Envelope,
                           templates: TemplateRegistry) -> None:
    await _tell_worker(uow, env, domain.arbitration_open(event), templates)
    await deliveries.tell_officers(uow, env, domain.arbitration_open_officer(event), templates)


async def dispute_referred(uow: UnitOfWork, event: DisputeReferred, env: Envelope,
                           templates: TemplateRegistry) -> None:
    await _tell_worker(uow, env, domain.dispute_referred(event), templates)
