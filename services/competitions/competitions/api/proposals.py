"""HTTP API of rationalisation proposals (合理化建议).

A member submits and reads their own with a member token (`sub` = member id); staff of the
proposal's union or above enter, assign, answer, record implementation and reward."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field, model_validator

from competitions.api.dependencies import business_day
from competitions.commands import proposals as cmd
from competitions.queries import proposals as query
from competitions.settings import Settings
from unionops.auth import Principal, current_principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep
from unionops.inputs import Flag, Limit

router = APIRouter(prefix="/proposals", tags=["proposals"])

Outcome = Literal["adopted", "not_adopted", "under_study"]

Grade = Literal["first", "second", "third", "encouragement"]

Status = Literal["submitted", "assigned", "under_study", "not_adopted", "adopted", "implemented", "rewarded"]


class ProposalIn(Body):
    member_id: uuid.UUID | None = Field(None, description="提出建议的会员；会员本人提交时可不填")
    title: str = Field(min_length=2, max_length=200)
    content: str = Field(min_length=1, max_length=8000, description="建议内容")
    major: Flag = Field(False, description="重大建议（答复期限 3 个月）")
    submitted_on: date | None = Field(None, description="补录纸质建议时的提交日期（仅工作人员），默认今天")


class AssignIn(Body):
    assignee: str | None = Field(None, min_length=1, max_length=200, description="承办人")
    assignee_unit: str | None = Field(None, min_length=1, max_length=200, description="承办部门，如“设备部”")

    @model_validator(mode="after")
    def _someone(self):
        if self.assignee is None and self.assignee_unit is None:
            raise ValueError("须指定承办人或承办部门")
        return self


class AnswerIn(Body):
    outcome: Outcome = Field(description="adopted 采纳, not_adopted 不予采纳, under_study 正在研究")
    answer: str = Field(min_length=1, max_length=8000, description="答复意见")


class ImplementIn(Body):
    note: str = Field(min_length=1, max_length=8000, description="落实情况")


class RewardIn(Body):
    grade: Grade = Field(description="first 一等奖, second 二等奖, third 三等奖, encouragement 鼓励奖")
    effect: str = Field(min_length=1, max_length=8000, description="实施效果（如年节约成本）")


class HistoryOut(BaseModel):
    action: str
    actor: str
    at: datetime
    detail: dict[str, Any]


class ProposalOut(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    union_id: uuid.UUID
    union_name: str
    title: str
    content: str
    major: bool
    status: Status
    submitted_on: date
    submitted_by: str
    submitted_via: Literal["member", "staff"]
    submitted_at: datetime
    answer_due_on: date
    overdue: bool = Field(description="逾期未答复")
    assignee: str | None
    assignee_unit: str | None
    assigned_by: str | None
    assigned_at: datetime | None
    outcome: Outcome | None
    answer: str | None
    first_answered_on: date | None
    answered_on: date | None
    answered_by: str | None
    answered_late: bool | None
    implemented_on: date | None
    implementation_note: str | None
    implemented_by: str | None
    effect: str | None
    award_grade: Grade | None
    reward_fen: int | None
    rewarded_by: str | None
    rewarded_at: datetime | None


class ProposalDetailOut(ProposalOut):
    history: list[HistoryOut] = Field(description="有征集、有答复、有落实、有效果：每一步的经办人和时间")


@router.post("", status_code=201, response_model=ProposalDetailOut,
             summary="Submit a proposal: a member for themselves, or staff for a member (征集)")
async def submit(body: ProposalIn, commands: CommandsDep, settings: SettingsDep[Settings],
                 principal: Principal = Depends(current_principal), idempotency_key: str | None = Header(None)):
    proposal = cmd.SubmitProposal(member_id=body.member_id, title=body.title, content=body.content, major=body.major,
                                  submitted_on=body.submitted_on)
    return await commands.create(lambda uow: cmd.submit(uow, proposal, principal, settings, business_day(settings)),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("", response_model=list[ProposalOut],
            summary="Proposals of the caller's subtree (a member: their own); overdue=true lists unanswered ones "
                    "past their due date")
async def list_proposals(pool: PoolDep, settings: SettingsDep[Settings], overdue: bool | None = None,
                         status: Status | None = None, limit: Limit = 200,
                         principal: Principal = Depends(current_principal)):
    return await query.proposals(pool, principal, business_day(settings), overdue=overdue, status=status,
                                 limit=min(max(limit, 1), 1000))


@router.get("/{proposal_id}", response_model=ProposalDetailOut)
async def get_proposal(proposal_id: uuid.UUID, pool: PoolDep, settings: SettingsDep[Settings],
                       principal: Principal = Depends(current_principal)):
    return await query.view(pool, proposal_id, principal, business_day(settings))


@router.post("/{proposal_id}/assign", response_model=ProposalDetailOut, summary="交办 to an officer or department")
async def assign(proposal_id: uuid.UUID, body: AssignIn, commands: CommandsDep, settings: SettingsDep[Settings],
                 principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: cmd.assign(uow, proposal_id, body.assignee, body.assignee_unit, principal,
                                                     business_day(settings)))


@router.post("/{proposal_id}/answer", response_model=ProposalDetailOut,
             summary="答复 (有答复): adopted / not adopted / under study; late when after the due date")
async def answer(proposal_id: uuid.UUID, body: AnswerIn, commands: CommandsDep, settings: SettingsDep[Settings],
                 principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: cmd.answer(uow, proposal_id, body.outcome, body.answer, principal,
                                                     business_day(settings)))


@router.post("/{proposal_id}/implement", response_model=ProposalDetailOut,
             summary="落实 (有落实): an adopted proposal put into practice")
async def implement(proposal_id: uuid.UUID, body: ImplementIn, commands: CommandsDep,
                    settings: SettingsDep[Settings], principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: cmd.implement(uow, proposal_id, body.note, principal, business_day(settings)))


@router.post("/{proposal_id}/reward", response_model=ProposalDetailOut,
             summary="评奖 (有效果): graded reward of an implemented proposal, amount from the settings")
async def reward(proposal_id: uuid.UUID, body: RewardIn, commands: CommandsDep, settings: SettingsDep[Settings],
                 principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: cmd.reward(uow, proposal_id, body.grade, body.effect, principal,
                                                     business_day(settings), settings.proposal_rewards_fen))
