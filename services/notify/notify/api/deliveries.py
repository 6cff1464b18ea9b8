"""Delivery status for staff and machine clients: deliveries in the caller's subtree."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from notify import queries
from unionops.auth import Principal, requires
from unionops.dependencies import PoolDep

router = APIRouter()

DeliveryStatus = Literal["pending", "sending", "delivered", "failed", "undeliverable"]


# Who a delivery is for: a member, an officer (directory), a group-chat bot, an employer's side.
RecipientKind = Literal["member", "officer", "bot", "employer"]


class DeliveryOut(BaseModel):
    id: uuid.UUID
    source_event_id: uuid.UUID
    source_event_type: str
    member_id: uuid.UUID | None          # None for an officer's delivery
    recipient_kind: RecipientKind = "member"
    recipient_id: uuid.UUID | None = None
    channel: str
    template: str
    template_version: int
    context: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    failure_reason: str | None           # also why an `undeliverable` one could not go (no_address)
    created_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None
    undeliverable_at: datetime | None = None  # no address on the channel: settled, not failed


@router.get("/deliveries", response_model=list[DeliveryOut], tags=["deliveries"],
            summary="Deliveries to members in the caller's subtree, newest first")
async def list_deliveries(pool: PoolDep, member_id: uuid.UUID | None = None,
                          source_event_id: uuid.UUID | None = None, status: DeliveryStatus | None = None,
                          recipient_kind: RecipientKind | None = None,
                          recipient_id: uuid.UUID | None = None,
                          limit: int = Query(100, ge=1, le=1000),
                          principal: Principal = Depends(requires("read"))):
    return await queries.deliveries(pool, principal, member_id=member_id, source_event_id=source_event_id,
                                    status=status, recipient_kind=recipient_kind, recipient_id=recipient_id,
                                    limit=limit)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryOut, tags=["deliveries"])
async def get_delivery(delivery_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.delivery(pool, delivery_id, principal)
