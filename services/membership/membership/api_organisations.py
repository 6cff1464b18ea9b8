"""HTTP API of the organisation tree."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from membership import organisations
from membership.bodies import Body
from unionops import idempotency
from unionops.auth import Principal, requires
from unionops.problems import Problem

router = APIRouter()


class OrganisationIn(Body):
    parent_id: uuid.UUID
    name: str = Field(min_length=2, max_length=100)
    level: Literal["district", "street", "grassroots"]
    kind: str = Field(min_length=1, max_length=50)
    region_code: str = Field(pattern=r"^\d{6}$", description="行政区划代码")
    established_on: date | None = None


class OrganisationOut(BaseModel):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    path: list[uuid.UUID]
    name: str
    level: str
    kind: str
    region_code: str
    established_on: date


@router.post("/organisations", status_code=201, response_model=OrganisationOut, tags=["organisations"],
             summary="Found a union / register a unit in the tree (建会)")
async def create_organisation(body: OrganisationIn, request: Request,
                              principal: Principal = Depends(requires("write")),
                              idempotency_key: str | None = Header(None)):
    cmd = organisations.EstablishUnion(
        parent_id=body.parent_id, name=body.name, level=body.level, kind=body.kind, region_code=body.region_code,
        established_on=body.established_on or date.today(),
    )
    return await idempotency.create(request, principal, idempotency_key, body.model_dump(mode="json"),
                                    lambda conn: organisations.establish_union(conn, cmd, principal))


@router.get("/organisations/{org_id}", response_model=OrganisationOut, tags=["organisations"])
async def get_organisation(org_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("read"))):
    row = await request.app.state.runtime.pool.fetchrow(
        "SELECT id, parent_id, path, name, level, kind, region_code, established_on FROM org_units WHERE id = $1", org_id)
    if row is None or not principal.covers(row["path"]):
        raise Problem(404, "组织不存在或不在您的管辖范围内")
    return dict(row)


@router.get("/organisations", response_model=list[OrganisationOut], tags=["organisations"],
            summary="Units in the caller's subtree, optionally the children of one unit")
async def list_organisations(request: Request, parent_id: uuid.UUID | None = None, limit: int = 200,
                             principal: Principal = Depends(requires("read"))):
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT id, parent_id, path, name, level, kind, region_code, established_on FROM org_units"
        " WHERE $1 = ANY(path) AND ($2::uuid IS NULL OR parent_id = $2) ORDER BY array_length(path, 1), name LIMIT $3",
        principal.org_id, parent_id, min(max(limit, 1), 1000))
    return [dict(r) for r in rows]
