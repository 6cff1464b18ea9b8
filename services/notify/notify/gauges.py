"""notify's gauges, computed when `/metrics` is scraped (see unionops.scrape): the delivery
queue per channel, the dead letters, the campaign fan-outs still running. One query, served by
the partial indexes on pending, sending, unpublished dead letters and running fan-outs; the
dead-letter count reads delivery_dlq, which holds failed deliveries only."""
from __future__ import annotations

from unionops import metrics

_QUERY = """
SELECT 'queue' AS part, channel AS k1, status AS k2, count(*)::float8 AS n,
       coalesce(extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE status = 'pending'
                                                                      AND next_attempt_at <= now())), 0)::float8 AS age
FROM deliveries WHERE status IN ('pending', 'sending') GROUP BY channel, status
UNION ALL
SELECT 'dlq', reason, (published_at IS NOT NULL)::text, count(*), 0 FROM delivery_dlq GROUP BY 2, 3
UNION ALL
SELECT 'fanout', NULL, NULL, count(*), coalesce(sum(greatest(members_total - members_done, 0)), 0)
FROM fanouts WHERE status = 'running'
"""


async def probe(runtime) -> None:
    rows = await runtime.pool.fetch(_QUERY)
    queue = {(c, s): 0.0 for c in metrics.NOTIFY_CHANNELS for s in ("pending", "sending")}
    age = {(c,): 0.0 for c in metrics.NOTIFY_CHANNELS}
    dlq: dict[tuple, float] = {}
    for r in rows:
        if r["part"] == "queue":
            queue[(r["k1"], r["k2"])] = r["n"]
            if r["k2"] == "pending":
                age[(r["k1"],)] = max(r["age"], 0.0)
        elif r["part"] == "dlq":
            dlq[(r["k1"], r["k2"])] = r["n"]
        else:
            metrics.notify_fanouts_running.set(r["n"])
            metrics.notify_fanout_members_left.set(r["age"])
    metrics.notify_pending.replace(queue)
    metrics.notify_pending_oldest_age.replace(age)
    metrics.notify_dlq.replace(dlq or {("", "false"): 0.0})
