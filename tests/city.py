"""Building a small organisation tree and admitting members through the membership API."""
from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from unionops.auth import issue_token, root_org_id
from unionops.pii import check_character
from unionops.settings import CommonSettings

SETTINGS = CommonSettings()
ROOT = root_org_id(SETTINGS.city_region_code)
_rng = random.Random()
_seq = itertools.count(1)


def token(role: str = "federation_admin", org: uuid.UUID | str = ROOT, subject: str = "test-admin") -> str:
    return issue_token(SETTINGS, subject=subject, role=role, org_id=org)


def auth(role: str = "federation_admin", org: uuid.UUID | str = ROOT) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, org)}"}


def new_resident_id(area: str = "510104", *, female: bool | None = None) -> str:
    """A valid resident ID number; the 17th digit is odd for men, even for women."""
    born = date(1970, 1, 1) + timedelta(days=_rng.randrange(0, 365 * 35))
    seq = _rng.randrange(0, 1000)
    if female is not None and (seq % 2 == 0) != female:
        seq = (seq + 1) % 1000
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)


@dataclass
class District:
    id: str
    street_id: str
    union_ids: list[str] = field(default_factory=list)


def found_district(client: httpx.Client, name: str | None = None, unions: int = 1) -> District:
    """A district with one street and `unions` grassroots unions, created by the city admin."""
    n = next(_seq)
    name = name or f"测试{n}区总工会{uuid.uuid4().hex[:4]}"

    def post(body):
        r = client.post("/organisations", json=body, headers=auth())
        assert r.status_code == 201, r.text
        return r.json()["id"]

    d = post({"parent_id": str(ROOT), "name": name, "level": "district", "kind": "district_federation",
              "region_code": "510104"})
    s = post({"parent_id": d, "name": f"{name}街道工会", "level": "street", "kind": "street_union",
              "region_code": "510104"})
    district = District(d, s)
    for i in range(unions):
        district.union_ids.append(post({"parent_id": s, "name": f"{name}第{i + 1}公司工会", "level": "grassroots",
                                        "kind": "enterprise_union", "region_code": "510104"}))
    return district


def admit(client: httpx.Client, union_id: str, *, name: str = "王小明", email: str | None = None,
          headers: dict | None = None, **extra) -> httpx.Response:
    body = {"union_id": union_id, "name": name, "id_number": new_resident_id(), **extra}
    if email:
        body["email"] = email
    return client.post("/members", json=body, headers=headers or auth())
