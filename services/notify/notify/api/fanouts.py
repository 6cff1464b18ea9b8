"""Progress of a campaign fan-out: how many members were in scope, how far the worker got,
and the deliveries by status."""
from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from notify import queries
from unionops.auth import Principal, requires
from unionops.dependencies import PoolDep

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
async def get_fanout(source_event_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    row = await queries.fanout(pool, source_event_id, principal)
    return {**row, "total": row["members_total"]}
