"""Progress of a campaign fan-out: how many members were in scope, how far the worker got,
and the deliveries by status."""
from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from notify import fanout
from unionops.auth import Principal, requires
from unionops.problems import Problem

router = APIRouter(tags=["fanouts"])


class FanoutOut(BaseModel):
    source_event_id: uuid.UUID
    source_event_type: str
    org_id: uuid.UUID
    template: str
    status: str
    total: int            # members in scope when the event arrived
    members_done: int     # members the worker has gone past
    created: int          # deliveries created (member × channel)
    pending: int
    sending: int
    delivered: int
    failed: int
    undeliverable: int    # no address on the channel: not a failure
    started_at: datetime
    finished_at: datetime | None


@router.get("/fanouts/{source_event_id}", response_model=FanoutOut,
            summary="Progress of the fan-out of one event (e.g. CampaignLaunched)")
async def get_fanout(source_event_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    async with request.app.state.runtime.pool.acquire() as conn:
        row = await fanout.progress(conn, source_event_id)
    if row is None or not principal.covers(row["org_path"]):
        raise Problem(404, "群发任务不存在或不在您的管辖范围内")
    return {**row, "total": row["members_total"]}
