"""HTTP API of the organisation tree."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from membership import organisations
from unionops.bodies import Body
from unionops.inputs import Count, count, Flag, Limit, UnitName, YearParam
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.backdating import check_dated
from unionops.clock import local_today
from unionops.problems import Problem

router = APIRouter()


class OrganisationIn(Body):
    parent_id: uuid.UUID
    name: UnitName = Field(min_length=2, max_length=100)
    level: Literal["district", "street", "grassroots"]
    kind: str = Field(min_length=1, max_length=50)
    region_code: str = Field(pattern=r"^\d{6}$", description="行政区划代码")
    established_on: date | None = None
    employer_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500,
                                          description="registered employers this grassroots union covers")


class OrganisationOut(BaseModel):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    path: list[uuid.UUID]
    name: str
    level: str
    kind: str
    region_code: str
    established_on: date
    status: str = "active"


@router.post("/organisations", status_code=201, response_model=OrganisationOut, tags=["organisations"],
             summary="Found a union / register a unit in the tree (建会)")
async def create_organisation(body: OrganisationIn, request: Request,
                              principal: Principal = Depends(requires("write")),
                              idempotency_key: str | None = Header(None)):
    cmd = organisations.EstablishUnion(
        parent_id=body.parent_id, name=body.name, level=body.level, kind=body.kind, region_code=body.region_code,
        established_on=body.established_on or local_today(), employer_ids=tuple(body.employer_ids),
    )
    check_dated(cmd.established_on, local_today(), field="established_on", what="建会日期")
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: organisations.establish_union(conn, cmd, principal))


@router.get("/organisations/{org_id}", response_model=OrganisationOut, tags=["organisations"])
async def get_organisation(org_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    row = await request.app.state.runtime.pool.fetchrow(
        "SELECT id, parent_id, path, name, level, kind, region_code, established_on, status FROM org_units"
        " WHERE id = $1", org_id)
    if row is None or not principal.covers(row["path"]):
        raise Problem(404, "组织不存在或不在您的管辖范围内")
    return dict(row)


@router.get("/organisations", response_model=list[OrganisationOut], tags=["organisations"],
            summary="Units in the caller's subtree, optionally the children of one unit")
async def list_organisations(request: Request, parent_id: uuid.UUID | None = None, limit: Limit = 200,
                             principal: Principal = Depends(requires("read"))):
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT id, parent_id, path, name, level, kind, region_code, established_on, status FROM org_units"
        " WHERE $1 = ANY(path) AND ($2::uuid IS NULL OR parent_id = $2) ORDER BY array_length(path, 1), name LIMIT $3",
        principal.org_id, parent_id, min(max(limit, 1), 1000))
    return [dict(r) for r in rows]



class MergeIn(Body):
    into_org_id: uuid.UUID
    merged_on: date | None = None


class DissolveIn(Body):
    reason: str = Field(min_length=2, max_length=200)
    dissolved_on: date | None = None


class MoveIn(Body):
    new_parent_id: uuid.UUID
    moved_on: date | None = None


def _happened_on(request: Request, day: date | None, field: str, what: str) -> date:
    """The day a merger, dissolution or move took effect: its members' transfers and status
    changes carry it, so it is bounded like a status change (today when omitted)."""
    today = local_today()
    day = day or today
    check_dated(day, today, field=field, what=what,
                max_backdate_days=request.app.state.runtime.settings.status_backdate_max_days)
    return day


async def _in_transaction(request: Request, command):
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return await command(conn)


@router.post("/organisations/{org_id}/merge", tags=["organisations"],
             summary="Merge a grassroots union into another; its members follow (合并)")
async def merge(org_id: uuid.UUID, body: MergeIn, request: Request, principal: Principal = Depends(requires("write"))):
    on = _happened_on(request, body.merged_on, "merged_on", "合并日期")
    return await _in_transaction(request, lambda conn: organisations.merge_union(
        conn, org_id, body.into_org_id, principal, on))


@router.post("/organisations/{org_id}/dissolve", tags=["organisations"],
             summary="Dissolve a unit; the parent holds its members' memberships (撤销, 会籍保留)")
async def dissolve(org_id: uuid.UUID, body: DissolveIn, request: Request,
                   principal: Principal = Depends(requires("write"))):
    on = _happened_on(request, body.dissolved_on, "dissolved_on", "撤销日期")
    return await _in_transaction(request, lambda conn: organisations.dissolve_union(
        conn, org_id, principal, on, body.reason))


@router.post("/organisations/{org_id}/move", tags=["organisations"],
             summary="Move a unit and its subtree under another parent; history is kept")
async def move(org_id: uuid.UUID, body: MoveIn, request: Request, principal: Principal = Depends(requires("write"))):
    on = _happened_on(request, body.moved_on, "moved_on", "调整日期")
    return await _in_transaction(request, lambda conn: organisations.move_unit(
        conn, org_id, body.new_parent_id, principal, on))


@router.get("/organisations/{org_id}/history", tags=["organisations"])
async def history(org_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    pool = request.app.state.runtime.pool
    path = await pool.fetchval("SELECT path FROM org_units WHERE id = $1", org_id)
    if path is None or not principal.covers(path):
        raise Problem(404, "组织不存在或不在您的管辖范围内")
    rows = await pool.fetch("SELECT occurred_at, kind, detail, actor FROM org_unit_history WHERE org_id = $1 ORDER BY id",
                            org_id)
    return {"org_id": org_id, "entries": [dict(r) for r in rows]}


class EmployerIn(Body):
    org_id: uuid.UUID = Field(description="the unit answerable for the employer (usually a street/town union)")
    name: UnitName = Field(min_length=2, max_length=200)
    credit_code: str | None = Field(None, max_length=18, description="统一社会信用代码 (check character verified)")
    ownership: Literal["state_owned", "collective", "non_public"]
    headcount: count(le=10_000_000) = Field(0)
    has_collective_contract: Flag = False
    union_id: uuid.UUID | None = None


@router.post("/employers", status_code=201, tags=["employers"],
             summary="Register an employer for coverage (哪里有企业，哪里就要建立工会组织)")
async def register_employer(body: EmployerIn, request: Request, principal: Principal = Depends(requires("write")),
                            idempotency_key: str | None = Header(None)):
    cmd = organisations.RegisterEmployer(**body.model_dump())
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: organisations.register_employer(conn, cmd, principal))


@router.get("/employers", tags=["employers"], summary="Employers in the caller's subtree; ?without_union=true lists 建会 targets")
async def list_employers(request: Request, org_id: uuid.UUID | None = None, without_union: bool = False,
                         limit: Limit = 200, principal: Principal = Depends(requires("read"))):
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT e.id, e.org_id, e.union_id, e.name, e.credit_code, e.ownership, e.headcount, e.has_collective_contract"
        " FROM employers e JOIN org_units o ON o.id = e.org_id"
        " WHERE $1 = ANY(o.path) AND ($2::uuid IS NULL OR $2 = ANY(o.path)) AND (NOT $3 OR e.union_id IS NULL)"
        " ORDER BY e.headcount DESC, e.name LIMIT $4",
        principal.org_id, org_id, without_union, min(max(limit, 1), 1000))
    return [dict(r) for r in rows]


class TargetsIn(Body):
    unions_target: Count | None = None
    members_target: Count | None = None


@router.put("/organisations/{org_id}/targets/{year}", tags=["coverage"],
            summary="Set a subtree's yearly targets (建会数, 会员数) — by its superiors")
async def set_targets(org_id: uuid.UUID, year: YearParam, body: TargetsIn, request: Request,
                      principal: Principal = Depends(requires("write"))):
    return await _in_transaction(request, lambda conn: organisations.set_targets(
        conn, org_id, year, body.unions_target, body.members_target, principal))
