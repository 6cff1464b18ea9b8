"""Helpers for integration tests that need real members: membership runs as its own process and
publishes UnionEstablished / MemberJoined exactly as in production; these helpers speak to it
over HTTP. Starting it and waiting for other services' projections: tests.integration.stack."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from unionops.auth import root_org_id
from tests.city import new_resident_id, token
from unionops.settings import CommonSettings

CITY_REGION_CODE = CommonSettings().city_region_code


def bearer(role: str, org_id: uuid.UUID | str, subject: str = "tester") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, org_id, subject)}"}


def admin_headers() -> dict[str, str]:
    return bearer("federation_admin", root_org_id(CITY_REGION_CODE), "city-admin")


async def set_minimum_living_standard(http: httpx.AsyncClient, unit: uuid.UUID | str, effective_from,
                                      monthly_fen: int, headers: dict[str, str] | None = None) -> httpx.Response:
    """PUT a unit's 低保 in welfare once the unit has reached welfare's projection: a unit
    welfare does not know yet is refused (404), and UnionEstablished travels on another topic
    than the member events a test may have waited for."""
    from tests.integration.stack import eventually

    async def accepted():
        r = await http.put(f"/minimum-living-standards/{unit}/{effective_from}", json={"monthly_fen": monthly_fen},
                           headers=headers or admin_headers())
        return r if r.status_code != 404 else None
    return await eventually(accepted, what=f"unit {unit} in welfare, its 低保 set")


def resident_id(*, female: bool = False) -> str:
    return new_resident_id(female=female)


@dataclass
class Branch:
    """district → street → grassroots: a subtree to put members in."""

    district: uuid.UUID
    street: uuid.UUID
    grassroots: uuid.UUID


class Membership:
    """The federation admin's client of membership; `with Membership(url) as membership:` closes it."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers=admin_headers(), timeout=10)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "Membership":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def unit(self, parent_id: uuid.UUID, name: str, level: str, kind: str) -> uuid.UUID:
        r = self.http.post("/organisations", json={"parent_id": str(parent_id), "name": name, "level": level,
                                                    "kind": kind, "region_code": "510104"})
        assert r.status_code == 201, r.text
        return uuid.UUID(r.json()["id"])

    def branch(self, label: str) -> Branch:
        suffix = uuid.uuid4().hex[:6]
        district = self.unit(root_org_id(CITY_REGION_CODE), f"{label}区总工会{suffix}", "district",
                             "district_federation")
        street = self.unit(district, f"{label}街道工会{suffix}", "street", "street_union")
        grassroots = self.unit(street, f"{label}机械厂工会{suffix}", "grassroots", "enterprise_union")
        return Branch(district, street, grassroots)

    def admit(self, union_id: uuid.UUID, name: str, *, female: bool = False, migrant: bool = False) -> uuid.UUID:
        r = self.http.post("/members", json={"union_id": str(union_id), "name": name,
                                              "id_number": resident_id(female=female), "is_migrant_worker": migrant})
        assert r.status_code == 201, r.text
        return uuid.UUID(r.json()["id"])
