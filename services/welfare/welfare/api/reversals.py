"""HTTP API of reversals (冲正) of wrong payments: asked for with a reason, approved by a second officer."""
from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field

from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep
from welfare.api.bodies import Money
from welfare.api.dependencies import Today
from welfare.commands import reversals
from welfare.queries import reversals as queries

router = APIRouter(tags=["reversals"])


class ReversalIn(Body):
    entry_id: uuid.UUID = Field(description="the payment's ledger entry (a disbursement)")
    reason: str = Field(min_length=2, max_length=500, examples=["重复发放：同一户已由街道工会发放"],
                        description="冲正原因（必填，进入经审报告）")


class DecisionIn(Body):
    note: str | None = Field(None, max_length=500, description="审批意见")


class ReversalOut(BaseModel):
    id: uuid.UUID
    entry_id: uuid.UUID
    fund_id: uuid.UUID
    amount: Money
    reason: str
    status: str
    status_label: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    reversal_entry_id: uuid.UUID | None


@router.post("/reversals", status_code=201, response_model=ReversalOut,
             summary="Ask for the reversal (冲正) of a wrong payment; a second officer approves it")
async def request_reversal(body: ReversalIn, commands: CommandsDep, principal: Principal = Depends(requires("write")),
                           idempotency_key: str | None = Header(None)):
    return await commands.create(lambda uow: reversals.request(uow, body.entry_id, body.reason, principal),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/reversals/{reversal_id}", response_model=ReversalOut)
async def get_reversal(reversal_id: uuid.UUID, db: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.reversal(db, reversal_id, principal)


@router.post("/reversals/{reversal_id}/approve", response_model=ReversalOut,
             summary="Approve a reversal (never by who asked): the money returns to the fund (AidReversed)")
async def approve(reversal_id: uuid.UUID, commands: CommandsDep, today: Today, body: DecisionIn | None = None,
                  principal: Principal = Depends(requires("write"))):
    note = body.note if body else None
    return await commands.run(lambda uow: reversals.approve(uow, reversal_id, principal, note=note, today=today))


@router.post("/reversals/{reversal_id}/reject", response_model=ReversalOut,
             summary="Reject a reversal (never by who asked): nothing is booked")
async def reject(reversal_id: uuid.UUID, commands: CommandsDep, body: DecisionIn | None = None,
                 principal: Principal = Depends(requires("write"))):
    note = body.note if body else None
    return await commands.run(lambda uow: reversals.reject(uow, reversal_id, principal, note=note))
