"""Deliveries of collective bargaining's notices (issue 14; the rules are
domain.collective_contracts): each event tells the rights officers, once per event × officer ×
channel, and a union's offer and the renewal window the employer side, once per event × employer."""
from __future__ import annotations

from notify import queries
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


# What the employer side hears (its contact, by e-mail).
EMPLOYER_RULES = {
    "CollectiveOfferSent": domain.offer_to_employers,
    "CollectiveContractExpiring": domain.renewal_to_employers,
}


async def tell_both_sides(uow: UnitOfWork, event, env: Envelope, templates: TemplateRegistry) -> None:
    notice = RULES[type(event).__name__](event)
    if notice is not None:
        await deliveries.tell_officers(uow, env, notice, templates)
    to_employers = EMPLOYER_RULES.get(type(event).__name__)
    employer_notice = to_employers(event) if to_employers else None
    if employer_notice is not None:
        union_name = await queries.unit_name(uow.conn, employer_notice.union_id)
        await deliveries.tell_employers(uow, env, employer_notice, {"union_name": union_name or "工会"}, templates)
