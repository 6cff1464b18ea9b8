"""HTTP API of training (培训班): programmes organised by a unit for members of its subtree —
create a draft, open enrolment, run, finish (completion and certificates); bulk enrolment by
the organisers, a member's own enrolment, attendance per session, assessment; lists, a member's
own trainings, a unit's figures per child unit. A programme exists only for the staff whose
subtree holds its organiser (and, once announced, for the members of that subtree)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from competitions.api.bodies import Out, shaped
from competitions.api.dependencies import business_day
from competitions.commands import training as cmd
from competitions.domain.training import CompletionRule
from competitions.queries import training as query
from competitions.settings import Settings
from unionops.auth import Principal, requires
from unionops.bodies import Body
from unionops.dependencies import CommandsDep, PoolDep, SettingsDep
from unionops.inputs import MAX_OFFSET, Flag, UnitName, YearParam, count

router = APIRouter(prefix="/training", tags=["training"])

TrainingKind = Literal["bargaining_instructor", "congress_delegate", "union_officer", "job_skills", "other"]
TrainingStatus = Literal["draft", "open", "running", "finished"]
Session = Annotated[int, Field(ge=1, le=500, description="课次（从 1 起）")]

# A request names at most this many members: a city-wide programme is enrolled in several
# requests, each one TrainingEnrolled event.
MAX_MEMBERS_PER_REQUEST = 1000


class ProgrammeIn(Body):
    name: UnitName = Field(min_length=2, max_length=100, description="如“2026年集体协商指导员培训班”")
    kind: TrainingKind = Field(description="bargaining_instructor 集体协商指导员, congress_delegate 职代会代表,"
                                           " union_officer 工会干部, job_skills 就业/技能培训, other 其他")
    org_id: uuid.UUID = Field(description="主办单位：其下属工会的会员可报名")
    starts_on: date = Field(description="开班日期（北京时间）")
    ends_on: date = Field(description="结业日期（北京时间）")
    place: str | None = Field(None, min_length=1, max_length=200, description="培训地点")
    sessions: count(ge=1, le=500) = Field(description="课次")
    min_sessions: count(ge=1, le=500) | None = Field(None, description="结业所需最少出勤课次，默认全部课次")
    assessment_required: Flag = Field(False, description="结业须考核合格")
    capacity: count(ge=1, le=1000000) | None = Field(None, description="名额")
    unemployed_only: Flag = Field(False, description="只招收失业（会籍保留）会员，仅就业培训")


class _Schedule(Out):
    """What a programme's announcement says, in a programme and in a member's own list."""

    kind: str
    kind_label: str
    status: TrainingStatus
    org_name: str
    starts_on: date
    ends_on: date
    place: str | None
    sessions: int
    min_sessions: int


class ProgrammeOut(_Schedule):
    id: uuid.UUID
    name: str
    org_id: uuid.UUID
    assessment_required: bool
    capacity: int | None
    unemployed_only: bool
    enrolled: int
    completed: int
    certificates: int
    places_left: int | None
    finished_on: date | None
    created_at: datetime
    created_by: str
    status_changed_at: datetime | None
    status_changed_by: str | None


class ProgrammePage(BaseModel):
    items: list[ProgrammeOut]
    total: int
    limit: int
    offset: int


class ProgrammeQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TrainingStatus | None = None
    kind: TrainingKind | None = None
    unit: uuid.UUID | None = Field(None, description="只列此单位及其下属单位主办的")
    year: YearParam | None = Field(None, description="开班年度（北京时间）")
    limit: int = Field(50, ge=1, le=500, description="最多返回条数（1–500）")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过条数")


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=1000, description="最多返回条数（1–1000）")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过条数")


class StatusIn(Body):
    status: Literal["open", "running", "finished"] = Field(
        description="open 开放报名（培训日期不能已全部过去）, running 开始培训（此后记录出勤）,"
                    " finished 结业（按结业条件认定并发证书）")


class MembersIn(Body):
    member_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_MEMBERS_PER_REQUEST, description="会员")


class AttendanceIn(Body):
    member_ids: list[uuid.UUID] = Field(max_length=100000, description="本课次出勤的会员（整张签到表）")


class AssessmentIn(Body):
    passed: list[uuid.UUID] = Field(default_factory=list, max_length=100000, description="考核合格")
    failed: list[uuid.UUID] = Field(default_factory=list, max_length=100000, description="考核不合格")


class RefusedOut(BaseModel):
    member_id: uuid.UUID
    reason: Literal["not_found", "out_of_scope", "not_active", "not_unemployed", "already_enrolled", "capacity"]
    message: str


class EnrolmentOut(BaseModel):
    programme_id: uuid.UUID
    enrolled: list[uuid.UUID]
    refused: list[RefusedOut]


class EnrolleeOut(Out):
    member_id: uuid.UUID
    member_name: str
    union_id: uuid.UUID
    union_name: str
    enrolled_at: datetime
    enrolled_by: str
    sessions_attended: int
    assessment_passed: bool | None
    completed: bool | None
    completed_on: date | None
    certificate_no: str | None


class EnrolleePage(BaseModel):
    items: list[EnrolleeOut]
    total: int
    limit: int
    offset: int


class AttendanceOut(BaseModel):
    programme_id: uuid.UUID
    session: int
    present: int
    member_ids: list[uuid.UUID]


class AssessmentOut(BaseModel):
    programme_id: uuid.UUID
    passed: int
    failed: int


class MyTrainingOut(_Schedule):
    programme_id: uuid.UUID
    programme_name: str
    sessions_attended: int
    enrolled_at: datetime
    completed: bool | None
    completed_on: date | None
    certificate_no: str | None


class Figures(BaseModel):
    programmes: int
    enrolled: int
    completed: int
    certificates: int


class UnitFigures(Figures):
    org_id: uuid.UUID
    name: str
    by_kind: dict[str, Figures]


class FiguresOut(BaseModel):
    unit: UnitFigures = Field(description="本单位及全部下属单位合计")
    year: int
    units: list[UnitFigures] = Field(description="每个直属下级单位（含其下属）")


@router.post("/programmes", status_code=201, response_model=ProgrammeOut,
             summary="Create a training programme as a draft (举办培训班)")
async def create_programme(body: ProgrammeIn, commands: CommandsDep, principal: Principal = Depends(requires("write")),
                           idempotency_key: str | None = Header(None)):
    programme = cmd.CreateProgramme(
        name=body.name, kind=body.kind, org_id=body.org_id, starts_on=body.starts_on, ends_on=body.ends_on,
        place=body.place, capacity=body.capacity, unemployed_only=body.unemployed_only,
        rule=CompletionRule(sessions=body.sessions, min_sessions=body.min_sessions or body.sessions,
                            assessment_required=body.assessment_required))
    return await commands.create(lambda uow: shaped(ProgrammeOut, cmd.create_programme(uow, programme, principal)),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.get("/programmes", response_model=ProgrammePage,
            summary="Programmes organised in the caller's subtree, earliest start first")
async def list_programmes(pool: PoolDep, q: Annotated[ProgrammeQuery, Query()],
                          principal: Principal = Depends(requires("read"))):
    return await query.programmes(pool, principal, status=q.status, kind=q.kind, unit=q.unit, year=q.year,
                                  limit=q.limit, offset=q.offset)


@router.get("/programmes/{programme_id}", response_model=ProgrammeOut,
            summary="One programme with its enrolment counts")
async def get_programme(programme_id: uuid.UUID, pool: PoolDep, principal: Principal = Depends(requires("read"))):
    return await query.programme(pool, programme_id, principal)


@router.post("/programmes/{programme_id}/status", response_model=ProgrammeOut,
             summary="Open enrolment, start, finish (completion and certificates) — one step at a time")
async def set_status(programme_id: uuid.UUID, body: StatusIn, commands: CommandsDep, settings: SettingsDep[Settings],
                     principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: cmd.set_status(uow, programme_id, body.status, principal,
                                                         today=business_day(settings)))


@router.post("/programmes/{programme_id}/enrolments", status_code=201, response_model=EnrolmentOut,
             summary="Enrol members of the organiser's subtree (bulk); refused members listed with reasons")
async def enrol(programme_id: uuid.UUID, body: MembersIn, commands: CommandsDep,
                principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
    return await commands.create(lambda uow: cmd.enrol(uow, programme_id, body.member_ids, principal),
                                 subject=principal.subject, key=idempotency_key, payload=body.model_dump(mode="json"))


@router.post("/programmes/{programme_id}/enrolments/mine", status_code=201, response_model=EnrolmentOut,
             summary="A member enrols themselves (member token) while enrolment is open")
async def enrol_self(programme_id: uuid.UUID, commands: CommandsDep, principal: Principal = Depends(requires("self")),
                     idempotency_key: str | None = Header(None)):
    return await commands.create(lambda uow: cmd.enrol_self(uow, programme_id, principal),
                                 subject=principal.subject, key=idempotency_key, payload={"programme": str(programme_id)})


@router.get("/programmes/{programme_id}/enrolments", response_model=EnrolleePage,
            summary="Who is enrolled, with sessions attended, completion and certificate")
async def list_enrolments(programme_id: uuid.UUID, pool: PoolDep, q: Annotated[PageQuery, Query()],
                          principal: Principal = Depends(requires("read"))):
    return await query.enrolments(pool, programme_id, principal, limit=q.limit, offset=q.offset)


@router.put("/programmes/{programme_id}/sessions/{session}/attendance", response_model=AttendanceOut,
            summary="A session's attendance list (签到表) as a whole, while the programme runs")
async def record_attendance(programme_id: uuid.UUID, session: Session, body: AttendanceIn, commands: CommandsDep,
                            principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: cmd.record_attendance(uow, programme_id, session, body.member_ids,
                                                                principal))


@router.put("/programmes/{programme_id}/assessment", response_model=AssessmentOut,
            summary="考核 results of enrolled members, where completion needs an assessment")
async def record_assessment(programme_id: uuid.UUID, body: AssessmentIn, commands: CommandsDep,
                            principal: Principal = Depends(requires("write"))):
    return await commands.run(lambda uow: cmd.record_assessment(uow, programme_id, body.passed, body.failed,
                                                                principal))


@router.get("/mine", response_model=list[MyTrainingOut],
            summary="A member's own trainings (member token), with completion and certificate")
async def my_trainings(pool: PoolDep, principal: Principal = Depends(requires("self"))):
    return await query.mine(pool, principal)


@router.get("/mine/open", response_model=list[ProgrammeOut],
            summary="Programmes a member may enrol in themselves (member token): open, organised above their union")
async def open_to_me(pool: PoolDep, principal: Principal = Depends(requires("self"))):
    return await query.open_to_member(pool, principal)


@router.get("/figures/{org_id}", response_model=FiguresOut,
            summary="A unit's training figures of a year (by the programme's start), per child unit, by kind")
async def figures(org_id: uuid.UUID, pool: PoolDep, settings: SettingsDep[Settings], year: YearParam | None = None,
                  principal: Principal = Depends(requires("read"))):
    return await query.figures(pool, org_id, year or business_day(settings).year, principal)
