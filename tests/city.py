"""Building a small organisation tree and admitting members through the membership API."""
from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from unionops.auth import issue_token, root_org_id
from contracts.events import MemberContactChanged
from unionops.pii import DataKey, KeyRing, b64, check_character, unb64
from unionops.settings import CommonSettings

SETTINGS = CommonSettings()
ROOT = root_org_id(SETTINGS.city_region_code)
CONTACT_KEYS = KeyRing.from_config(SETTINGS.pii_contact_keys)
_rng = random.Random()
_seq = itertools.count(1)


def token(role: str = "federation_admin", org: uuid.UUID | str = ROOT, subject: str = "test-admin") -> str:
    return issue_token(SETTINGS, subject=subject, role=role, org_id=org)


def auth(role: str = "federation_admin", org: uuid.UUID | str = ROOT) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, org)}"}


_BIRTH_DAYS = 365 * 35  # people born 1970–2004
# Every number this process makes is a different person: a random number would repeat within a
# few thousand admissions (the birthday paradox over 12.8 million numbers) and a test would meet
# "already a member" by chance. Starting at a random place keeps runs apart.
_people = itertools.count(_rng.randrange(0, _BIRTH_DAYS * 500 // 2))


def new_resident_id(area: str = "510104", *, female: bool | None = None) -> str:
    """A valid resident ID number, never the same twice in a test run; the 17th digit is odd for
    men, even for women."""
    n = next(_people)
    # The sequence number changes fastest, so the masked form (first 4, last 4) of people made
    # one after another differs too, as real people's mostly do.
    born = date(1970, 1, 1) + timedelta(days=(n // 500) % _BIRTH_DAYS)
    seq = 2 * (n % 500)  # even: a woman's
    if female is False or (female is None and n % 2):
        seq += 1
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


def contact_changed(member_id: uuid.UUID, name: str, *, email: str | None = None,
                    phone: str | None = None) -> MemberContactChanged:
    """A MemberContactChanged as membership sends it: sealed under a data key of the member's."""
    dek = DataKey.generate(str(member_id))
    return MemberContactChanged(
        member_id=member_id, name=name, data_key=b64(CONTACT_KEYS.wrap(dek)), data_key_id=dek.key_id,
        email_sealed=b64(dek.seal("email", email)) if email else None,
        phone_sealed=b64(dek.seal("phone", phone)) if phone else None)


def open_contact(payload: dict) -> dict:
    """What notify reads from a MemberContactChanged payload (for tests about what it carries)."""
    dek = CONTACT_KEYS.unwrap(payload["member_id"], unb64(payload["data_key"]))
    return {f: dek.open(f, unb64(payload[f"{f}_sealed"])) if payload.get(f"{f}_sealed") else None
            for f in ("email", "phone")}
