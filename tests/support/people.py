"""Who a test acts as and the personal data it makes up: tokens, valid ID numbers, credit and
region codes, contact details sealed as membership seals them."""
from __future__ import annotations

import itertools
import random
import uuid
from datetime import date, timedelta

from contracts.events import MemberContactChanged
from unionops.auth import issue_token, root_org_id
from unionops.pii import DataKey, KeyRing, b64, check_character, unb64
from unionops.settings import CommonSettings

SETTINGS = CommonSettings()
ROOT = root_org_id(SETTINGS.city_region_code)
CONTACT_KEYS = KeyRing.from_config(SETTINGS.pii_contact_keys)
_rng = random.Random()


def token(role: str = "federation_admin", org: uuid.UUID | str = ROOT, subject: str = "test-admin") -> str:
    return issue_token(SETTINGS, subject=subject, role=role, org_id=org)


def auth(role: str = "federation_admin", org: uuid.UUID | str = ROOT, subject: str = "test-admin") -> dict[str, str]:
    """Bearer headers of `role` in `org`; by default the city's federation admin."""
    return {"Authorization": f"Bearer {token(role, org, subject)}"}


_BIRTH_DAYS = 365 * 35  # people born 1970–2004
# Every number this process makes is a different person: a random number would repeat within a
# few thousand admissions (the birthday paradox over 12.8 million numbers) and a test would meet
# "already a member" by chance. Starting at a random place keeps runs apart.
_people = itertools.count(_rng.randrange(0, _BIRTH_DAYS * 500 // 2))


def new_resident_id(area: str = "510104", *, female: bool | None = None) -> str:
    """A valid resident ID number, never the same twice in a test run; the 17th digit is odd for
    men, even for women (either when `female` is None)."""
    n = next(_people)
    # The sequence number changes fastest, so the masked form (first 4, last 4) of people made
    # one after another differs too, as real people's mostly do.
    born = date(1970, 1, 1) + timedelta(days=(n // 500) % _BIRTH_DAYS)
    seq = 2 * (n % 500)  # even: a woman's
    if female is False or (female is None and n % 2):
        seq += 1
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)


_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Region codes no other test uses (the trees are founded in 510104), one per call.
_regions = itertools.count(_rng.randrange(200000, 900000))


def new_region_code() -> str:
    return f"{next(_regions):06d}"


def new_credit_code() -> str:
    """A valid unified social credit code (统一社会信用代码): 91 + area + 9-char org code + check."""
    body = "91" + "510104" + "".join(_rng.choice(_CREDIT_CHARS) for _ in range(9))
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(body, _CREDIT_WEIGHTS))
    return body + _CREDIT_CHARS[(31 - total % 31) % 31]


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
