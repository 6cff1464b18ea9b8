"""Commands on the organisation tree (组织): founding units, the city root. Each runs in the
caller's transaction and stages its events in the outbox of that same transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg
from opentelemetry import trace

from contracts.events import UnionEstablished
from membership.domain import check_child_unit
from unionops import outbox
from unionops.auth import Principal, root_org_id
from unionops.problems import RuleViolation


@dataclass(frozen=True)
class EstablishUnion:
    parent_id: uuid.UUID
    name: str
    level: str
    kind: str
    region_code: str
    established_on: date


async def ensure_city_root(conn: asyncpg.Connection, region_code: str, name: str) -> bool:
    """The root of the tree exists from the first start; its id derives from the region code."""
    root = root_org_id(region_code)
    async with conn.transaction():
        inserted = await conn.fetchval(
            "INSERT INTO org_units (id, parent_id, path, level, kind, name, region_code, established_on, created_by)"
            " VALUES ($1, NULL, ARRAY[$1]::uuid[], 'city', 'federation', $2, $3, current_date, 'system')"
            " ON CONFLICT (id) DO NOTHING RETURNING 1",
            root, name, region_code,
        )
        if inserted:
            await outbox.record(conn, UnionEstablished(
                org_id=root, parent_id=None, org_path=[root], name=name, level="city", kind="federation",
                region_code=region_code, established_on=date.today(),
            ))
    return bool(inserted)


async def load_unit(conn: asyncpg.Connection, org_id: uuid.UUID, *, field: str) -> asyncpg.Record:
    unit = await conn.fetchrow("SELECT id, path, level, kind, name FROM org_units WHERE id = $1", org_id)
    if unit is None:
        raise RuleViolation("组织不存在", field=field)
    return unit


async def establish_union(conn: asyncpg.Connection, cmd: EstablishUnion, actor: Principal) -> dict:
    parent = await load_unit(conn, cmd.parent_id, field="parent_id")
    actor.require_scope(parent["path"])
    check_child_unit(parent["level"], cmd.level, cmd.kind)
    org_id = uuid.uuid4()
    path = [*parent["path"], org_id]
    try:
        await conn.execute(
            "INSERT INTO org_units (id, parent_id, path, level, kind, name, region_code, established_on, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            org_id, cmd.parent_id, path, cmd.level, cmd.kind, cmd.name, cmd.region_code, cmd.established_on,
            actor.subject,
        )
    except asyncpg.UniqueViolationError:
        raise RuleViolation("上级组织下已有同名组织", field="name", status=409, kind="duplicate-unit") from None
    await outbox.record(conn, UnionEstablished(
        org_id=org_id, parent_id=cmd.parent_id, org_path=path, name=cmd.name, level=cmd.level, kind=cmd.kind,
        region_code=cmd.region_code, established_on=cmd.established_on,
    ))
    trace.get_current_span().set_attribute("org.id", str(org_id))
    return {"id": org_id, "parent_id": cmd.parent_id, "path": path, "name": cmd.name, "level": cmd.level,
            "kind": cmd.kind, "region_code": cmd.region_code, "established_on": cmd.established_on}


