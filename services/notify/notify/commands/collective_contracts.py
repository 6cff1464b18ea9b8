"""Deliveries of collective bargaining's notices (issue 14; the rules are
domain.collective_contracts): each event tells the rights officers, once per event × officer × channel."""
from __future__ import annotations

from notify.commands import deliveries
from notify.domain import collective_contracts as domain
from notify.domain.templates import TemplateRegistry
from unionops.envelope import Envelope
from unionops.unit_of_work import UnitOfWork

RULES = {
    "CollectiveOfferSent": domain.offer_received,
    "CollectiveOfferAnswerDue": domain.answer_due,
    "CollectiveOfferOverdue": domain.offer_overdue,
    "CollectiveContractInForce": domain.contract_in_force,
    "CollectiveContractExpiring": domain.contract_expiring,
}


async def tell_rights_officers(uow: UnitOfWork, event, env: Envelope, templates: TemplateRegistry) -> None:
    notice = RULES[type(event).__name__](event)
    if notice is not None:
        await deliveries.tell_officers(uow, env, notice, templates)
