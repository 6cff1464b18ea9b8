"""Creating deliveries from other services' events, in the consumer's transaction: member
notices (one row per notice × channel the member's preferences choose), their copies to the
subscribed group-chat robots, and work items to officers. Rows are `pending`, unique per (source
event, recipient, channel) with ON CONFLICT DO NOTHING, each with the trace context of the event
that caused it; sending is the dispatcher's job (background.dispatcher)."""
from __future__ import annotations

import uuid

from notify import queries
from notify.commands.settlement import settle_unaddressable
from notify.domain import notices as domain
from notify.domain.collective_contracts import EmployerNotice
from notify.domain.templates import TemplateRegistry
from unionops.envelope import Envelope
from unionops.projections import pg_path
from unionops.telemetry import current_trace_headers
from unionops.unit_of_work import UnitOfWork

Item = tuple[Envelope, domain.Notice, dict]  # a notice, the event that caused it, that event's trace


# One INSERT for any number of member notices, of one event or of many (a batch of payments):
# one row per notice × channel, each with its event's id, type and trace. The org path comes
# from the notice, else from the members projection (ContestScored, results carry none); a
# campaign payment gets its campaign's name from the campaigns projection in the same statement
# (the event's own while notify has not seen the campaign), and its campaign id (the dispatcher
# holds it behind the campaign's start notice).
_CREATE_FOR_MEMBERS = """
WITH n AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::jsonb[],
                         $8::text[], $9::uuid[], $10::jsonb[])
             AS n(event_id, event_type, member_id, channel, template, template_version, context, org_path,
                  campaign_id, trace_headers)
), ins AS (
    INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, recipient_kind, recipient_id,
                            org_path, channel, template, template_version, context, trace_headers, campaign_id)
    SELECT gen_random_uuid(), n.event_id, n.event_type, n.member_id, 'member', n.member_id,
           coalesce(n.org_path::uuid[], m.org_path), n.channel, n.template, n.template_version,
           n.context || coalesce((SELECT jsonb_build_object('campaign_name', c.name) FROM campaigns c
                                  WHERE c.campaign_id = n.campaign_id), '{}'::jsonb),
           n.trace_headers, n.campaign_id
    FROM n LEFT JOIN members m ON m.member_id = n.member_id
    ON CONFLICT (source_event_id, recipient_kind, recipient_id, channel) DO NOTHING
    RETURNING member_id, channel
)
SELECT count(*) AS created, ARRAY(SELECT DISTINCT member_id FROM ins) AS members FROM ins
"""

_CREATE_FOR_OFFICERS = """
INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, recipient_kind, recipient_id,
                        subject_member_id, org_path, channel, template, template_version, context, trace_headers)
SELECT gen_random_uuid(), $1, $2, NULL, 'officer', o.id, $3, $4, o.channel, $5, $6,
       $7::jsonb || coalesce((SELECT jsonb_build_object('member_name', c.name) FROM contacts c
                              WHERE c.member_id = $3), '{}'::jsonb),
       $8
FROM unnest($9::uuid[], $10::text[]) AS o(id, channel)
ON CONFLICT (source_event_id, recipient_kind, recipient_id, channel) DO NOTHING
RETURNING id
"""


# The employer side of each employer ($8): one e-mail, its contact's name and address added when
# sent (the employer's name now, from the contact kept). recipient_kind 'employer', no member.
_CREATE_FOR_EMPLOYERS = """
INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, recipient_kind, recipient_id,
                        org_path, channel, template, template_version, context, trace_headers)
SELECT gen_random_uuid(), $1, $2, NULL, 'employer', e.id, $3, 'email', $4, $5,
       $6::jsonb || coalesce((SELECT jsonb_build_object('employer_name', c.employer_name) FROM employer_contacts c
                              WHERE c.employer_id = e.id), '{"employer_name": "贵单位"}'::jsonb),
       $7
FROM unnest($8::uuid[]) AS e(id)
ON CONFLICT (source_event_id, recipient_kind, recipient_id, channel) DO NOTHING
RETURNING id
"""

# One INSERT for the group-chat copies of any number of member notices: for each notice, every
# enabled bot subscribed to its kind (the template name) at the nearest unit of the member's path
# that has one — the union, else its street, district, city; none further up. The path comes from
# the notice, else from the members projection (ContestScored carries none). recipient_kind 'bot',
# member_id NULL, the member in subject_member_id (the dispatcher masks their name).
_CREATE_FOR_BOTS = """
WITH n AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::text[],
                         $8::jsonb[]) WITH ORDINALITY
             AS n(event_id, event_type, member_id, template, template_version, context, org_path, trace_headers, i)
), scoped AS (
    SELECT n.*, coalesce(n.org_path::uuid[], m.org_path) AS path
    FROM n LEFT JOIN members m ON m.member_id = n.member_id
    -- Most batches (an import's admissions) concern no bot at all: then nothing is joined.
    WHERE EXISTS (SELECT 1 FROM webhook_bots WHERE enabled AND notice_kinds && $4::text[])
), subscribed AS (
    SELECT s.i, b.id AS bot_id, rank() OVER (PARTITION BY s.i ORDER BY u.depth DESC) AS nearness
    FROM scoped s
    CROSS JOIN LATERAL unnest(s.path) WITH ORDINALITY AS u(unit, depth)
    JOIN webhook_bots b ON b.org_unit_id = u.unit AND b.enabled AND s.template = ANY(b.notice_kinds)
), ins AS (
    INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, recipient_kind, recipient_id,
                            subject_member_id, org_path, channel, template, template_version, context, trace_headers)
    SELECT gen_random_uuid(), s.event_id, s.event_type, NULL, 'bot', b.bot_id, s.member_id, s.path, 'webhook',
           s.template, s.template_version, s.context, s.trace_headers
    FROM subscribed b JOIN scoped s USING (i)
    WHERE b.nearness = 1
    ON CONFLICT (source_event_id, recipient_kind, recipient_id, channel) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins
"""


async def create(uow: UnitOfWork, env: Envelope, notice: domain.Notice, templates: TemplateRegistry) -> int:
    """One pending delivery per channel of the notice, once per event × member × channel.
    Returns how many were new."""
    return await create_many(uow, env, [notice], templates)


async def create_many(uow: UnitOfWork, env: Envelope, notices: list[domain.Notice],
                      templates: TemplateRegistry) -> int:
    """Member notices of one event (a team, a results list), in the current trace. Returns how
    many deliveries were new."""
    headers = current_trace_headers()
    return await create_for_events(uow, [(env, n, headers) for n in notices], templates)


async def tell_member(uow: UnitOfWork, env: Envelope, notice: domain.Notice, templates: TemplateRegistry) -> None:
    """One event's member notice, and its copy to the group-chat bots subscribed to its kind."""
    item = [(env, notice, current_trace_headers())]
    await create_for_events(uow, item, templates)
    await create_for_bots(uow, item, templates)


async def create_for_events(uow: UnitOfWork, items: list[Item], templates: TemplateRegistry) -> int:
    """Member notices, each with the event that caused it and that event's trace context, with
    one query for the channels per notice kind (none when the notices name them) and one
    INSERT. Returns how many deliveries were new."""
    if not items:
        return 0
    undecided: dict[str, list[uuid.UUID]] = {}
    for _, n, _ in items:
        if n.channels is None:
            undecided.setdefault(n.template, []).append(n.member_id)
    chosen: dict[tuple[str, uuid.UUID], list[str]] = {}
    for kind, members in undecided.items():
        for member_id, channels in (await queries.member_channels(uow.conn, list(dict.fromkeys(members)),
                                                                  kind)).items():
            chosen[(kind, member_id)] = channels
    cols: tuple[list, ...] = ([], [], [], [], [], [], [], [], [], [])
    for env, n, headers in items:
        spec = templates.current(n.template)
        for channel in (n.channels if n.channels is not None else chosen[(n.template, n.member_id)]):
            for col, value in zip(cols, (env.id, env.type, n.member_id, channel, spec.name, spec.version, n.context,
                                         pg_path(n.org_path), n.campaign_id, headers)):
                col.append(value)
    if not cols[0]:
        return 0
    row = await uow.conn.fetchrow(_CREATE_FOR_MEMBERS, *cols)
    # A channel the member's current contact has no address for: settled now, not failed.
    if row["members"]:
        await settle_unaddressable(uow, row["members"])
    return row["created"]


async def create_for_bots(uow: UnitOfWork, items: list[Item], templates: TemplateRegistry) -> int:
    """Group-chat copies of member notices (same items as `create_for_events`): one `webhook`
    delivery per subscribed bot of the nearest unit on the member's path that has one, once per
    event × bot, each with its event's trace context. One statement for the whole batch.
    Returns how many deliveries were new."""
    if not items:
        return 0
    specs = [templates.current(n.template) for _, n, _ in items]
    return await uow.conn.fetchval(
        _CREATE_FOR_BOTS, [env.id for env, _, _ in items], [env.type for env, _, _ in items],
        [n.member_id for _, n, _ in items], [s.name for s in specs], [s.version for s in specs],
        [n.context for _, n, _ in items], [pg_path(n.org_path) for _, n, _ in items],
        [headers for _, _, headers in items])


async def tell_employers(uow: UnitOfWork, env: Envelope, notice: EmployerNotice, extra: dict,
                         templates: TemplateRegistry) -> int:
    """One e-mail per employer of `notice` (domain.collective_contracts.EmployerNotice), once per
    event × employer. One whose side notify has no address for waits for it, then is not
    deliverable (like a member without a contact): a union's offer still goes on paper."""
    spec = templates.current(notice.template)
    rows = await uow.conn.fetch(_CREATE_FOR_EMPLOYERS, env.id, env.type, notice.org_path, spec.name, spec.version,
                                notice.context | extra, current_trace_headers(), notice.employer_ids)
    return len(rows)

async def tell_officers(uow: UnitOfWork, env: Envelope, notice: domain.OfficerNotice,
                        templates: TemplateRegistry) -> int:
    """One delivery per officer the notice reaches (queries.recipients) × channel of their
    directory entry (e-mail, in-app), once per event × officer × channel: an officer reached
    twice by one event (both sides of a transfer) gets one message."""
    ids, channels = [], []
    for officer in await queries.recipients(uow.conn, notice):
        for channel in domain.officer_channels(officer):
            ids.append(officer.id)
            channels.append(channel)
    if not ids:
        return 0
    spec = templates.current(notice.template)
    rows = await uow.conn.fetch(_CREATE_FOR_OFFICERS, env.id, env.type, notice.subject_member_id, notice.org_path,
                                spec.name, spec.version, notice.context, current_trace_headers(), ids, channels)
    return len(rows)
