"""HTTP API of the special assistance funds (专项帮扶资金) and their ledger."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.clock import local_today
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep
from unionops.inputs import MAX_YEAR, MIN_YEAR, PositiveFen, Seq, UnitName, Year
from welfare.api.bodies import AmountFen, ListQuery, Money, Page
from welfare.commands import funds
from welfare.domain.funds import CreateFund
from welfare.queries import funds as queries
from welfare.settings import Settings

router = APIRouter(tags=["funds"])


class FundIn(Body):
    org_id: uuid.UUID = Field(description="the unit holding the fund")
    name: UnitName = Field(min_length=2, max_length=100, examples=["2026年专项帮扶资金"])
    year: Year
    parent_fund_id: uuid.UUID | None = Field(None, description="the fund it is allocated from; none for the city's "
                                                               "root fund (federation_admin only)")


class BudgetIn(Body):
    amount_fen: PositiveFen = AmountFen
    reason: str | None = Field(None, max_length=500, examples=["市财政2026年帮扶专项预算"])


class AllocationIn(Body):
    to_fund_id: uuid.UUID
    amount_fen: PositiveFen = AmountFen
    reason: str | None = Field(None, max_length=500)


class BalanceOut(BaseModel):
    allocated: Money
    available: Money
    committed: Money
    disbursed: Money


class FundOut(BaseModel):
    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str | None
    name: str
    year: int
    parent_fund_id: uuid.UUID | None
    created_by: str
    created_at: datetime
    balance: BalanceOut


class EntryOut(BaseModel):
    id: uuid.UUID
    seq: int
    kind: str
    amount_fen: int
    amount: Money
    counterpart_fund_id: uuid.UUID | None
    counterpart_fund_name: str | None
    commitment_id: uuid.UUID | None
    case_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    campaign_name: str | None
    reverses_entry_id: uuid.UUID | None
    reversed_kind: str | None
    approver: str | None
    actor: str
    reason: str | None
    created_at: datetime


class AuditFund(BaseModel):
    id: uuid.UUID
    name: str
    org_id: uuid.UUID
    year: int


class AuditOut(BaseModel):
    fund: AuditFund
    from_: date = Field(alias="from")
    to: date
    opening_balance: BalanceOut
    closing_balance: BalanceOut
    totals: dict[str, Money]
    movement_count: int
    movements: list[EntryOut]


@router.post("/funds", status_code=201, response_model=FundOut, summary="Create a fund for a unit in scope (设立专项资金)")
async def create_fund(body: FundIn, commands: CommandsDep, principal: Principal = Depends(requires("write")),
                      idempotency_key: str | None = Header(None)):
    cmd = CreateFund(org_id=body.org_id, name=body.name, year=body.year, parent_fund_id=body.parent_fund_id)
    return await commands.create(lambda uow: funds.create_fund(uow, cmd, principal), subject=principal.subject,
                                 key=idempotency_key, payload=body.model_dump(mode="json"))


@router.post("/funds/{fund_id}/budget", status_code=201, summary="Credit a root fund from the budget (预算注资, admin)")
async def credit_budget(fund_id: uuid.UUID, body: BudgetIn, commands: CommandsDep,
                        principal: Principal = Depends(requires("admin")), idempotency_key: str | None = Header(None)):
    return await commands.create(
        lambda uow: funds.credit_budget(uow, fund_id, body.amount_fen, principal, body.reason, today=local_today()),
        subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.post("/funds/{fund_id}/allocations", status_code=201, summary="Allocate to a child fund (拨付)")
async def allocate(fund_id: uuid.UUID, body: AllocationIn, commands: CommandsDep,
                   principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    return await commands.create(
        lambda uow: funds.allocate(uow, fund_id, body.to_fund_id, body.amount_fen, principal, body.reason,
                                   today=local_today()),
        subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


class FundListQuery(ListQuery):
    year: int | None = Field(None, ge=MIN_YEAR, le=MAX_YEAR)
    unit: uuid.UUID | None = Field(None, description="只看该单位及其下级单位的资金")
    sort: Literal[tuple(queries.FUND_ORDERS)] = Field("-year", description="-year 最新年度在前, unit 按单位,"
                                                      " -available 可用余额最多在前")


@router.get("/funds", response_model=Page[FundOut], summary="Funds of the caller's subtree with their balances, paged")
async def list_funds(db: PoolDep, q: Annotated[FundListQuery, Query()],
                     principal: Principal = Depends(requires("read"))):
    return await queries.list_funds(db, principal, year=q.year, unit=q.unit, sort=q.sort, limit=q.limit,
                                    offset=q.offset)


@router.get("/funds/{fund_id}", response_model=FundOut, summary="A fund and its balances")
async def get_fund(fund_id: uuid.UUID, db: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.fund(db, fund_id, principal)


@router.get("/funds/{fund_id}/ledger", response_model=list[EntryOut], summary="The fund's ledger entries, in order")
async def get_ledger(fund_id: uuid.UUID, db: PoolDep, after_seq: Seq = 0,
                     limit: int = Query(500, ge=1, le=5000), principal: Principal = Depends(requires("read"))):
    return await queries.fund_ledger(db, fund_id, principal, after_seq=after_seq, limit=limit)


@router.get("/funds/{fund_id}/audit", response_model=AuditOut, response_model_by_alias=True,
            summary="经审 report: every movement of a period with its case, campaign and approver",
            responses={200: {"content": {"text/csv": {}}}})
async def audit(fund_id: uuid.UUID, db: PoolDep, settings: SettingsDep[Settings],
                from_: date = Query(alias="from"), to: date = Query(),
                format: Literal["json", "csv"] = "json", principal: Principal = Depends(requires("read"))):
    report = await queries.fund_audit(db, fund_id, principal, from_, to, settings.welfare_timezone)
    if format == "json":
        return report
    name = f"audit-{fund_id}-{from_}-{to}.csv"
    return Response(queries.audit_csv(report), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
