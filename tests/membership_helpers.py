"""Helpers for the member-lifecycle and transfer tests: units in chosen regions, employers with
valid credit codes, status changes and transfers over HTTP, and looks into the service's database."""
from __future__ import annotations

import itertools
import random
import uuid
from datetime import datetime, timezone

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from contracts.events import DomainEvent
from tests.city import auth
from unionops.envelope import Envelope

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_rng = random.Random()
# Region codes no other test uses (city.py founds everything in 510104), one per call.
_regions = itertools.count(_rng.randrange(200000, 900000))


def new_region_code() -> str:
    return f"{next(_regions):06d}"


def new_credit_code() -> str:
    """A valid unified social credit code (统一社会信用代码): 91 + area + 9-char org code + check."""
    body = "91" + "510104" + "".join(_rng.choice(_CREDIT_CHARS) for _ in range(9))
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(body, _CREDIT_WEIGHTS))
    return body + _CREDIT_CHARS[(31 - total % 31) % 31]


def create_unit(client: httpx.Client, parent_id: str, level: str, kind: str, region_code: str = "510104",
                name: str | None = None) -> str:
    name = name or f"{kind}-{uuid.uuid4().hex[:6]}"
    r = client.post("/organisations", headers=auth(), json={"parent_id": parent_id, "name": name, "level": level,
                                                            "kind": kind, "region_code": region_code})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def register_employer(client: httpx.Client, org_id: str, union_id: str | None, *, name: str | None = None,
                      credit_code: str | None = None) -> str:
    """An employer registered through the organisation API; returns its credit code."""
    credit_code = credit_code or new_credit_code()
    r = client.post("/employers", headers=auth(), json={
        "org_id": org_id, "union_id": union_id, "name": name or f"测试企业{uuid.uuid4().hex[:4]}有限公司",
        "credit_code": credit_code, "ownership": "non_public", "headcount": 120})
    assert r.status_code == 201, r.text
    return credit_code


def change_status(client: httpx.Client, member_id: str, status: str, reason: str, *, headers: dict | None = None,
                  **extra) -> httpx.Response:
    return client.post(f"/members/{member_id}/status-changes", headers=headers or auth(),
                       json={"status": status, "reason": reason, **extra})


def transfer(client: httpx.Client, member_id: str, *, headers: dict | None = None, **body) -> httpx.Response:
    body.setdefault("new_employer", "新单位有限公司")
    return client.post(f"/members/{member_id}/transfers", headers=headers or auth(), json=body)


class Database:
    """Read-only looks into the membership database, for assertions."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def fetch(self, sql: str, *args) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def fetchval(self, sql: str, *args):
        rows = await self.fetch(sql, *args)
        return rows[0][0] if rows else None

    async def events(self, member_id: str) -> list[tuple[str, str, str]]:
        """(topic, event type, payload text) staged for one member, in order."""
        rows = await self.fetch("SELECT topic, event_type, payload::text AS payload FROM outbox WHERE key = $1"
                                " ORDER BY id", str(member_id))
        return [(r["topic"], r["event_type"], r["payload"]) for r in rows]

    async def counts(self) -> dict[str, int]:
        tables = ("members", "member_file_entries", "member_transfers", "outbox")
        return {t: await self.fetchval(f"SELECT count(*) FROM {t}") for t in tables}


async def publish_as_hr_system(bootstrap: str, event: DomainEvent, *, event_id: uuid.UUID | None = None) -> uuid.UUID:
    """Publish an event the way another system would: aiokafka, CloudEvents binary-mode headers,
    JSON value, keyed by the event's key. Returns the CloudEvents id."""
    env = Envelope(id=event_id or uuid.uuid4(), type=event.event_type(), source="hr/test-payroll",
                   time=datetime.now(timezone.utc), data=event.model_dump(mode="json"), subject=event.key())
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(event.topic, env.value(), key=event.key().encode(), headers=env.kafka_headers())
    finally:
        await producer.stop()
    return env.id

