"""Campaign fan-out: one event, every member of a subtree (100,000 is normal for a city-wide
送温暖). The consumer only records a `fanouts` row (exactly once: its key is the event id) in its
own transaction; this background worker then creates the deliveries chunk by chunk:

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

import asyncio
import logging

import asyncpg

from notify import deliveries
from unionops import db, metrics

log = logging.getLogger(__name__)

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


class FanoutWorker:
    def __init__(self, *, chunk_size: int = 2000, poll_interval: float = 1.0) -> None:
        self.chunk_size = chunk_size
        self.poll_interval = poll_interval
        self.chunks_total = 0
        self._wake = asyncio.Event()

    async def run(self, runtime) -> None:
        """Background task (create_app(background=[...])): until cancelled."""
        while True:
            listener = None
            try:
                listener = await db.connect(runtime.database_url)
                await listener.add_listener("fanouts", lambda *_: self._wake.set())
                while True:
                    self._wake.clear()
                    if not await self.step(runtime.pool):
                        try:
                            await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
                        except asyncio.TimeoutError:
                            pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fan-out worker failed; restarting")
                await asyncio.sleep(1.0)
            finally:
                if listener is not None and not listener.is_closed():
                    await listener.close()

    async def step(self, pool: asyncpg.Pool) -> bool:
        """Create one chunk of one running fan-out; False when none is running."""
        async with pool.acquire() as conn, conn.transaction():
            fanout = await conn.fetchrow(_TAKE)
            if fanout is None:
                return False
            ids = [r["member_id"] for r in await conn.fetch(_CHUNK, fanout["org_id"], fanout["cursor"],
                                                            self.chunk_size)]
            created = 0
            if ids:
                chosen = await deliveries.member_channels(conn, ids, fanout["template"])
                members, channels = [], []
                for member_id in ids:
                    for channel in chosen[member_id]:
                        members.append(member_id)
                        channels.append(channel)
                status = await conn.execute(_INSERT, fanout["source_event_id"], members, channels)
                created = int(status.rsplit(" ", 1)[-1])
                await deliveries.settle_unaddressable(conn, ids)  # no address on a channel: not deliverable
            finished = len(ids) < self.chunk_size
            await conn.execute(_ADVANCE, fanout["source_event_id"], ids[-1] if ids else fanout["cursor"], len(ids),
                               created, finished)
        self.chunks_total += 1
        metrics.notify_fanout_members.add(len(ids))
        if finished:
            log.info("fan-out finished", extra={"source_event_id": str(fanout["source_event_id"])})
        return True


async def start(conn: asyncpg.Connection, env, *, org_id, org_path, template: str, template_version: int,
                context: dict, trace_headers: dict) -> bool:
    """In the consumer's transaction: record a fan-out to every member under `org_id`. False
    when this event's fan-out exists already."""
    status = await conn.execute(
        "INSERT INTO fanouts (source_event_id, source_event_type, org_id, org_path, template, template_version,"
        " context, trace_headers, members_total)"
        " SELECT $1, $2, $3, $4, $5, $6, $7, $8,"
        " (SELECT count(*) FROM members WHERE org_path @> ARRAY[$3]::uuid[] AND left_on IS NULL)"
        " ON CONFLICT (source_event_id) DO NOTHING",
        env.id, env.type, org_id, org_path, template, template_version, context, trace_headers)
    return status.endswith(" 1")


async def progress(conn: asyncpg.Connection, source_event_id) -> dict | None:
    """The fan-out's counters and its deliveries by status (one index range scan)."""
    row = await conn.fetchrow(
        "SELECT f.*, d.pending, d.sending, d.delivered, d.failed, d.undeliverable FROM fanouts f,"
        " LATERAL (SELECT count(*) FILTER (WHERE status = 'pending') AS pending,"
        "                 count(*) FILTER (WHERE status = 'sending') AS sending,"
        "                 count(*) FILTER (WHERE status = 'delivered') AS delivered,"
        "                 count(*) FILTER (WHERE status = 'failed') AS failed,"
        "                 count(*) FILTER (WHERE status = 'undeliverable') AS undeliverable"
        "          FROM deliveries WHERE source_event_id = f.source_event_id) d"
        " WHERE f.source_event_id = $1", source_event_id)
    return dict(row) if row else None
