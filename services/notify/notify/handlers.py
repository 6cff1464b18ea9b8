"""Event handlers of the notify service. Each runs in the idempotent consumer's transaction
(the event id is recorded in `inbox` in that same transaction) and only writes rows: contacts,
projections (members, organisation units, campaigns), pending deliveries and fan-outs. Sending
is the dispatcher's job, creating a campaign's deliveries the fan-out worker's.

Who is told what (domain.py has the rules):
  MemberJoined            → the member (welcome)
  MemberJoined / CaseOpened → also the subscribed group-chat bots of the nearest
                            unit on the member's path that has one (deliveries.create_for_bots)
  MemberTransferred       → the member; the organisation officers of both unions
  TransferRequested       → the member; work item to the sending union's organisation officers
  TransferRequestClosed   → the sending union's organisation officers; an expiry also the member
  CaseOpened / CaseApproved / AidDisbursed → the member (a campaign payment names its campaign)
  CaseAssessed            → work item to the approvers of the nearest unit above the case's union
  CampaignLaunched        → every member of the campaign unit's subtree (fan-out)
  TeamRegistered / TeamWaitlisted → every team member (accepted, moved up, waiting)
  ContestResultsPublished → each contestant with their rank and prize
  ContestScored           → the member, once per entry: scoring is under way (no scores before
                            the results are published)
  ProposalAnswered        → the member
  HotlineTicketOverdue    → the assignee, else the nearest unit's hotline officers
  UnionMerged / UnionDissolved → the unit's officers stand down, its bots are disabled"""
from __future__ import annotations

import dataclasses
from typing import Callable

import asyncpg

from contracts.events import (
    AidDisbursed,
    CampaignLaunched,
    CaseApproved,
    CaseAssessed,
    CaseOpened,
    ContestResultsPublished,
    ContestScored,
    HotlineTicketOverdue,
    MemberContactChanged,
    MemberJoined,
    MemberLeft,
    MemberPersonalDataErased,
    MemberTransferred,
    ProposalAnswered,
    TeamRegistered,
    TeamWaitlisted,
    TransferRequestClosed,
    TransferRequested,
    UnionDissolved,
    UnionEstablished,
    UnionMerged,
    UnionMoved,
)
from notify import contacts, deliveries, domain, fanout, officers
from notify.templates import TemplateRegistry
from unionops.consumer import IdempotentConsumer, Received, last_per
from unionops.envelope import Envelope
from unionops.pii import Vault
from unionops.projections import pg_path, rewrite_path_prefix
from unionops.telemetry import current_trace_headers

# Every table holding an organisation path: all rewritten in the UnionMoved transaction.
PATH_TABLES = (("members", "org_path"), ("deliveries", "org_path"), ("org_units", "org_path"),
               ("officers", "org_path"), ("campaigns", "org_path"), ("fanouts", "org_path"),
               ("webhook_bots", "org_path"))


def subscribe(consumer: IdempotentConsumer, *, vault: Callable[[], Vault], templates: TemplateRegistry) -> None:
    """Register the handlers on `consumer`; `vault` is looked up when a contact arrives."""

    async def tell_officers(conn: asyncpg.Connection, env: Envelope, notice: domain.OfficerNotice) -> int:
        return await deliveries.create_for_officers(conn, env, notice, await officers.resolve(conn, notice), templates)

    async def tell_member(conn: asyncpg.Connection, env: Envelope, notice: domain.Notice) -> None:
        """One event's member notice, and its copy to the group-chat bots subscribed to its kind."""
        item = [(env, notice, current_trace_headers())]
        await deliveries.create_for_events(conn, item, templates)
        await deliveries.create_for_bots(conn, item, templates)

    async def unit_name(conn: asyncpg.Connection, org_id) -> str | None:
        return await conn.fetchval("SELECT name FROM org_units WHERE org_id = $1", org_id)

    # ---- membership ----------------------------------------------------------------------

    @consumer.on_batch(MemberContactChanged)
    async def contacts_changed(conn: asyncpg.Connection, batch: list[Received]) -> None:
        # Events of one member come in order (keyed by member id): the latest contact wins —
        # within a batch too, so a mail waiting for an address goes out if the batch ends with one.
        # Kept sealed under the member's data key; opened only when a message is sent.
        # The event's time says whether the contact is the latest word on the address or older than
        # the member's latest admission (deliveries.settle_unaddressable).
        latest = [(r.event, r.envelope.time) for r in last_per(batch, lambda r: r.event.member_id)]
        rows = contacts.rows_from_events(vault().contact_keys, latest)
        await contacts.store(conn, rows)
        # Mails and SMS waiting for an address this contact does not have are not deliverable.
        await deliveries.settle_unaddressable(conn, [r[0] for r in rows if r[2] is None or r[3] is None])

    @consumer.on(MemberPersonalDataErased)
    async def personal_data_erased(conn: asyncpg.Connection, event: MemberPersonalDataErased, env: Envelope) -> None:
        # The member's data key goes: every sealed copy of their contact, here or on the topic, is
        # unreadable. Mails and SMS still waiting for them are not deliverable (not failed).
        await contacts.erase(conn, event)
        await deliveries.settle_unaddressable(conn, [event.member_id])

    @consumer.on(UnionEstablished)
    async def union_established(conn: asyncpg.Connection, event: UnionEstablished, env: Envelope) -> None:
        await conn.execute(
            "INSERT INTO org_units (org_id, name, level, org_path) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (org_id) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,"
            " org_path = EXCLUDED.org_path, updated_at = now()",
            event.org_id, event.name, event.level, event.org_path)

    @consumer.on_batch(MemberJoined)
    async def members_joined(conn: asyncpg.Connection, batch: list[Received]) -> None:
        last = last_per(batch, lambda r: r.event.member_id)  # a leave and rejoin: the last
        latest = [r.event for r in last]
        cols = [[e.member_id for e in latest], [e.union_id for e in latest], [e.union_name for e in latest],
                [pg_path(e.org_path) for e in latest], [e.joined_on for e in latest]]
        # joined_at, the event's time: a contact older than it may yet be replaced by the one this
        # admission sent on the contact topic, so the welcome waits for that one.
        await conn.execute(
            "INSERT INTO members (member_id, union_id, union_name, org_path, joined_on, joined_at)"
            " SELECT m, u, n, p::uuid[], j, a FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::date[],"
            " $6::timestamptz[]) AS t(m, u, n, p, j, a)"
            " ON CONFLICT (member_id) DO UPDATE SET union_id = EXCLUDED.union_id, union_name = EXCLUDED.union_name,"
            " org_path = EXCLUDED.org_path, joined_on = EXCLUDED.joined_on, joined_at = EXCLUDED.joined_at,"
            " left_on = NULL, updated_at = now()",
            *cols, [r.envelope.time for r in last])
        # Notifications that came before the join (a score) get their scope now.
        await conn.execute(
            "UPDATE deliveries d SET org_path = t.p::uuid[] FROM unnest($1::uuid[], $2::text[]) AS t(m, p)"
            " WHERE d.member_id = t.m AND d.org_path IS NULL", cols[0], cols[3])
        welcomes = [(r.envelope, domain.welcome(r.event), r.trace_headers) for r in batch]
        await deliveries.create_for_events(conn, welcomes, templates)
        await deliveries.create_for_bots(conn, welcomes, templates)  # only bots that subscribed to member_joined

    @consumer.on(MemberTransferred)
    async def member_transferred(conn: asyncpg.Connection, event: MemberTransferred, env: Envelope) -> None:
        # The old union's name before the projection forgets it.
        from_name = await conn.fetchval(
            "SELECT coalesce((SELECT name FROM org_units WHERE org_id = $2),"
            " (SELECT union_name FROM members WHERE member_id = $1))", event.member_id, event.from_union_id)
        # Later notifications are scoped to the receiving union; past deliveries keep theirs.
        await conn.execute(
            "UPDATE members SET union_id = $2, union_name = $3, org_path = $4, updated_at = now() WHERE member_id = $1",
            event.member_id, event.to_union_id, event.to_union_name, event.to_org_path)
        await deliveries.create(conn, env, domain.transfer_confirmed(event, from_name), templates)
        for notice in domain.transfer_officer_notices(event, from_name):
            await tell_officers(conn, env, notice)

    @consumer.on(TransferRequested)
    async def transfer_requested(conn: asyncpg.Connection, event: TransferRequested, env: Envelope) -> None:
        await deliveries.create(conn, env, domain.transfer_requested(event), templates)
        await tell_officers(conn, env, domain.transfer_request_officer_notice(event))

    @consumer.on(TransferRequestClosed)
    async def transfer_request_closed(conn: asyncpg.Connection, event: TransferRequestClosed, env: Envelope) -> None:
        notice = domain.transfer_request_closed(event)
        if notice is not None:
            await deliveries.create(conn, env, notice, templates)
        await tell_officers(conn, env, domain.transfer_request_closed_officer_notice(event))

    @consumer.on(MemberLeft)
    async def member_left(conn: asyncpg.Connection, event: MemberLeft, env: Envelope) -> None:
        await conn.execute("UPDATE members SET left_on = $2, updated_at = now() WHERE member_id = $1",
                           event.member_id, event.left_on)

    @consumer.on(UnionMerged)
    async def union_merged(conn: asyncpg.Connection, event: UnionMerged, env: Envelope) -> None:
        await stand_down(conn, event.org_id)

    @consumer.on(UnionDissolved)
    async def union_dissolved(conn: asyncpg.Connection, event: UnionDissolved, env: Envelope) -> None:
        await stand_down(conn, event.org_id)

    async def stand_down(conn: asyncpg.Connection, org_id) -> None:
        """A union merged away or dissolved has no officers and no group chat any more: its
        posts end (the receiving or holding union's officers are its own), its bots stop.
        Their messages already waiting fail with `no_address` after the contact wait (a work item
        that reached nobody is for an operator to see)."""
        await conn.execute("UPDATE officers SET active = false, updated_at = now() WHERE org_id = $1 AND active",
                           org_id)
        await conn.execute("UPDATE webhook_bots SET enabled = false, updated_at = now()"
                           " WHERE org_unit_id = $1 AND enabled", org_id)

    @consumer.on(UnionMoved)
    async def union_moved(conn: asyncpg.Connection, event: UnionMoved, env: Envelope) -> None:
        for table, column in PATH_TABLES:
            await rewrite_path_prefix(conn, table, column, event.old_path, event.new_path)

    # ---- welfare -------------------------------------------------------------------------

    @consumer.on(CaseOpened)
    async def case_opened(conn: asyncpg.Connection, event: CaseOpened, env: Envelope) -> None:
        union_name = await conn.fetchval("SELECT union_name FROM members WHERE member_id = $1", event.member_id)
        await tell_member(conn, env, domain.case_opened(event, union_name))

    @consumer.on(CaseAssessed)
    async def case_assessed(conn: asyncpg.Connection, event: CaseAssessed, env: Envelope) -> None:
        await tell_officers(conn, env, domain.case_awaiting_approval(event, await unit_name(conn, event.org_path[-1])))

    @consumer.on(CaseApproved)
    async def case_approved(conn: asyncpg.Connection, event: CaseApproved, env: Envelope) -> None:
        await deliveries.create(conn, env, domain.case_approved(event), templates)

    @consumer.on_batch(AidDisbursed)
    async def aid_disbursed(conn: asyncpg.Connection, batch: list[Received]) -> None:
        # A campaign run publishes thousands at once: one channels query and one INSERT per batch.
        await deliveries.create_for_events(
            conn, [(r.envelope, domain.aid_paid(r.event), r.trace_headers) for r in batch], templates)

    @consumer.on(CampaignLaunched)
    async def campaign_launched(conn: asyncpg.Connection, event: CampaignLaunched, env: Envelope) -> None:
        await conn.execute(
            "INSERT INTO campaigns (campaign_id, name, kind, org_id, org_path, starts_on, ends_on)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (campaign_id) DO NOTHING",
            event.campaign_id, event.name, event.kind, event.org_id, event.org_path, event.starts_on, event.ends_on)
        spec = templates.current("campaign_started")
        await fanout.start(conn, env, org_id=event.org_id, org_path=event.org_path, template=spec.name,
                           template_version=spec.version,
                           context=domain.campaign_started_context(event, await unit_name(conn, event.org_id)),
                           trace_headers=current_trace_headers())

    @consumer.on(HotlineTicketOverdue)
    async def hotline_overdue(conn: asyncpg.Connection, event: HotlineTicketOverdue, env: Envelope) -> None:
        await tell_officers(conn, env, domain.hotline_overdue(event))

    # ---- competitions --------------------------------------------------------------------

    @consumer.on(ContestScored)
    async def contest_scored(conn: asyncpg.Connection, event: ContestScored, env: Envelope) -> None:
        # One notice per entry, whatever the number of judges and criteria: keyed by the entry.
        # No org path on the event: the member's comes from the members projection. No bots.
        once = dataclasses.replace(env, id=domain.scoring_notice_id(event.entry_id))
        await deliveries.create_for_events(conn, [(once, domain.score_recorded(event, None),
                                                   current_trace_headers())], templates)

    @consumer.on(TeamRegistered)
    async def team_registered(conn: asyncpg.Connection, event: TeamRegistered, env: Envelope) -> None:
        await deliveries.create_many(conn, env, domain.team_notices(event), templates)

    @consumer.on(TeamWaitlisted)
    async def team_waitlisted(conn: asyncpg.Connection, event: TeamWaitlisted, env: Envelope) -> None:
        await deliveries.create_many(conn, env, domain.team_notices(event), templates)

    @consumer.on(ContestResultsPublished)
    async def results_published(conn: asyncpg.Connection, event: ContestResultsPublished, env: Envelope) -> None:
        await deliveries.create_many(conn, env, domain.results_notices(event), templates)

    @consumer.on(ProposalAnswered)
    async def proposal_answered(conn: asyncpg.Connection, event: ProposalAnswered, env: Envelope) -> None:
        await deliveries.create(conn, env, domain.proposal_answered(event), templates)
