"""Welfare, competitions and notify keep their own copies of members and paths; when members transfer
or units move in membership, those copies follow — so every service's scope checks stay right."""
from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest

from tests.support.membership import admit, found_district
from tests.support.people import auth
from tests.support.processes import running

pytestmark = pytest.mark.integration


async def path_in(stack_config, service: str, member_id: str) -> list[str] | None:
    conn = await asyncpg.connect(stack_config.dsn(service))
    try:
        path = await conn.fetchval("SELECT org_path FROM members WHERE member_id = $1::uuid", member_id)
        return [str(p) for p in path] if path else None
    finally:
        await conn.close()


async def wait_path(stack_config, service, member_id, expected, timeout=45):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await path_in(stack_config, service, member_id) == expected:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"{service}: path is {await path_in(stack_config, service, member_id)}, expected {expected}")


async def test_transfers_and_moves_reach_the_other_services_scopes(infra, stack_config):
    with running(stack_config, "membership", "welfare", "competitions", "notify") as svc:
        with httpx.Client(base_url=svc["membership"].url, timeout=10) as m, \
                httpx.Client(base_url=svc["welfare"].url, timeout=10) as w:
            await follow_the_tree(stack_config, m, w)


async def follow_the_tree(stack_config, m: httpx.Client, w: httpx.Client) -> None:
    a, b = found_district(m), found_district(m)
    member = admit(m, a.union_ids[0]).json()["id"]
    union_a = m.get(f"/organisations/{a.union_ids[0]}", headers=auth()).json()["path"]
    for service in ("welfare", "competitions", "notify"):
        await wait_path(stack_config, service, member, union_a)

    # merging a's union into b's transfers the member (MemberTransferred)
    assert m.post(f"/organisations/{a.union_ids[0]}/merge", headers=auth(),
                  json={"into_org_id": b.union_ids[0]}).status_code == 200
    union_b = m.get(f"/organisations/{b.union_ids[0]}", headers=auth()).json()["path"]
    for service in ("welfare", "competitions", "notify"):
        await wait_path(stack_config, service, member, union_b)
    case = {"member_id": member, "kind": "living", "source": "application", "summary": "家庭困难"}
    assert w.post("/cases", json=case, headers=auth("staff", a.id)).status_code == 422  # as unknown
    assert w.post("/cases", json=case, headers=auth("staff", b.id)).status_code == 201

    # moving b's street under district a (UnionMoved): the copies' paths follow
    assert m.post(f"/organisations/{b.street_id}/move", headers=auth(),
                  json={"new_parent_id": a.id}).status_code == 200
    moved = m.get(f"/organisations/{b.union_ids[0]}", headers=auth()).json()["path"]
    assert moved[1] == a.id
    for service in ("welfare", "competitions", "notify"):
        await wait_path(stack_config, service, member, moved)
    assert w.post("/cases", json=case, headers=auth("staff", a.id)).status_code == 201
    assert w.post("/cases", json=case, headers=auth("staff", b.id)).status_code == 422
    conn = await asyncpg.connect(stack_config.dsn("welfare"))
    try:  # every welfare table holding a path followed, in the same transaction
        unit_path = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1::uuid", b.union_ids[0])
        case_paths = await conn.fetch("SELECT org_path FROM assistance_cases WHERE member_id = $1::uuid", member)
    finally:
        await conn.close()
    assert [str(p) for p in unit_path] == moved
    assert all([str(p) for p in r["org_path"]] == moved for r in case_paths)
    # the case opened earlier moved with its union
    cases = w.get(f"/members/{member}/cases", headers=auth("staff", a.id))
    assert cases.status_code == 200 and len(cases.json()) == 2
