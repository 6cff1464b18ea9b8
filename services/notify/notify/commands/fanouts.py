"""Campaign fan-out: one event, every member of a subtree (100,000 is normal for a city-wide
送温暖). The consumer only records a `fanouts` row (exactly once: its key is the event id) in its
own transaction (`start`); the background worker then creates the deliveries chunk by chunk
(`next_chunk`):

- keyset pagination over the members projection by member_id (`member_id > cursor ORDER BY
  member_id LIMIT chunk`), so each chunk costs the same however far the fan-out got;
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
SELECT source_event_id, source_event_type, org_id, template, cursor FROM fanouts
WHERE status = 'running' ORDER BY started_at LIMIT 1 FOR UPDATE SKIP LOCKED
"""

_CHUNK = """
SELECT member_id FROM members
WHERE org_path @> ARRAY[$1]::uuid[] AND left_on IS NULL AND ($2::uuid IS NULL OR member_id > $2)
ORDER BY member_id LIMIT $3
"""

_INSERT = """
INSERT INTO deliveries (id, source_event_id, source_event_type, member_id, recipient_kind, recipient_id,
                        org_path, channel, template, template_version, context, trace_headers)
SELECT gen_random_uuid(), f.source_event_id, f.source_event_type, m.member_id, 'member', m.member_id,
       m.org_path, u.channel, f.template, f.template_version, f.context, f.trace_headers
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
    ids = [r["member_id"] for r in await conn.fetch(_CHUNK, fanout["org_id"], fanout["cursor"], chunk_size)]
    created = 0
    if ids:
        chosen = await queries.member_channels(conn, ids, fanout["template"])
        members, channels = [], []
        for member_id in ids:
            for channel in chosen[member_id]:
                members.append(member_id)
                channels.append(channel)
        status = await conn.execute(_INSERT, fanout["source_event_id"], members, channels)
        created = int(status.rsplit(" ", 1)[-1])
        await settle_unaddressable(uow, ids)  # no address on a channel: not deliverable
    finished = len(ids) < chunk_size
    await conn.execute(_ADVANCE, fanout["source_event_id"], ids[-1] if ids else fanout["cursor"], len(ids),
                       created, finished)
    return Chunk(fanout["source_event_id"], len(ids), finished)


async def start(uow: UnitOfWork, env, *, org_id, org_path, template: str, template_version: int,
                context: dict, trace_headers: dict) -> bool:
    """In the consumer's transaction: record a fan-out to every member under `org_id`. False
    when this event's fan-out exists already."""
    status = await uow.conn.execute(
        "INSERT INTO fanouts (source_event_id, source_event_type, org_id, org_path, template, template_version,"
        " context, trace_headers, members_total)"
        " SELECT $1, $2, $3, $4, $5, $6, $7, $8,"
        " (SELECT count(*) FROM members WHERE org_path @> ARRAY[$3]::uuid[] AND left_on IS NULL)"
        " ON CONFLICT (source_event_id) DO NOTHING",
        env.id, env.type, org_id, org_path, template, template_version, context, trace_headers)
    return status.endswith(" 1")
