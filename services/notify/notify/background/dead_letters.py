"""Dead letters of failed deliveries: the `delivery_dlq` rows (written with each failure by
commands.settlement) published to `notify.delivery.v1.dlq` by the dispatcher's rounds."""
from __future__ import annotations

import json

import asyncpg

from notify.commands.settlement import DLQ_TOPIC
from unionops.unit_of_work import UnitOfWork


async def publish(pool: asyncpg.Pool, producer, *, batch_size: int = 100) -> int:
    """Publish unpublished dead letters to DLQ_TOPIC (key: delivery id; the failure in headers),
    then stamp them. At least once: a crash between the broker's ack and the stamp publishes a
    row again with the same key, which a DLQ reader folds."""
    async with UnitOfWork.begin(pool) as uow:
        conn = uow.conn
        rows = await conn.fetch(
            "SELECT delivery_id, reason, error, attempts, payload, created_at FROM delivery_dlq"
            " WHERE published_at IS NULL ORDER BY created_at LIMIT $1", batch_size)
        if not rows:
            return 0
        for r in rows:
            headers = [("dlq_reason", r["reason"].encode()), ("dlq_error", (r["error"] or "").encode()),
                       ("dlq_attempts", str(r["attempts"]).encode()), ("dlq_channel", r["payload"]["channel"].encode()),
                       ("dlq_source_event_id", r["payload"]["source_event_id"].encode()),
                       ("dlq_failed_at", r["payload"]["failed_at"].encode())]
            await producer.send_and_wait(DLQ_TOPIC, json.dumps(r["payload"], ensure_ascii=False).encode(),
                                         key=str(r["delivery_id"]).encode(), headers=headers)
        await conn.execute("UPDATE delivery_dlq SET published_at = now() WHERE delivery_id = ANY($1::uuid[])",
                           [r["delivery_id"] for r in rows])
        return len(rows)
