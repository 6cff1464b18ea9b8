"""notify's gauges, computed when `/metrics` is scraped (see unionops.scrape; query in
queries.gauge_rows): the delivery queue per channel, the dead letters, the campaign fan-outs still
running."""
from __future__ import annotations

from notify import queries
from unionops import metrics


async def probe(runtime) -> None:
    async with runtime.pool.acquire() as conn:
        rows = await queries.gauge_rows(conn)
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
