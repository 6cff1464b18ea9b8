"""What each event of another service tells whom (the rules are domain.notices): one command per
event, run in the consumer's transaction after the projections the event updates
(consumers.py orders them). Each only creates deliveries (commands.deliveries) or a fan-out."""
from __future__ import annotations

import dataclasses

from contracts.events import (
    AidReversed, CampaignLaunched, CaseApproved, CaseAssessed, CaseOpened, CaseRejected, ContestResultsPublished, ContestScored,
    HotlineTicketOverdue, MemberTransferred, ProposalAnswered, TeamRegistered, TeamWaitlisted,
    TransferRequestClosed, TransferRequested,
)
from notify import queries
from notify.commands import deliveries, fanouts
from notify.domain import notices as domain
from notify.domain.templates import TemplateRegistry
from unionops.consumer import Received
from unionops.envelope import Envelope
from unionops.telemetry import current_trace_headers
from unionops.unit_of_work import UnitOfWork

# ---- membership ----------------------------------------------------------------------------------


async def welcome(uow: UnitOfWork, batch: list[Received], templates: TemplateRegistry) -> None:
    """MemberJoined: the welcome of a new join, and its copy to the bots subscribed to
    member_joined; a member of the imported register only the "now online" notice their office
    chose, if any, and no bot copy (domain.notices.welcome)."""
    notices = [(r.envelope, notice, r.trace_headers) for r in batch
               if (notice := domain.welcome(r.event)) is not None]
    await deliveries.create_for_events(uow, notices, templates)
    await deliveries.create_for_bots(uow, [n for n in notices if n[1].template == "member_joined"], templates)


async def member_transferred(uow: UnitOfWork, event: MemberTransferred, env: Envelope,
                             templates: TemplateRegistry) -> None:
    """The member, and the organisation officers of both unions (before the members projection
    forgets the old union's name)."""
    from_name = await queries.former_union_name(uow.conn, event.member_id, event.from_union_id)
    await deliveries.create(uow, env, domain.transfer_confirmed(event, from_name), templates)
    for notice in domain.transfer_officer_notices(event, from_name):
        await deliveries.tell_officers(uow, env, notice, templates)


async def transfer_requested(uow: UnitOfWork, event: TransferRequested, env: Envelope,
                             templates: TemplateRegistry) -> None:
    await deliveries.create(uow, env, domain.transfer_requested(event), templates)
    await deliveries.tell_officers(uow, env, domain.transfer_request_officer_notice(event), templates)


async def transfer_request_closed(uow: UnitOfWork, event: TransferRequestClosed, env: Envelope,
                                  templates: TemplateRegistry) -> None:
    notice = domain.transfer_request_closed(event)
    if notice is not None:
        await deliveries.create(uow, env, notice, templates)
    await deliveries.tell_officers(uow, env, domain.transfer_request_closed_officer_notice(event), templates)


# ---- welfare -------------------------------------------------------------------------------------


async def case_opened(uow: UnitOfWork, event: CaseOpened, env: Envelope, templates: TemplateRegistry) -> None:
    if event.dispute_id is not None:
        return  # legal aid referred from a dispute: the worker hears it once, from DisputeReferred
    union_name = await queries.union_name_of(uow.conn, event.member_id)
    await deliveries.tell_member(uow, env, domain.case_opened(event, union_name), templates)


async def case_assessed(uow: UnitOfWork, event: CaseAssessed, env: Envelope, templates: TemplateRegistry) -> None:
    notice = domain.case_awaiting_approval(event, await queries.unit_name(uow.conn, event.org_path[-1]))
    await deliveries.tell_officers(uow, env, notice, templates)


async def case_approved(uow: UnitOfWork, event: CaseApproved, env: Envelope, templates: TemplateRegistry) -> None:
    await deliveries.create(uow, env, domain.case_approved(event), templates)


async def aid_paid(uow: UnitOfWork, batch: list[Received], templates: TemplateRegistry) -> None:
    """AidDisbursed: a campaign run publishes thousands at once — one channels query and one
    INSERT per batch. A campaign's payment comes after its start notice: the members paid get
    theirs now if the fan-out has not reached them (fanouts.include), and the dispatcher holds
    the payment while that one is still to be sent (commands.settlement's claim)."""
    paid: dict = {}
    for r in batch:
        if r.event.campaign_id is not None:
            paid.setdefault(r.event.campaign_id, []).append(r.event.member_id)
    for campaign_id, members in paid.items():
        await fanouts.include(uow, campaign_id, members)
    await deliveries.create_for_events(
        uow, [(r.envelope, domain.aid_paid(r.event), r.trace_headers) for r in batch], templates)


async def aid_reversed(uow: UnitOfWork, event: AidReversed, env: Envelope, templates: TemplateRegistry) -> None:
    await deliveries.create(uow, env, domain.aid_reversed(event), templates)


async def campaign_started(uow: UnitOfWork, event: CampaignLaunched, env: Envelope,
                           templates: TemplateRegistry) -> None:
    """The households the campaign concerns (open hardship files of the levels it pays, in the
    campaign unit's subtree): a fan-out the background worker carries out; the officers who run
    it; and at once those whose payment notice came before this event did."""
    spec = templates.current("campaign_started")
    context = domain.campaign_started_context(event, await queries.unit_name(uow.conn, event.org_id))
    await fanouts.start(uow, env, org_id=event.org_id, org_path=event.org_path, template=spec.name,
                        template_version=spec.version, context=context, trace_headers=current_trace_headers(),
                        audience=domain.CAMPAIGN_AUDIENCE, levels=event.levels, campaign_id=event.campaign_id)
    await deliveries.tell_officers(uow, env, domain.campaign_officer_notice(event, context), templates)
    await fanouts.include(uow, event.campaign_id, await queries.members_paid_by_campaign(uow.conn, event.campaign_id))


async def case_rejected(uow: UnitOfWork, event: CaseRejected, env: Envelope, templates: TemplateRegistry) -> None:
    await deliveries.create(uow, env, domain.case_rejected(event), templates)


async def hotline_overdue(uow: UnitOfWork, event: HotlineTicketOverdue, env: Envelope,
                          templates: TemplateRegistry) -> None:
    await deliveries.tell_officers(uow, env, domain.hotline_overdue(event), templates)


# ---- competitions and proposals ------------------------------------------------------------------


async def contest_scored(uow: UnitOfWork, event: ContestScored, env: Envelope, templates: TemplateRegistry) -> None:
    """One notice per entry, whatever the number of judges and criteria: keyed by the entry. No
    org path on the event: the member's comes from the members projection. No bots."""
    once = dataclasses.replace(env, id=domain.scoring_notice_id(event.entry_id))
    await deliveries.create_for_events(uow, [(once, domain.score_recorded(event, None), current_trace_headers())],
                                       templates)


async def team_changed(uow: UnitOfWork, event: TeamRegistered | TeamWaitlisted, env: Envelope,
                       templates: TemplateRegistry) -> None:
    """TeamRegistered / TeamWaitlisted: every team member (accepted, moved up, waiting)."""
    await deliveries.create_many(uow, env, domain.team_notices(event), templates)


async def results_published(uow: UnitOfWork, event: ContestResultsPublished, env: Envelope,
                            templates: TemplateRegistry) -> None:
    await deliveries.create_many(uow, env, domain.results_notices(event), templates)


async def proposal_answered(uow: UnitOfWork, event: ProposalAnswered, env: Envelope,
                            templates: TemplateRegistry) -> None:
    await deliveries.create(uow, env, domain.proposal_answered(event), templates)
