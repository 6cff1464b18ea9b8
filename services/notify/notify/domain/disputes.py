"""Who hears what of a labour dispute (劳动争议调解), free of I/O: the worker (a member; a
non-member has no address here) is told it was registered, its agreement or failure, that they
may apply for arbitration (urgent) and the referral to legal aid; a collective dispute (ten or
more workers) is a work item for the rights officers of the district above the dispute's unit
(urgent, at once); the officer who registered the dispute is reminded when arbitration opens."""
from __future__ import annotations

import uuid

from contracts.events import DisputeArbitrationOpen, DisputeFailed, DisputeMediated, DisputeOpened, DisputeReferred
from notify.domain.notices import Notice, OfficerNotice, case_ref

RIGHTS_OFFICER = "rights_officer"  # 维权、法律工作：劳动争议调解与法律援助

DISPUTE_KIND_LABELS = {
    "pay": "劳动报酬", "contract": "劳动合同", "dismissal": "解除、终止劳动合同", "injury": "工伤",
    "social_insurance": "社会保险", "other": "劳动",
}
FAILURE_REASON_TEXTS = {
    "no_agreement": "双方经调解未能达成协议", "party_refused": "一方当事人拒绝调解",
    "party_absent": "一方当事人未到场参加调解", "other": "调解未能达成协议",
}


def _base(event) -> dict:
    return {"dispute_ref": case_ref(event.dispute_id), "kind_label": DISPUTE_KIND_LABELS.get(event.kind, "劳动")}


def district_search_path(org_path: list[uuid.UUID]) -> list[uuid.UUID]:
    """The district above the dispute's unit (the path is root first: city, district, …); the
    city's officers when the district has none."""
    return list(org_path[:2])


def dispute_registered(event: DisputeOpened) -> Notice | None:
    if event.member_id is None:
        return None
    return Notice(event.member_id, "dispute_registered",
                  _base(event) | {"applied_on": event.applied_on.isoformat(), "employer_name": event.employer_name},
                  list(event.org_path))


def collective_dispute_flagged(event: DisputeOpened, unit_name: str | None) -> OfficerNotice | None:
    """集体劳动争议: the district's rights officers are told at once (a work item)."""
    if not event.collective:
        return None
    return OfficerNotice(
        RIGHTS_OFFICER, district_search_path(event.org_path), "collective_dispute_flagged",
        _base(event) | {"workers_concerned": event.workers_concerned, "employer_name": event.employer_name,
                        "unit_name": unit_name, "applied_on": event.applied_on.isoformat()},
        list(event.org_path))


def dispute_mediated(event: DisputeMediated) -> Notice | None:
    if event.member_id is None:
        return None
    return Notice(event.member_id, "dispute_mediated",
                  _base(event) | {"agreed_on": event.agreed_on.isoformat(), "amount_fen": event.amount_fen},
                  list(event.org_path))


def dispute_failed(event: DisputeFailed) -> Notice | None:
    if event.member_id is None:
        return None
    return Notice(event.member_id, "dispute_failed",
                  _base(event) | {"failed_on": event.failed_on.isoformat(),
                                  "reason_text": FAILURE_REASON_TEXTS.get(event.reason, FAILURE_REASON_TEXTS["other"])},
                  list(event.org_path))


def arbitration_open(event: DisputeArbitrationOpen) -> Notice | None:
    """The worker may apply to the labour-dispute arbitration committee (劳动人事争议仲裁委员会)."""
    if event.member_id is None:
        return None
    return Notice(event.member_id, "dispute_arbitration_open",
                  _base(event) | {"open_from": event.open_from.isoformat(), "applied_on": event.applied_on.isoformat(),
                                  "mediation_failed": event.cause == "mediation_failed"},
                  list(event.org_path))


def arbitration_open_officer(event: DisputeArbitrationOpen) -> OfficerNotice:
    """The officer who registered the dispute when the directory knows that account; else the
    rights officers of the nearest unit upward from the dispute's unit."""
    return OfficerNotice(
        RIGHTS_OFFICER, list(event.org_path), "dispute_arbitration_open_officer",
        _base(event) | {"open_from": event.open_from.isoformat(), "applied_on": event.applied_on.isoformat(),
                        "mediation_failed": event.cause == "mediation_failed", "has_member": event.member_id is not None},
        list(event.org_path), subject_member_id=event.member_id, assignee=event.officer)


def dispute_referred(event: DisputeReferred) -> Notice:
    return Notice(event.member_id, "dispute_referred",
                  _base(event) | {"case_ref": case_ref(event.case_id), "referred_on": event.referred_on.isoformat()},
                  list(event.org_path))
