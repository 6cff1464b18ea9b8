"""What collective bargaining (集体协商, issue 14) tells the union's rights officers
(role `rights_officer`, the nearest unit upward on the contract's path that has one), free of I/O:
an employer's written offer to answer within 20 days, the reminder before that day, an offer
unanswered past it (either side's), a contract in force (to be published to the workers), and
the six months before a contract ends (renewal). The employer side — its contact, when membership
has one (EmployerContactChanged) — hears of a union's offer (the 20 days are theirs to answer) and
of the renewal window, by e-mail. Publication and expiry tell nobody: workers learn of the contract where
they work (the negotiators publish it, 集体合同规定 Art. 48), and a notice to every covered member
of a regional contract would need an audience notify does not keep (employers to unions)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from contracts.events import (
    CollectiveContractExpiring, CollectiveContractInForce, CollectiveOfferAnswerDue, CollectiveOfferOverdue,
    CollectiveOfferSent,
)
from notify.domain.notices import OfficerNotice

RIGHTS_OFFICER = "rights_officer"

KIND_LABELS = {"comprehensive": "综合性集体合同", "wage": "工资专项集体合同",
               "women": "女职工特殊权益保护专项集体合同", "safety": "劳动安全卫生专项集体合同"}


def _to_rights_officers(event, template: str, context: dict) -> OfficerNotice:
    return OfficerNotice(RIGHTS_OFFICER, list(event.org_path), template, {"title": event.title, **context},
                         list(event.org_path))


def offer_received(event: CollectiveOfferSent) -> OfficerNotice | None:
    """The employer's offer is the union's to answer in writing within 20 days; the union's own
    offer tells nobody (its officers sent it)."""
    if event.offered_by != "employer":
        return None
    return _to_rights_officers(event, "collective_offer_received", {
        "employer_names": list(event.employer_names), "received_on": event.received_on.isoformat(),
        "answer_due_on": event.answer_due_on.isoformat()})


def answer_due(event: CollectiveOfferAnswerDue) -> OfficerNotice:
    return _to_rights_officers(event, "collective_offer_answer_due", {"answer_due_on": event.answer_due_on.isoformat()})


def offer_overdue(event: CollectiveOfferOverdue) -> OfficerNotice:
    """Whichever side is late: the union must answer at once, or may ask the labour administration
    to coordinate when the employer did not answer (集体合同规定 Art. 56)."""
    return _to_rights_officers(event, "collective_offer_overdue", {
        "offered_by_union": event.offered_by == "union", "received_on": event.received_on.isoformat(),
        "answer_due_on": event.answer_due_on.isoformat()})


def contract_in_force(event: CollectiveContractInForce) -> OfficerNotice:
    return _to_rights_officers(event, "collective_contract_in_force", {
        "kind_label": KIND_LABELS.get(event.kind, event.kind), "in_force_from": event.in_force_from.isoformat(),
        "ends_on": event.ends_on.isoformat()})


def contract_expiring(event: CollectiveContractExpiring) -> OfficerNotice:
    return _to_rights_officers(event, "collective_contract_expiring", {
        "kind_label": KIND_LABELS.get(event.kind, event.kind), "ends_on": event.ends_on.isoformat()})


# ---- the employer side ------------------------------------------------------------------------

@dataclass(frozen=True)
class EmployerNotice:
    """One e-mail to the employer side of each of `employer_ids` (its contact's address, added at
    send time; an employer without one is not deliverable). `union_id`: whose name it carries."""

    employer_ids: list[uuid.UUID]
    template: str
    context: dict
    org_path: list[uuid.UUID]
    union_id: uuid.UUID


def offer_to_employers(event: CollectiveOfferSent) -> EmployerNotice | None:
    """A union's written offer: the employer side must answer in writing within 20 days of receipt
    (集体合同规定 Art. 32). An employer's own offer tells the employers nothing."""
    if event.offered_by != "union" or not event.employer_ids:
        return None
    return EmployerNotice(list(event.employer_ids), "collective_offer_to_employer", {
        "title": event.title, "sent_on": event.sent_on.isoformat(), "received_on": event.received_on.isoformat(),
        "answer_due_on": event.answer_due_on.isoformat()}, list(event.org_path), event.org_id)


def renewal_to_employers(event: CollectiveContractExpiring) -> EmployerNotice | None:
    """Either side may ask to renew before the end: the employer side is reminded like the union's."""
    if not event.employer_ids:
        return None
    return EmployerNotice(list(event.employer_ids), "collective_renewal_to_employer", {
        "title": event.title, "ends_on": event.ends_on.isoformat()}, list(event.org_path), event.org_id)
