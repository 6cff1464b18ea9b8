"""The on-call API every service carries (included by unionops.service.create_app): its status at a
glance, its dead letters (unionops.deadletters), replaying its outbox for a time range or topic,
and the audit of what operators did. Only a federation admin of the city root may call it: dead
letters hold events of the whole federation."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from unionops import audit, deadletters
from unionops.auth import Principal, requires, root_org_id
from unionops.bodies import Body
from unionops.problems import Problem
from unionops.relay import OutboxRelay

router = APIRouter(prefix="/admin", tags=["on call"])

DeadLetterId = Path(ge=1, le=2**62, description="死信编号")
Topic = Field(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$", description="主题")
Reason = Field(min_length=2, max_length=500, description="原因（记入审计）")


async def operator(request: Request, principal: Principal = Depends(requires("admin"))) -> Principal:
    """A federation admin whose scope is the whole city."""
    principal.require_scope([root_org_id(request.app.state.runtime.settings.city_region_code)])
    return principal


def _runtime(request: Request):
    return request.app.state.runtime


# ---- status ----------------------------------------------------------------------------------

class OutboxStatus(BaseModel):
    backlog: int = Field(description="尚未被 broker 确认的事件数")
    oldest_unpublished_seconds: float | None = Field(description="最早未发布事件的等待秒数")
    relay_leader: bool = Field(description="本副本是否持有 relay")


class StatusOut(BaseModel):
    service: str
    outbox: OutboxStatus
    dead_letters_pending: dict[str, int] = Field(description="每个消费者待处理的死信数")
    consumers: list[str]
    queues: dict[str, int] = Field(description="服务自己的队列（如 notify 的待投递数）")


@router.get("/status", response_model=StatusOut, summary="本服务的积压、死信与队列")
async def status(request: Request, _: Principal = Depends(operator)):
    rt = _runtime(request)
    async with rt.pool.acquire() as conn:
        backlog = await OutboxRelay.backlog(rt.pool)
        oldest = await conn.fetchval(
            "SELECT extract(epoch FROM now() - min(occurred_at))::float8 FROM outbox WHERE published_at IS NULL")
        pending = await deadletters.pending_counts(conn)
        queues: dict[str, int] = {}
        # A service's own queues (notify: deliveries): {name: SQL returning one count}.
        for name, sql in rt.status_queries.items():
            queues[name] = int(await asyncio.wait_for(conn.fetchval(sql), 5) or 0)
    return StatusOut(
        service=rt.name,
        outbox=OutboxStatus(backlog=backlog, oldest_unpublished_seconds=oldest,
                            relay_leader=bool(rt.relay and rt.relay.is_leader)),
        dead_letters_pending={c.name: pending.get(c.name, 0) for c in rt.consumers} | pending,
        consumers=[c.name for c in rt.consumers],
        queues=queues,
    )


# ---- dead letters ----------------------------------------------------------------------------

Status = Literal["pending", "replayed", "discarded"]


class DeadLetterOut(BaseModel):
    id: int
    consumer: str
    event_id: uuid.UUID | None
    event_type: str | None
    topic: str
    partition: int
    offset: int
    error: str = Field(description="失败原因（个人信息已隐去）")
    status: Status
    replay_attempts: int
    dead_lettered_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


class DeadLetterPage(BaseModel):
    total: int
    items: list[DeadLetterOut]


class DeadLetterDetail(DeadLetterOut):
    key: str | None
    headers: dict[str, str]
    payload: Any = Field(description="事件内容：姓名、电话、邮箱、证件号已遮盖，自由文本隐去，密封字段保持密封")


class OutcomeOut(BaseModel):
    id: int
    status: Status
    outcome: Literal["replayed", "already_replayed", "failed", "discarded", "already_discarded"]
    error: str | None = None


class ReplayAllOut(BaseModel):
    replayed: int
    failed: int
    outcomes: list[OutcomeOut]


class ReplayBody(Body):
    reason: str | None = Field(None, min_length=2, max_length=500, description="原因（记入审计）")


class ReplayAllBody(ReplayBody):
    consumer: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    topic: str | None = Topic
    limit: int = Field(1000, ge=1, le=10000, strict=True, description="最多重放条数")


class DiscardBody(Body):
    reason: str = Reason


@router.get("/dead-letters", response_model=DeadLetterPage, summary="死信列表")
async def list_dead_letters(
    request: Request, status: Status | None = Query("pending"),
    consumer: str | None = Query(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$"),
    topic: str | None = Query(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$"),
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10**9),
    _: Principal = Depends(operator),
):
    async with _runtime(request).pool.acquire() as conn:
        total, items = await deadletters.listing(conn, status=status, consumer=consumer, topic=topic,
                                                 limit=limit, offset=offset)
    return {"total": total, "items": items}


@router.get("/dead-letters/{dead_letter_id}", response_model=DeadLetterDetail, summary="查看一条死信")
async def show_dead_letter(request: Request, dead_letter_id: int = DeadLetterId, _: Principal = Depends(operator)):
    async with _runtime(request).pool.acquire() as conn:
        return await deadletters.inspect(conn, dead_letter_id)


def _consumers(request: Request) -> dict:
    return {c.name: c for c in _runtime(request).consumers}


@router.post("/dead-letters/{dead_letter_id}/replay", response_model=OutcomeOut,
             responses={409: {"description": "重放仍失败，或该死信已丢弃"}}, summary="修复原因后重放一条死信")
async def replay_dead_letter(request: Request, body: ReplayBody | None = None, dead_letter_id: int = DeadLetterId,
                             principal: Principal = Depends(operator)):
    """Idempotent by design (no Idempotency-Key): a second replay answers `already_replayed`."""
    outcome = await deadletters.replay(_runtime(request).pool, _consumers(request), dead_letter_id,
                                       actor=principal, reason=body.reason if body else None)
    if outcome.outcome == "failed":
        raise Problem(409, f"重放仍失败，死信保留：{outcome.error}", type_="/problems/dead-letter-replay-failed")
    return outcome.__dict__


@router.post("/dead-letters/replay", response_model=ReplayAllOut, summary="重放全部待处理死信（可按消费者或主题）")
async def replay_dead_letters(request: Request, body: ReplayAllBody, principal: Principal = Depends(operator)):
    outcomes = await deadletters.replay_pending(
        _runtime(request).pool, _consumers(request), consumer=body.consumer, topic=body.topic, actor=principal,
        reason=body.reason, limit=body.limit)
    return {"replayed": sum(o.outcome == "replayed" for o in outcomes),
            "failed": sum(o.outcome == "failed" for o in outcomes),
            "outcomes": [o.__dict__ for o in outcomes]}


@router.post("/dead-letters/{dead_letter_id}/discard", response_model=OutcomeOut,
             responses={409: {"description": "该死信已重放"}}, summary="丢弃一条死信（须说明原因）")
async def discard_dead_letter(request: Request, body: DiscardBody, dead_letter_id: int = DeadLetterId,
                              principal: Principal = Depends(operator)):
    outcome = await deadletters.discard(_runtime(request).pool, dead_letter_id, actor=principal, reason=body.reason)
    return outcome.__dict__


# ---- outbox replay ---------------------------------------------------------------------------

class OutboxReplayBody(Body):
    topic: str | None = Topic
    since: AwareDatetime = Field(description="起（含），带时区")
    until: AwareDatetime = Field(description="止（不含），带时区")
    dry_run: bool = Field(True, strict=True, description="默认只数不改；false 才真的重发")
    reason: str | None = Field(None, min_length=2, max_length=500, description="原因（真的重发时必填，记入审计）")

    @model_validator(mode="after")
    def _range(self):
        if self.since >= self.until:
            raise ValueError("since 须早于 until")
        if not self.dry_run and not self.reason:
            raise ValueError("重发须填写 reason")
        return self


class OutboxReplayOut(BaseModel):
    dry_run: bool
    events: int = Field(description="将重发（dry_run）或已标记重发的已发布事件数")
    retained_since: datetime | None = Field(description="outbox 仍保留的最早已发布事件的时间：更早的无法重发")


@router.post("/outbox/replay", response_model=OutboxReplayOut,
             summary="把一段时间（可限一个主题）内已发布的事件重新发布（消费者会去重）")
async def replay_outbox(request: Request, body: OutboxReplayBody, principal: Principal = Depends(operator)):
    rt = _runtime(request)
    where = ("published_at IS NOT NULL AND occurred_at >= $1 AND occurred_at < $2"
             " AND ($3::text IS NULL OR topic = $3)")
    args = (body.since, body.until, body.topic)
    async with rt.pool.acquire() as conn, conn.transaction():
        retained = await conn.fetchval("SELECT min(occurred_at) FROM outbox WHERE published_at IS NOT NULL")
        if body.dry_run:
            n = await conn.fetchval(f"SELECT count(*) FROM outbox WHERE {where}", *args)
        else:
            n = await conn.fetchval(
                f"WITH r AS (UPDATE outbox SET published_at = NULL, next_attempt_at = now() WHERE {where}"
                " RETURNING 1) SELECT count(*) FROM r", *args)
            await conn.execute("SELECT pg_notify('outbox', '')")  # wakes the relay at commit
            await audit.record(conn, principal, "outbox.replay",
                               f"outbox:{body.topic or '*'}:{body.since.isoformat()}..{body.until.isoformat()}",
                               body.reason, "marked", {"events": n, "topic": body.topic})
    return {"dry_run": body.dry_run, "events": n, "retained_since": retained}


# ---- audit -----------------------------------------------------------------------------------

class ActionOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_name: str
    action: str
    target: str
    reason: str | None
    outcome: str
    detail: dict[str, Any]


@router.get("/actions", response_model=list[ActionOut], summary="运维操作审计（最新在前）")
async def list_actions(
    request: Request, action: str | None = Query(None, min_length=1, max_length=100, pattern=r"^[a-z_.]+$"),
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10**9),
    _: Principal = Depends(operator),
):
    async with _runtime(request).pool.acquire() as conn:
        return await audit.recent(conn, action=action, limit=limit, offset=offset)
