"""HTTP API of the seasonal campaigns (送温暖, 金秋助学, 中秋国庆慰问, 送清凉)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep
from unionops.inputs import MAX_YEAR, MIN_YEAR, PositiveFen
from welfare.adapters import papers
from welfare.api.bodies import AmountFen, ListQuery, Money, Page
from welfare.api.dependencies import Today
from welfare.commands import campaigns
from welfare.domain.campaigns import NOT_PAID_REASONS, LaunchCampaign
from welfare.queries import campaigns as queries, rosters
from welfare.settings import Settings

router = APIRouter(tags=["campaigns"])

CampaignKind = Literal["spring_festival", "golden_autumn", "mid_autumn", "summer_cooling", "other"]
Level = Literal["deep", "relative", "accident"]
Allocation = Literal["by_level", "pro_rata", "cap"]
ALLOCATION_HELP = ("how a budget short of the need is shared: by_level 深度困难、意外致困、相对困难 in turn until it is"
                   " spent; pro_rata every household the same share of its amount; cap at most household_cap_fen each."
                   " Without one a shortfall is refused (409 budget-shortfall, with the need)")


class CampaignIn(Body):
    name: str = Field(min_length=2, max_length=100, examples=["2026年春节送温暖"])
    kind: CampaignKind = Field(description="spring_festival 送温暖, golden_autumn 金秋助学, mid_autumn 中秋国庆慰问,"
                                           " summer_cooling 送清凉")
    org_id: uuid.UUID = Field(description="the organising unit; its subtree's hardship files are paid")
    fund_id: uuid.UUID
    budget_fen: PositiveFen = AmountFen
    level_amounts: dict[Level, PositiveFen] = Field(
        min_length=1, description="amount per hardship level in fen: deep 深度困难, relative 相对困难, accident 意外致困",
        examples=[{"deep": 300000, "accident": 250000, "relative": 200000}])
    starts_on: date
    ends_on: date
    per_payment_cap_fen: PositiveFen | None = Field(None, description="default per kind (送温暖 ¥3,000)")
    per_person_year_cap_fen: PositiveFen | None = Field(None, description="default per kind (送温暖 ¥6,000)")
    allocation: Allocation | None = Field(None, description=ALLOCATION_HELP)
    household_cap_fen: PositiveFen | None = Field(None, description="the cap per household, with allocation cap")


class RunIn(Body):
    run_on: date | None = Field(None, description="payment date; today when omitted")
    allocation: Allocation | None = Field(None, description="this run's rule instead of the campaign's; "
                                                            + ALLOCATION_HELP)
    household_cap_fen: PositiveFen | None = Field(None, description="the cap per household, with allocation cap")


class NeedOut(BaseModel):
    as_of: date = Field(description="the day eligibility is judged on")
    households: int = Field(description="eligible households (to be paid)")
    need: Money = Field(description="what they need in full")
    budget: Money
    shortfall: Money
    fits: bool


class CampaignOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    kind_label: str
    org_id: uuid.UUID
    fund_id: uuid.UUID
    commitment_id: uuid.UUID
    year: int
    budget: Money
    per_payment_cap: Money
    per_person_year_cap: Money
    level_amounts: dict[str, Money]
    starts_on: date
    ends_on: date
    status: str
    launched_by: str
    launched_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    paid: Money = Field(description="已发放（含其后冲正的）")
    paid_count: int
    # Optional: an answer kept under an Idempotency-Key before these figures existed still replays.
    reversed: Money | None = Field(None, description="其中已冲正的金额（退回专项资金，不回到活动预算）")
    reversed_count: int = Field(0, description="已冲正的笔数")
    budget_left: Money
    release_entry_id: uuid.UUID | None = None
    allocation: Allocation | None = None
    household_cap: Money | None = None
    need_at_launch: NeedOut | None = Field(None, description="in the launch's answer")


class NotPaid(BaseModel):
    file_id: uuid.UUID
    member_id: uuid.UUID
    member_name: str = Field(description="会员姓名；发放结果中及审计人员所见为脱敏姓名")
    union_id: uuid.UUID
    union_name: str
    level: str
    level_label: str
    reason: str
    reason_text: str = Field(description="未发放原因")
    wanted_fen: int | None = Field(None, description="its full amount")
    paid_fen: int | None = Field(None, description="what it was paid (0: nothing)")


class RunOut(BaseModel):
    run_id: uuid.UUID
    campaign_id: uuid.UUID
    run_on: date
    paid_count: int
    paid: Money
    not_paid_count: int
    not_paid_by_reason: dict[str, int]
    not_paid: list[NotPaid]
    budget_left: Money
    allocation: Allocation | None = Field(None, description="the rule applied; none: the budget covered everyone")
    need: NeedOut | None = None


class KindDefaultOut(BaseModel):
    kind: str
    label: str
    usual_month: int | None
    per_payment_cap: Money
    per_person_year_cap: Money


class CampaignListQuery(ListQuery):
    year: int | None = Field(None, ge=MIN_YEAR, le=MAX_YEAR)
    status: Literal["open", "closed"] | None = None
    kind: CampaignKind | None = None
    unit: uuid.UUID | None = Field(None, description="只看该单位及其下级单位主办的活动")
    sort: Literal[tuple(queries.CAMPAIGN_ORDERS)] = Field("-starts_on", description="-starts_on 最新在前, starts_on, name")


class CampaignRowOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    kind_label: str
    org_id: uuid.UUID
    org_name: str | None
    year: int
    status: str
    starts_on: date
    ends_on: date
    budget: Money = Field(description="计划（预算）")
    paid: Money
    paid_count: int = Field(description="已发放户数")
    reversed: Money = Field(description="其中已冲正的金额")
    reversed_count: int = Field(description="已冲正的笔数")
    unpaid_count: int = Field(description="历次发放未发到、其后也未补发的户数")
    paid_permille: int = Field(description="已发放金额占预算的千分比")
    budget_left: Money


class NotPaidQuery(ListQuery):
    reason: Literal[tuple(NOT_PAID_REASONS)] | None = Field(None, description="只看某一未发放原因")


@router.get("/campaign-kinds", response_model=list[KindDefaultOut], summary="Campaign kinds and their default caps")
async def campaign_kinds(db: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.campaign_kinds(db)


def _launch_command(body: CampaignIn) -> LaunchCampaign:
    return LaunchCampaign(
        name=body.name, kind=body.kind, org_id=body.org_id, fund_id=body.fund_id, budget_fen=body.budget_fen,
        level_amounts=dict(body.level_amounts), starts_on=body.starts_on, ends_on=body.ends_on,
        per_payment_cap_fen=body.per_payment_cap_fen, per_person_year_cap_fen=body.per_person_year_cap_fen,
        allocation=body.allocation, household_cap_fen=body.household_cap_fen)


@router.post("/campaigns", status_code=201, response_model=CampaignOut,
             summary="Launch a campaign; its budget is committed from the fund (CampaignLaunched)")
async def launch(body: CampaignIn, commands: CommandsDep, today: Today, principal: Principal = Depends(requires("write")),
                 idempotency_key: str | None = Header(None)):
    cmd = _launch_command(body)
    return await commands.create(lambda uow: campaigns.launch(uow, cmd, principal, today=today),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.post("/campaigns/preview", response_model=NeedOut,
             summary="What the eligible households need against the budget, before launching (writes nothing)")
async def preview(body: CampaignIn, db: PoolDep, today: Today, principal: Principal = Depends(requires("write"))):
    return await queries.preview(db, _launch_command(body), principal, today=today)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign_id: uuid.UUID, db: PoolDep, principal: Principal = Depends(requires("read"))):
    return await queries.campaign(db, campaign_id, principal)


@router.post("/campaigns/{campaign_id}/runs", status_code=201, response_model=RunOut,
             summary="Pay every eligible hardship file of the campaign's subtree at once (AidDisbursed each)")
async def run(campaign_id: uuid.UUID, commands: CommandsDep, settings: SettingsDep[Settings], today: Today,
              body: RunIn | None = None, principal: Principal = Depends(requires("write")),
              idempotency_key: str | None = Header(None)):
    body = body or RunIn()
    run_on = body.run_on or today
    return await commands.create(
        lambda uow: campaigns.run(uow, campaign_id, principal, run_on=run_on, today=today,
                                  max_backdate_days=settings.payment_backdate_max_days, allocation=body.allocation,
                                  household_cap_fen=body.household_cap_fen),
        subject=principal.subject, key=idempotency_key,
        payload={"run_on": str(run_on)} | body.model_dump(mode="json", exclude={"run_on"}, exclude_none=True))


@router.post("/campaigns/{campaign_id}/close", response_model=CampaignOut,
             summary="Close a campaign; what is left of its budget returns to the fund")
async def close(campaign_id: uuid.UUID, commands: CommandsDep, principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: campaigns.close(uow, campaign_id, principal))


@router.get("/campaigns", response_model=Page[CampaignRowOut],
            summary="Campaigns of the caller's subtree and their progress (paid / unpaid / paid vs planned), paged")
async def list_campaigns(db: PoolDep, q: Annotated[CampaignListQuery, Query()],
                         principal: Principal = Depends(requires("read"))):
    return await queries.list_campaigns(db, principal, year=q.year, status=q.status, kind=q.kind, unit=q.unit,
                                        sort=q.sort, limit=q.limit, offset=q.offset)


@router.get("/campaigns/{campaign_id}/runs/{run_id}/not-paid", response_model=Page[NotPaid],
            summary="Every file a run did not pay: member, unit and the reason in Chinese (names masked for auditors)")
async def run_not_paid(campaign_id: uuid.UUID, run_id: uuid.UUID, db: PoolDep, q: Annotated[NotPaidQuery, Query()],
                       principal: Principal = Depends(requires("read"))):
    return await queries.run_not_paid(db, campaign_id, run_id, principal, reason=q.reason, limit=q.limit,
                                      offset=q.offset)


@router.get("/campaigns/{campaign_id}/runs/{run_id}/roster", response_class=Response,
            responses={200: {"content": {papers.XLSX: {}}, "description": "发放花名册（.xlsx）"}},
            summary="The run's payee roster (发放花名册) as .xlsx to print and sign; real names, so only for"
                    " the organising unit's officers")
async def run_roster(campaign_id: uuid.UUID, run_id: uuid.UUID, db: PoolDep,
                     principal: Principal = Depends(requires("write"))):
    name, content = papers.campaign_roster(await rosters.campaign_run_roster(db, campaign_id, run_id, principal))
    return Response(content, media_type=papers.XLSX, headers=papers.download_headers(name))
