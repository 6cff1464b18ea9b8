"""What to tell whom, and when to try again: rules of the notify service, free of I/O."""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Literal

from contracts.events import (
    CASE_KIND_LABELS, AidDisbursed, AidReversed, CampaignLaunched, CaseApproved, CaseAssessed, CaseOpened, CaseRejected,
    ContestResultsPublished, ContestScored, HotlineTicketOverdue, MemberJoined, MemberTransferred, ProposalAnswered,
    TeamRegistered, TeamWaitlisted, TransferRequestClosed, TransferRequested,
)

Status = Literal["pending", "sending", "delivered", "failed", "undeliverable"]

# Why a delivery failed: the `reason` of NotificationFailed. Codes only: the SMTP server's
# text can carry the recipient's address, so it stays in the delivery's `last_error`.
NO_ADDRESS = "no_address"
REJECTED = "rejected"
RETRIES_EXHAUSTED = "retries_exhausted"
TEMPLATE_ERROR = "template_error"
INVALID_ADDRESS = "invalid_address"
LEASE_EXPIRED = "lease_expired"

CASE_SOURCE_LABELS = {"application": "本人申请", "visit": "走访", "hotline": "12351职工服务热线"}


ROLES = (
    "organisation_officer", "approver", "hotline_officer", "chair", "culture_sports_officer",
    "women_workers_officer", "audit_officer",
    "rights_officer",  # 维权（集体协商、职代会、劳动争议调解、法律援助）
)
ORGANISATION_OFFICER, APPROVER, HOTLINE_OFFICER = "organisation_officer", "approver", "hotline_officer"

TRANSFER_REASON_LABELS = {
    "employment_change": "劳动关系变动", "union_merged": "工会合并", "union_dissolved": "工会撤销",
    "correction": "信息更正",
}
CAMPAIGN_KIND_LABELS = {
    "spring_festival": "春节送温暖", "golden_autumn": "金秋助学", "mid_autumn": "中秋国庆帮扶",
    "summer_cooling": "夏季送清凉", "other": "帮扶活动",
}
PRIZE_LABELS = {"first": "一等奖", "second": "二等奖", "third": "三等奖", "excellence": "优秀奖"}
PROPOSAL_OUTCOME_LABELS = {"adopted": "已采纳", "not_adopted": "暂不采纳", "under_study": "研究办理中"}
BULK_TRANSFER_REASONS = frozenset({"union_merged", "union_dissolved"})
HOTLINE_CATEGORY_LABELS = {"general": "一般", "difficult": "难点", "complex": "特别复杂"}


@dataclass(frozen=True)
class Notice:
    """One notification to one member, decided from one event. `context` holds what the
    template needs from the event (never an ID or phone number); the recipient's name and
    address come from the contacts when it is sent. `channels` None: the member's preferences
    decide (`preferences.channels_for`). `campaign_id`: the campaign's name is added to the
    context from notify's campaigns projection in the same statement."""

    member_id: uuid.UUID
    template: str
    context: dict[str, Any]
    org_path: list[uuid.UUID] | None = None
    channels: tuple[str, ...] | None = None
    campaign_id: uuid.UUID | None = None


@dataclass(frozen=True)
class OfficerNotice:
    """A notification (or work item) to the officers holding `role` at the nearest unit of
    `search_path` (root first, searched from its end upward) that has one; `assignee`, when it
    names an officer's in-app account, addresses that officer instead. `org_path` scopes the
    delivery for staff; `subject_member_id` is the member it is about (their name is added)."""

    role: str
    search_path: list[uuid.UUID]
    template: str
    context: dict[str, Any]
    org_path: list[uuid.UUID]
    subject_member_id: uuid.UUID | None = None
    assignee: str | None = None


@dataclass(frozen=True)
class Officer:
    id: uuid.UUID
    org_id: uuid.UUID
    has_email: bool  # the address itself stays encrypted until the dispatcher sends
    inapp_user_id: str | None


def nearest_holders(search_path: list[uuid.UUID], candidates: list[Officer]) -> list[Officer]:
    """The officers of the nearest unit upward: of the units on `search_path` (root first), the
    last one that has any candidate. All of that unit's holders are chosen (two approvers of a
    street union both see the work item); units further up are not bothered."""
    depth = {unit: i for i, unit in enumerate(search_path)}
    on_path = [o for o in candidates if o.org_id in depth]
    if not on_path:
        return []
    nearest = max(depth[o.org_id] for o in on_path)
    return sorted((o for o in on_path if depth[o.org_id] == nearest), key=lambda o: str(o.id))


def officer_channels(officer: Officer) -> list[str]:
    """Officers get e-mail and in-app messages: each where their directory entry has an address."""
    out = []
    if officer.has_email:
        out.append("email")
    if officer.inapp_user_id:
        out.append("inapp")
    return out


def approver_search_path(case_org_path: list[uuid.UUID]) -> list[uuid.UUID]:
    """Approval is by a person above the case's union (four-eyes): its street union or above."""
    return list(case_org_path[:-1])


def case_ref(case_id: uuid.UUID) -> str:
    return str(case_id)[:8].upper()


def welcome(event: MemberJoined) -> Notice | None:
    """A new join is welcomed. A member brought in with the existing register (存量会员) joined
    long ago: no welcome; one notice that their membership is now online only when the importing
    office chose it (`online_notice`)."""
    if event.origin == "register" and not event.online_notice:
        return None
    return Notice(
        member_id=event.member_id,
        template="member_joined" if event.origin != "register" else "member_registered",
        context={"union_name": event.union_name, "joined_on": event.joined_on.isoformat()},
        org_path=list(event.org_path),
    )


def case_opened(event: CaseOpened, union_name: str | None) -> Notice:
    return Notice(
        member_id=event.member_id,
        template="case_opened",
        context={
            "case_ref": case_ref(event.case_id),
            "case_kind_label": CASE_KIND_LABELS.get(event.kind, event.kind),
            "source_label": CASE_SOURCE_LABELS.get(event.source, event.source),
            "opened_on": event.opened_on.isoformat(),
            "union_name": union_name,
        },
        org_path=list(event.org_path),
    )


# Every score of one entry makes one notice: its deliveries are keyed by this id instead of the
# score's event id, so the second judge's score (or criterion) adds nothing.
_SCORING_NOTICE = uuid.UUID("2b0c9e52-7a1d-4f4e-9c1e-5d3f0a6b8e21")


def scoring_notice_id(entry_id: uuid.UUID) -> uuid.UUID:
    """The source id of the one "scoring under way" notice of an entry."""
    return uuid.uuid5(_SCORING_NOTICE, str(entry_id))


def score_recorded(event: ContestScored, org_path: list[uuid.UUID] | None) -> Notice:
    """Until results are published a contestant hears only that scoring is under way: no judge,
    no criterion, no score (a judge's raw score is not a result, and judges stay anonymous)."""
    return Notice(
        member_id=event.member_id,
        template="contest_scored",
        context={"contest_name": event.contest_name},
        org_path=org_path,
    )


def transfer_confirmed(event: MemberTransferred, from_union_name: str | None) -> Notice:
    return Notice(
        member_id=event.member_id,
        template="member_transferred",
        context={"from_union_name": from_union_name, "to_union_name": event.to_union_name,
                 "reason_label": TRANSFER_REASON_LABELS.get(event.reason, event.reason),
                 "held_by_residence_union": event.held_by_residence_union,
                 "effective_on": event.effective_on.isoformat()},
        org_path=list(event.to_org_path),
    )


def transfer_officer_notices(event: MemberTransferred, from_union_name: str | None) -> list[OfficerNotice]:
    """Both unions' organisation officers (组织委员) are told: the old one to close the member's
    file, the new one to take it up. One officer covering both sides gets one message. Not for
    the moves of a merge or dissolution: the officers made those themselves, one member at a time
    would flood them."""
    if event.reason in BULK_TRANSFER_REASONS:
        return []
    context = {"from_union_name": from_union_name, "to_union_name": event.to_union_name,
               "reason_label": TRANSFER_REASON_LABELS.get(event.reason, event.reason),
               "effective_on": event.effective_on.isoformat()}
    return [
        OfficerNotice(ORGANISATION_OFFICER, list(path), "member_transferred_officer",
                      {**context, "direction": direction}, list(path), subject_member_id=event.member_id)
        for direction, path in (("out", event.from_org_path), ("in", event.to_org_path))
    ]


def transfer_requested(event: TransferRequested) -> Notice:
    """The member hears who asks for her membership; she may confirm or decline."""
    return Notice(
        member_id=event.member_id, template="transfer_requested",
        context={"to_union_name": event.to_union_name, "new_employer": event.new_employer,
                 "expires_on": event.expires_on.isoformat(), "request_ref": case_ref(event.request_id)},
        org_path=list(event.from_org_path),
    )


def transfer_request_officer_notice(event: TransferRequested) -> OfficerNotice:
    """A work item to the sending union's organisation officers: confirm (they may not refuse),
    or leave the choice to the member before the request expires."""
    return OfficerNotice(
        ORGANISATION_OFFICER, list(event.from_org_path), "transfer_requested_officer",
        {"to_union_name": event.to_union_name, "new_employer": event.new_employer,
         "expires_on": event.expires_on.isoformat(), "request_ref": case_ref(event.request_id)},
        list(event.from_org_path), subject_member_id=event.member_id,
    )


def transfer_request_closed(event: TransferRequestClosed) -> Notice | None:
    """An expired request is told to the member; one she declined herself is not told back."""
    if event.outcome != "expired":
        return None
    return Notice(
        member_id=event.member_id, template="transfer_request_closed",
        context={"to_union_name": event.to_union_name, "outcome": event.outcome,
                 "closed_on": event.closed_on.isoformat(), "request_ref": case_ref(event.request_id)},
        org_path=list(event.from_org_path),
    )


def transfer_request_closed_officer_notice(event: TransferRequestClosed) -> OfficerNotice:
    """The sending union's organisation officers: the work item is done (declined or expired)."""
    return OfficerNotice(
        ORGANISATION_OFFICER, list(event.from_org_path), "transfer_request_closed_officer",
        {"to_union_name": event.to_union_name, "outcome": event.outcome, "closed_on": event.closed_on.isoformat(),
         "request_ref": case_ref(event.request_id)},
        list(event.from_org_path), subject_member_id=event.member_id,
    )


def case_awaiting_approval(event: CaseAssessed, union_name: str | None) -> OfficerNotice:
    return OfficerNotice(
        APPROVER, approver_search_path(event.org_path), "case_awaiting_approval",
        {"case_ref": case_ref(event.case_id), "proposed_amount_fen": event.proposed_amount_fen,
         "assessed_on": event.assessed_on.isoformat(), "union_name": union_name},
        list(event.org_path), subject_member_id=event.member_id,
    )


def case_approved(event: CaseApproved) -> Notice:
    return Notice(
        member_id=event.member_id,
        template="case_approved",
        context={"case_ref": case_ref(event.case_id), "case_kind_label": CASE_KIND_LABELS.get(event.kind, event.kind),
                 "amount_fen": event.approved_amount_fen, "approved_on": event.approved_on.isoformat()},
        org_path=list(event.org_path),
    )


def aid_paid(event: AidDisbursed) -> Notice:
    """A payment: of a campaign (送温暖, 金秋助学 …: named by the event, else by notify's campaigns
    projection), of an individual case, or a visit's gift (the member checks it against what was
    handed over)."""
    if event.visit_id is not None:
        return Notice(event.member_id, "visit_gift_paid",
                      {"case_ref": case_ref(event.visit_id), "amount_fen": event.amount_fen,
                       "visited_on": event.paid_on.isoformat()}, list(event.org_path))
    context = {"case_ref": case_ref(event.case_id), "case_kind_label": CASE_KIND_LABELS.get(event.kind, event.kind),
               "amount_fen": event.amount_fen, "paid_on": event.paid_on.isoformat()}
    if event.campaign_id is not None:
        if event.campaign_name:
            context["campaign_name"] = event.campaign_name
        return Notice(event.member_id, "campaign_payment_made", context, list(event.org_path),
                      campaign_id=event.campaign_id)
    return Notice(event.member_id, "aid_disbursed", context, list(event.org_path))


def aid_reversed(event: AidReversed) -> Notice:
    """A wrong payment was reversed (冲正): the member is told, naming the campaign when it was one."""
    context = {"case_ref": case_ref(event.case_id), "case_kind_label": CASE_KIND_LABELS.get(event.kind, event.kind),
               "amount_fen": event.amount_fen, "paid_on": event.paid_on.isoformat() if event.paid_on else None,
               "reversed_on": event.reversed_on.isoformat()}
    return Notice(event.member_id, "aid_reversed", context, list(event.org_path), campaign_id=event.campaign_id)


def campaign_started_context(event: CampaignLaunched, org_name: str | None) -> dict[str, Any]:
    """What the households a campaign concerns are told; no amounts (eligibility is per file)."""
    return {"campaign_name": event.name, "campaign_kind_label": CAMPAIGN_KIND_LABELS.get(event.kind, event.kind),
            "org_name": org_name, "starts_on": event.starts_on.isoformat(), "ends_on": event.ends_on.isoformat()}


# ---- issue 13: notices that concern their reader ---------------------------------------------------

CAMPAIGN_AUDIENCE = "households"  # a campaign tells the households it concerns, not every member

CASE_REJECTION_REASONS = {
    "not_eligible": "经审核，您的情况暂不符合本项帮扶的条件",
    "no_hardship_file": "您尚未建立困难职工档案，本项帮扶需先建档",
    "duplicate": "您已就同一事项提出过申请，本次申请与之重复",
    "insufficient_evidence": "申请材料不足以证明您的困难情况",
    "over_cap": "您本年度获得的帮扶已达到规定的限额",
    "other": "经审核未予批准",
}


def campaign_officer_notice(event: CampaignLaunched, context: dict[str, Any]) -> OfficerNotice:
    """The officers who run the campaign: the approvers of the campaign's unit (else of the
    nearest unit above that has some) get it as a work item."""
    return OfficerNotice(APPROVER, list(event.org_path), "campaign_started_officer", context, list(event.org_path))


def case_rejected(event: CaseRejected) -> Notice:
    """The applicant hears that the case was not approved, and why, in plain words (the reason is
    a category: never health or income detail)."""
    return Notice(
        member_id=event.member_id, template="case_rejected",
        context={"case_ref": case_ref(event.case_id),
                 "case_kind_label": CASE_KIND_LABELS.get(event.kind, event.kind) if event.kind else "帮扶",
                 "reason_text": CASE_REJECTION_REASONS.get(event.reason, CASE_REJECTION_REASONS["other"]),
                 "rejected_on": event.rejected_on.isoformat()},
        org_path=list(event.org_path),
    )


def team_notices(event: TeamRegistered | TeamWaitlisted) -> list[Notice]:
    """Every member of the team, the leader included, once each."""
    context: dict[str, Any] = {"contest_name": event.contest_name, "team_name": event.team_name}
    if isinstance(event, TeamWaitlisted):
        template = "team_waitlisted"
        context["waiting_position"] = event.waiting_position
    else:
        template = "team_promoted" if event.promoted_from_waiting_list else "team_registered"
    members = list(dict.fromkeys([*event.member_ids, event.leader_member_id]))
    return [Notice(m, template, {**context, "is_leader": m == event.leader_member_id}, list(event.org_path))
            for m in members]


def results_notices(event: ContestResultsPublished) -> list[Notice]:
    """Each contestant once, with all their placings (an individual contest ranks per event, a
    member may place in several). A correction (revision > 1) says so."""
    placings: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for p in sorted(event.placings, key=lambda p: p.rank):
        for m in p.member_ids:
            placings.setdefault(m, []).append({
                "rank": p.rank, "prize_label": PRIZE_LABELS.get(p.prize) if p.prize else None,
                "score_centipoints": p.final_score_centipoints,
            })
    base = {"contest_name": event.contest_name, "revision": event.revision,
            "correction_reason": event.correction_reason, "published_at": event.published_at.isoformat()}
    # org_path None: the member's own union path from the members projection (the contest's as fallback)
    return [Notice(m, "contest_results", {**base, "placings": ps}, None) for m, ps in placings.items()]


def proposal_answered(event: ProposalAnswered) -> Notice:
    return Notice(event.member_id, "proposal_answered",
                  {"proposal_ref": str(event.proposal_id)[:8].upper(),
                   "outcome_label": PROPOSAL_OUTCOME_LABELS.get(event.outcome, event.outcome),
                   "adopted": event.outcome == "adopted", "answered_on": event.answered_on.isoformat()},
                  list(event.org_path))


def hotline_overdue(event: HotlineTicketOverdue) -> OfficerNotice:
    """To the ticket's assignee when the directory knows that account; else the hotline officers
    of the nearest unit upward from the ticket's unit."""
    return OfficerNotice(
        HOTLINE_OFFICER, list(event.org_path), "hotline_ticket_overdue",
        {"ticket_ref": str(event.ticket_id)[:8].upper(),
         "category_label": HOTLINE_CATEGORY_LABELS.get(event.category, event.category),
         "due_at": event.due_at.isoformat(), "detected_at": event.detected_at.isoformat()},
        list(event.org_path), assignee=event.assignee,
    )


def retry_delay(attempts: int, *, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds before the next send after `attempts` failed ones: exponential, capped, with
    "equal jitter" (half the step fixed, half random) so retries of a burst spread out but
    never come back sooner than half the step."""
    step = min(cap, base * 2 ** max(attempts - 1, 0))
    return step / 2 + rand() * step / 2


def after_temporary_failure(attempts: int, max_attempts: int) -> Literal["retry", "fail"]:
    """A temporary failure is retried until `max_attempts` sends were made."""
    return "retry" if attempts < max_attempts else "fail"
