"""HTTP API of visits (走访慰问, 五必访)."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field

from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep, VaultDep
from unionops.inputs import fen, PersonName
from welfare.api.dependencies import Today
from welfare.commands import visits
from welfare.queries import visits as queries
from welfare.settings import Settings

router = APIRouter(tags=["visits"])

VisitKind = Literal["sick_or_hospitalised", "bereaved", "in_hardship", "family_change", "major_event", "other"]


class VisitIn(Body):
    member_id: uuid.UUID
    kind: VisitKind = Field(description="五必访: sick_or_hospitalised 生病住院, bereaved 直系亲属去世, in_hardship 生活困难,"
                                        " family_change 家庭变故, major_event 婚育等重大事项, other 其他")
    visited_on: date
    visitors: list[Annotated[PersonName, Field(min_length=1, max_length=50)]] = Field(min_length=1, max_length=20, description="走访人")
    notes: str = Field(min_length=1, max_length=4000, description="走访情况（敏感，加密存储）")
    gift_fen: fen(le=100_000_000) | None = Field(None, description="慰问金/慰问品价值（分），从 fund_id 支出")
    fund_id: uuid.UUID | None = Field(None, description="慰问金支出的专项资金（有慰问金时必填）")


class VisitOut(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    union_id: uuid.UUID
    kind: VisitKind
    kind_label: str
    visited_on: date
    visitors: list[str]
    gift_fen: int | None
    fund_id: uuid.UUID | None = None
    ledger_entry_id: uuid.UUID | None = Field(None, description="慰问金的支出分录")
    recorded_by: str
    recorded_at: datetime


class VisitDetailOut(VisitOut):
    notes: str | None = Field(description="只对有写权限的工作人员显示")


@router.post("/visits", status_code=201, response_model=VisitOut, summary="Record a visit to a member (走访慰问)")
async def record_visit(body: VisitIn, commands: CommandsDep, vault: VaultDep, settings: SettingsDep[Settings],
                       today: Today, principal: Principal = Depends(requires("write")),
                       idempotency_key: str | None = Header(None)):
    notes_hash = vault.lookup_hash("visit_notes", body.notes)  # the key table never keeps the words
    payload = json.loads(body.model_dump_json()) | {"notes": notes_hash}
    return await commands.create(
        lambda uow: visits.record_visit(uow, member_id=body.member_id, kind=body.kind, visited_on=body.visited_on,
                                        visitors=body.visitors, notes=body.notes, gift_fen=body.gift_fen,
                                        actor=principal, vault=vault, today=today,
                                        max_backdate_days=settings.visit_backdate_max_days,
                                        fund_id=body.fund_id),
        subject=principal.subject, key=idempotency_key, payload=payload)


@router.get("/members/{member_id}/visits", response_model=list[VisitDetailOut],
            summary="A member's visits, newest first (notes only for staff with write permission)")
async def member_visits(member_id: uuid.UUID, db: PoolDep, vault: VaultDep,
                        principal: Principal = Depends(requires("read"))):
    return await queries.member_visits(db, member_id, principal, vault)
