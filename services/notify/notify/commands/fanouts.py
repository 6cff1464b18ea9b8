"""Campaign fan-out: one event, the members of a subtree it concerns — every member (audience
'members'), or for a campaign the households with an open hardship file of a level the campaign
pays (audience 'households', notify's hardship_files projection: a city of 1,000,000 members is
walked over its few ten thousand open files, never over its members). The consumer only records a `fanouts` row (exactly once: its key is the event id) in its
own transaction (`start`); the background worker then creates the deliveries chunk by chunk
(`next_chunk`):

- keyset pagination by member_id (`member_id > cursor ORDER BY member_id LIMIT chunk`) over the
  members projection, or over the open hardship files joined to it, so each chunk costs the same
  however far the fan-out got;
- per chunk: the chunk's member ids (at most `chunk` uuids in memory), one `channels_for` for
  them, one INSERT … SELECT of the deliveries (context and template from the fanouts row, never
  copied through Python) and the cursor/progress update — one transaction, so a crash between
  chunks resumes at the cursor and a chunk re-run creates nothing twice (unique key);
- replicas take different fan-outs (`FOR UPDATE SKIP LOCKED` on the fanouts row).

Members who join after the launch and sort after the cursor are included; those who sort before
it are not (they were not members when the campaign was announced). Members who left are not."""
from __future__ import annotations

from dataclasses import dataclass

from notify import queries
from notify.commands.settlement import settle_unaddressable
from unionops.unit_of_work import UnitOfWork

_TAKE = """
SELECT source_event_id, source_event_type, org_id, template, cursor, audience, levels FROM fanouts
WHERE status = 'running' ORDER BY started_at LIMIT 1 FOR UPDATE SKIP LOCKED
"""

# The audience of a fan-out, as member ids: $1 unit, $2 levels (households; NULL: any level —
# every member has no levels).
_AUDIENCE = {
    "members": """
SELECT member_id FROM members WHERE org_path @> ARRAY[$1]::uuid[] AND left_on IS NULL AND $2::text[] IS NULL""",
    "households": """
SELECT DISTINCT f.member_id FROM hardship_files f JOIN members m ON m.member_id = f.member_id
WHERE f.open AND ($2::text[] IS NULL OR f.level = ANY($2)) AND m.org_path @> ARRAY[$1]::uuid[]
  AND m.left_on IS NULL""",
}

# One chunk of the audience after the cursor ($3), $4 at most.
_CHUNK = {audience: f"SELECT member_id FROM ({sql}) a WHERE $3::uuid IS NULL OR member_id > $3"
                    " ORDER BY member_id LIMIT $4" for audience, sql in _AUDIENCE.items()}

_INSERT = """
INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, recipient_kind, recipient_id,
                        org_path, channel, template, template_version, context, trace_headers, campaign_id)
SELECT gen_random_uuid(), f.source_event_id, f.source_event_type, m.member_id, 'member', m.member_id,
       m.org_path, u.channel, f.template, f.template_version, f.context, f.trace_headers, f.campaign_id
FROM unnest($2::uuid[], $3::text[]) AS u(member_id, channel)
JOIN members m ON m.member_id = u.member_id
JOIN fanouts f ON f.source_event_id = $1
ON CONFLICT (source_event_id, recipient_kind, recipient_id, channel) DO NOTHING
"""

_ADVANCE = """
UPDATE fanouts SET cursor = $2, members_done = members_done + $3, created = created + $4,
       status = CASE WHEN $5 THEN 'done' ELSE status END,
       finished_at = CASE WHEN $5 THEN now() ELSE finished_at END
WHERE source_event_id = $1
"""


@dataclass(frozen=True)
class Chunk:
    source_event_id: object
    members: int      # members gone past in this chunk
    finished: bool    # the fan-out is done


async def next_chunk(uow: UnitOfWork, chunk_size: int) -> Chunk | None:
    """Create one chunk of one running fan-out; None when none is running."""
    conn = uow.conn
    fanout = await conn.fetchrow(_TAKE)
    if fanout is None:
        return None
    ids = [r["member_id"] for r in await conn.fetch(_CHUNK[fanout["audience"]], fanout["org_id"], fanout["levels"],
                                                    fanout["cursor"], chunk_size)]
    created = await _deliver(uow, fanout["source_event_id"], fanout["template"], ids)
    finished = len(ids) < chunk_size
    await conn.execute(_ADVANCE, fanout["source_event_id"], ids[-1] if ids else fanout["cursor"], len(ids),
                       created, finished)
    return Chunk(fanout["source_event_id"], len(ids), finished)


async def _deliver(uow: UnitOfWork, source_event_id, template: str, ids: list) -> int:
    """The fan-out's deliveries to these members, on each one's channels; how many were new."""
    if not ids:
        return 0
    conn = uow.conn
    chosen = await queries.member_channels(conn, ids, template)
    members, channels = [], []
    for member_id in ids:
        for channel in chosen[member_id]:
            members.append(member_id)
            channels.append(channel)
    status = await conn.execute(_INSERT, source_event_id, members, channels)
    await settle_unaddressable(uow, ids)  # no address on a channel: not deliverable
    return int(status.rsplit(" ", 1)[-1])


async def start(uow: UnitOfWork, env, *, org_id, org_path, template: str, template_version: int,
                context: dict, trace_headers: dict, audience: str = "members", levels: list[str] | None = None,
                campaign_id=None) -> bool:
    """In the consumer's transaction: record a fan-out to the `audience` under `org_id`. False
    when this event's fan-out exists already."""
    total = await uow.conn.fetchval(f"SELECT count(*) FROM ({_AUDIENCE[audience]}) a", org_id, levels)
    status = await uow.conn.execute(
        "INSERT INTO fanouts (source_event_id, source_event_type, org_id, org_path, template, template_version,"
        " context, trace_headers, audience, levels, campaign_id, members_total)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (source_event_id) DO NOTHING",
        env.id, env.type, org_id, org_path, template, template_version, context, trace_headers, audience, levels,
        campaign_id, total)
    return status.endswith(" 1")


async def include(uow: UnitOfWork, campaign_id, member_ids: list) -> int:
    """The campaign's start notice to these members now, whether or not its fan-out reached them
    yet (their payment is about to be told; a file opened after the launch is told too). Nothing
    when notify has not seen the campaign's launch: its handler includes them then. Once per
    member and channel (the fan-out's own key)."""
    fanout = await uow.conn.fetchrow("SELECT source_event_id, template FROM fanouts WHERE campaign_id = $1",
                                     campaign_id)
    if fanout is None:
        return 0
    return await _deliver(uow, fanout["source_event_id"], fanout["template"], list(dict.fromkeys(member_ids)))
