"""The one consumer of notify (group `notify.events`) and every registration of its handlers.

Who is told what (rules in domain.notices, deliveries created by commands.notices):
  MemberJoined            → a new join: the member (welcome), the subscribed group-chat bots of the
                            nearest unit on the member's path that has one (also for CaseOpened);
                            the imported register (origin "register"): nobody, or the member once
                            ("您的会员信息已上线") when the office chose it
  MemberTransferred       → the member; the organisation officers of both unions
  TransferRequested       → the member; work item to the sending union's organisation officers
  TransferRequestClosed   → the sending union's organisation officers; an expiry also the member
  CaseOpened / CaseApproved / AidDisbursed → the member (not for legal aid referred from a dispute:
                            DisputeReferred tells it; a campaign payment names its campaign and
                            goes after the member's start notice of that campaign)
  CaseRejected            → the applicant, with the reason in plain words
  AidReversed             → the member: a wrong payment was reversed (冲正)
  CaseAssessed            → work item to the approvers of the nearest unit above the case's union
  CampaignLaunched        → the households it concerns: members of the campaign unit's subtree with
                            an open hardship file of a level it pays (fan-out); work item to the
                            approvers of the campaign's unit (nearest upward)
  TeamRegistered / TeamWaitlisted → every team member (accepted, moved up, waiting)
  ContestResultsPublished → each contestant with their rank and prize
  ContestScored           → the member, once per entry: scoring is under way (no scores before
                            the results are published)
  ProposalAnswered        → the member
  HotlineTicketOverdue    → the assignee, else the nearest unit's hotline officers
  CollectiveOfferSent     → an employer's offer: work item to the union's rights officers (answer in 20 days);
                            a union's offer: e-mail to each employer's side (its contact, if on file)
  CollectiveOfferAnswerDue / CollectiveOfferOverdue → the rights officers: answer due soon / overdue
  CollectiveContractInForce → the rights officers: publish it to the workers
  CollectiveContractExpiring → the rights officers and each employer's side: renew within the six months
  DelegatesElected        → each elected delegate (one notice per member)
  CongressProposalAnswered → the proposing delegate
  CongressProposalOverdue → the nearest unit's rights officers upward from the congress's union
  DisputeOpened           → the worker (a member); collective (10+ workers): work item to the rights
                            officers of the district above the dispute's unit, urgent
  DisputeMediated / DisputeFailed / DisputeReferred → the worker (a member)
  DisputeArbitrationOpen  → the worker (urgent: they may apply for arbitration); the officer who
                            registered it, else the nearest unit's rights officers
  TrainingEnrolled        → each member enrolled (dates, place); one event per enrolment request
  TrainingCompleted       → the member, with the certificate number
What notify keeps of the events (projections): contacts, employers' contacts, members, units (UnionMoved rewrites every
path), campaigns, hardship files (level, open); UnionMerged / UnionDissolved stand the unit's officers down and disable its bots.

Every handler runs in the consumer's inbox transaction; where an event both updates a projection
and creates deliveries, the handler here runs them in the order the rules need, the commands on a
`UnitOfWork` of that same transaction.

Dependencies: the templates and the vault come from the running service the consumer is wired
into (`consumer.runtime`, set by create_app: `component(TemplateRegistry)` and its vault) — no
closures over the app, no start-up hooks filling globals."""
from __future__ import annotations

import asyncpg

from contracts.events import (
    AidDisbursed, AidReversed, CampaignLaunched, CaseApproved, CaseAssessed, CaseOpened, CaseRejected,
    CollectiveContractExpiring, CollectiveContractInForce, CollectiveOfferAnswerDue, CollectiveOfferOverdue,
    CollectiveOfferSent, CongressProposalAnswered, CongressProposalOverdue, ContestResultsPublished, ContestScored,
    DelegatesElected, DisputeArbitrationOpen, EmployerContactChanged, DisputeFailed, DisputeMediated, DisputeOpened, DisputeReferred,
    HardshipFileClosed, HardshipFileOpened, HardshipFileReviewed, HotlineTicketOverdue, MemberContactChanged,
    MemberJoined, MemberLeft, MemberPersonalDataErased, MemberTransferred, ProposalAnswered, TeamRegistered,
    TeamWaitlisted, TrainingCompleted, TrainingEnrolled, TransferRequestClosed, TransferRequested, UnionDissolved,
    UnionEstablished, UnionMerged, UnionMoved,
)
from notify import projections
from notify.commands import collective_contracts, disputes, notices, settlement, training
from notify.commands import congresses as congress_notices
from notify.domain.templates import TemplateRegistry
from unionops.consumer import IdempotentConsumer, Received
from unionops.envelope import Envelope
from unionops.unit_of_work import UnitOfWork


consumer = IdempotentConsumer("notify.events")


def templates() -> TemplateRegistry:
    return consumer.runtime.component(TemplateRegistry)

# ---- projections only ----------------------------------------------------------------------------

consumer.on(UnionEstablished)(projections.union_established)
consumer.on(UnionMoved)(projections.union_moved)
consumer.on(UnionMerged)(projections.union_closed)
consumer.on(UnionDissolved)(projections.union_closed)
consumer.on(MemberLeft)(projections.member_left)
consumer.on(HardshipFileOpened)(projections.hardship_file_kept)
consumer.on(HardshipFileReviewed)(projections.hardship_file_kept)
consumer.on(HardshipFileClosed)(projections.hardship_file_closed)


# ---- projections, then what they settle or tell ---------------------------------------------------

@consumer.on_batch(MemberContactChanged)
async def contacts_changed(conn: asyncpg.Connection, batch: list[Received]) -> None:
    without_address = await projections.contacts_changed(conn, batch, consumer.runtime.vault.contact_keys)
    # Mails and SMS waiting for an address this contact does not have are not deliverable.
    await settlement.settle_unaddressable(UnitOfWork(conn), without_address)


@consumer.on(EmployerContactChanged)
async def employer_contact_changed(conn: asyncpg.Connection, event: EmployerContactChanged, env: Envelope) -> None:
    await projections.employer_contact_changed(conn, event, env, consumer.runtime.vault)


@consumer.on(MemberPersonalDataErased)
async def personal_data_erased(conn: asyncpg.Connection, event: MemberPersonalDataErased, env: Envelope) -> None:
    await projections.personal_data_erased(conn, event, env)
    # Mails and SMS still waiting for them are not deliverable (not failed).
    await settlement.settle_unaddressable(UnitOfWork(conn), [event.member_id])


@consumer.on_batch(MemberJoined)
async def members_joined(conn: asyncpg.Connection, batch: list[Received]) -> None:
    await projections.members_joined(conn, batch)  # first: the welcome's address wait needs joined_at
    await notices.welcome(UnitOfWork(conn), batch, templates())


@consumer.on(MemberTransferred)
async def member_transferred(conn: asyncpg.Connection, event: MemberTransferred, env: Envelope) -> None:
    await notices.member_transferred(UnitOfWork(conn), event, env, templates())  # names the old union
    await projections.member_transferred(conn, event, env)  # then forgets it


@consumer.on(CampaignLaunched)
async def campaign_launched(conn: asyncpg.Connection, event: CampaignLaunched, env: Envelope) -> None:
    await projections.campaign_launched(conn, event, env)
    await notices.campaign_started(UnitOfWork(conn), event, env, templates())


# ---- deliveries only ----------------------------------------------------------------------------

# Events that only create deliveries: the command that tells whom (commands.notices).
TELLS = {
    TransferRequested: notices.transfer_requested,
    TransferRequestClosed: notices.transfer_request_closed,
    CaseOpened: notices.case_opened,
    CaseAssessed: notices.case_assessed,
    CaseApproved: notices.case_approved,
    CaseRejected: notices.case_rejected,
    HotlineTicketOverdue: notices.hotline_overdue,
    ContestScored: notices.contest_scored,
    TeamRegistered: notices.team_changed,
    TeamWaitlisted: notices.team_changed,
    ContestResultsPublished: notices.results_published,
    ProposalAnswered: notices.proposal_answered,
    AidReversed: notices.aid_reversed,
    CollectiveOfferSent: collective_contracts.tell_both_sides,
    CollectiveOfferAnswerDue: collective_contracts.tell_both_sides,
    CollectiveOfferOverdue: collective_contracts.tell_both_sides,
    CollectiveContractInForce: collective_contracts.tell_both_sides,
    CollectiveContractExpiring: collective_contracts.tell_both_sides,
    DelegatesElected: congress_notices.delegates_elected,
    CongressProposalAnswered: congress_notices.proposal_answered,
    CongressProposalOverdue: congress_notices.proposal_overdue,
    DisputeOpened: disputes.dispute_opened,
    DisputeMediated: disputes.dispute_mediated,
    DisputeFailed: disputes.dispute_failed,
    DisputeArbitrationOpen: disputes.arbitration_open,
    DisputeReferred: disputes.dispute_referred,
    TrainingEnrolled: training.training_enrolled,
    TrainingCompleted: training.training_completed,
}


async def tell(conn: asyncpg.Connection, event, env: Envelope) -> None:
    """The handler of every event in TELLS: its command, on the consumer's transaction."""
    await TELLS[type(event)](UnitOfWork(conn), event, env, templates())


for _event in TELLS:
    consumer.on(_event)(tell)


@consumer.on_batch(AidDisbursed)
async def aid_disbursed(conn: asyncpg.Connection, batch: list[Received]) -> None:
    await notices.aid_paid(UnitOfWork(conn), batch, templates())
