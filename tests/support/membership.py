"""Real members for tests: membership runs as its own process and publishes UnionEstablished /
MemberJoined exactly as in production; these helpers speak to it over HTTP (organisation trees,
admissions, employers, status changes, transfers) and look into its database for assertions."""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx

from tests.support.people import ROOT, auth, new_credit_code, new_resident_id

_seq = itertools.count(1)


def create_unit(client: httpx.Client, parent_id: uuid.UUID | str, level: str, kind: str,
                region_code: str = "510104", name: str | None = None, headers: dict | None = None) -> str:
    """One organisation unit created by the city admin; returns its id."""
    name = name or f"{kind}-{uuid.uuid4().hex[:6]}"
    r = client.post("/organisations", headers=headers or auth(), json={
        "parent_id": str(parent_id), "name": name, "level": level, "kind": kind, "region_code": region_code})
    assert r.status_code == 201, r.text
    return r.json()["id"]


@dataclass
class District:
    id: str
    street_id: str
    union_ids: list[str] = field(default_factory=list)


def found_district(client: httpx.Client, name: str | None = None, unions: int = 1) -> District:
    """A district with one street and `unions` grassroots unions, created by the city admin."""
    name = name or f"测试{next(_seq)}区总工会{uuid.uuid4().hex[:4]}"
    d = create_unit(client, ROOT, "district", "district_federation", name=name)
    district = District(d, create_unit(client, d, "street", "street_union", name=f"{name}街道工会"))
    for i in range(unions):
        district.union_ids.append(create_unit(client, district.street_id, "grassroots", "enterprise_union",
                                              name=f"{name}第{i + 1}公司工会"))
    return district


def admit(client: httpx.Client, union_id: uuid.UUID | str, *, name: str = "王小明", email: str | None = None,
          headers: dict | None = None, female: bool | None = None, **extra) -> httpx.Response:
    body = {"union_id": str(union_id), "name": name, "id_number": new_resident_id(female=female), **extra}
    if email:
        body["email"] = email
    return client.post("/members", json=body, headers=headers or auth())


@dataclass
class Branch:
    """district → street → grassroots: a subtree to put members in."""

    district: uuid.UUID
    street: uuid.UUID
    grassroots: uuid.UUID


class Membership:
    """The federation admin's client of membership, for tests that want ids as UUIDs;
    `with Membership(url) as membership:` closes it."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers=auth(), timeout=10)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "Membership":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def unit(self, parent_id: uuid.UUID, name: str, level: str, kind: str) -> uuid.UUID:
        return uuid.UUID(create_unit(self.http, parent_id, level, kind, name=name))

    def branch(self, label: str) -> Branch:
        suffix = uuid.uuid4().hex[:6]
        district = self.unit(ROOT, f"{label}区总工会{suffix}", "district", "district_federation")
        street = self.unit(district, f"{label}街道工会{suffix}", "street", "street_union")
        grassroots = self.unit(street, f"{label}机械厂工会{suffix}", "grassroots", "enterprise_union")
        return Branch(district, street, grassroots)

    def admit(self, union_id: uuid.UUID, name: str, *, female: bool = False, migrant: bool = False) -> uuid.UUID:
        r = admit(self.http, union_id, name=name, female=female, is_migrant_worker=migrant)
        assert r.status_code == 201, r.text
        return uuid.UUID(r.json()["id"])


def register_employer(client: httpx.Client, org_id: str, union_id: str | None, *, name: str | None = None,
                      credit_code: str | None = None) -> str:
    """An employer registered through the organisation API; returns its credit code."""
    credit_code = credit_code or new_credit_code()
    r = client.post("/employers", headers=auth(), json={
        "org_id": org_id, "union_id": union_id, "name": name or f"测试企业{uuid.uuid4().hex[:4]}有限公司",
        "credit_code": credit_code, "ownership": "non_public", "headcount": 120})
    assert r.status_code == 201, r.text
    return credit_code


def change_status(client: httpx.Client, member_id: str, status: str, reason: str, *, headers: dict | None = None,
                  **extra) -> httpx.Response:
    return client.post(f"/members/{member_id}/status-changes", headers=headers or auth(),
                       json={"status": status, "reason": reason, **extra})


def transfer(client: httpx.Client, member_id: str, *, headers: dict | None = None, **body) -> httpx.Response:
    body.setdefault("new_employer", "新单位有限公司")
    return client.post(f"/members/{member_id}/transfers", headers=headers or auth(), json=body)


class Database:
    """Read-only looks into the membership database, for assertions."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def fetch(self, sql: str, *args) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def fetchval(self, sql: str, *args):
        rows = await self.fetch(sql, *args)
        return rows[0][0] if rows else None

    async def events(self, member_id: str) -> list[tuple[str, str, str]]:
        """(topic, event type, payload text) staged for one member, in order."""
        rows = await self.fetch("SELECT topic, event_type, payload::text AS payload FROM outbox WHERE key = $1"
                                " ORDER BY id", str(member_id))
        return [(r["topic"], r["event_type"], r["payload"]) for r in rows]

    async def counts(self) -> dict[str, int]:
        tables = ("members", "member_file_entries", "member_transfers", "outbox")
        return {t: await self.fetchval(f"SELECT count(*) FROM {t}") for t in tables}


async def set_minimum_living_standard(http: httpx.AsyncClient, unit: uuid.UUID | str, effective_from,
                                      monthly_fen: int, headers: dict[str, str] | None = None) -> httpx.Response:
    """PUT a unit's 低保 in welfare once the unit has reached welfare's projection: a unit
    welfare does not know yet is refused (404), and UnionEstablished travels on another topic
    than the member events a test may have waited for."""
    from tests.support.waiting import eventually

    async def accepted():
        r = await http.put(f"/minimum-living-standards/{unit}/{effective_from}", json={"monthly_fen": monthly_fen},
                           headers=headers or auth())
        return r if r.status_code != 404 else None
    return await eventually(accepted, what=f"unit {unit} in welfare, its 低保 set")
