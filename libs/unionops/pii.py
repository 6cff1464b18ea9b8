"""Personal data: resident ID numbers (GB 11643-1999) and phone numbers — validation,
encryption at rest (AES-256-GCM), keyed hashes for look-up and de-duplication, and masking."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from stdnum import numdb

from unionops.clock import local_today

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PHONE = re.compile(r"^1[3-9]\d{9}$")


class InvalidResidentId(ValueError):
    """The reason is a Chinese sentence fit for the person who typed the number."""


@dataclass(frozen=True)
class ResidentId:
    number: str
    area_code: str
    birth_date: date
    gender: str  # "male" | "female"

    @property
    def masked(self) -> str:
        return mask_resident_id(self.number)


def check_character(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def is_division_code(code: str) -> bool:
    """A six-digit administrative division code (GB/T 2260) that exists or once existed: ID
    numbers keep the code of the place they were first issued in, so a county merged or renamed
    since (四川 510102 东城区, until 1990) still makes a valid number. python-stdnum's table
    (stdnum/cn/loc.dat, from the official lists) has every code with the years it was in use;
    the years are not checked against the birth date, since a number is issued when a person is
    first registered, often years after birth (a 成都 510107 武侯区 number of someone born in 1985)."""
    return code in _division_codes()


@lru_cache(maxsize=1)
def _division_codes() -> frozenset[str]:
    """Every six-digit code of the table, read once: a set look-up, not a walk of the table per
    number, since an import checks a million numbers."""
    def spread(low: str, high: str) -> list[str]:
        return [f"{n:0{len(low)}d}" for n in range(int(low), int(high) + 1)]

    return frozenset(province + county
                     for _, low, high, _, counties in numdb.get("cn/loc").prefixes for province in spread(low, high)
                     for length, c_low, c_high, props, _ in counties if length == 4 and "county" in props
                     for county in spread(c_low, c_high))


def parse_resident_id(raw: str, *, today: date | None = None) -> ResidentId:
    """Validate an 18-character resident ID number (GB 11643-1999): the area code (地区码) against
    the national division codes, the birth date (出生日期), the check character (校验码, ISO 7064
    MOD 11-2). Each refusal names the part that is wrong."""
    number = (raw or "").strip().upper()
    if len(number) != 18:
        raise InvalidResidentId("身份证号须为18位")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidResidentId("身份证号前17位须为数字，末位为数字或X")
    if not is_division_code(number[:6]):
        raise InvalidResidentId("身份证号地区码无效")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidResidentId("身份证号出生日期无效") from None
    if born.year < 1900 or born > (today or local_today()):
        raise InvalidResidentId("身份证号出生日期无效")
    if check_character(number[:17]) != number[17]:
        raise InvalidResidentId("身份证号校验码错误")
    return ResidentId(number, number[:6], born, "male" if int(number[16]) % 2 else "female")


def normalise_phone(raw: str) -> str:
    phone = re.sub(r"[\s-]", "", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _PHONE.match(phone):
        raise ValueError("手机号须为11位中国大陆手机号")
    return phone


def mask_resident_id(number: str) -> str:
    return number[:4] + "*" * (len(number) - 8) + number[-4:] if len(number) > 8 else "*" * len(number)


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "*" * len(phone)


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧**娜: enough to tell people apart on a public notice."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


# What personal data looks like inside free text — a server's error message, an exception, a log
# line: e-mail addresses, mainland mobile numbers, resident ID numbers (18 characters), and the
# DETAIL PostgreSQL adds to a constraint violation ("Key (email)=(…)", "Failing row contains (…)",
# which echoes a whole row: names, health or family text). Boundaries exclude letters and digits
# only, so a number inside Chinese text is found and a trace id or UUID is left alone.
_IN_TEXT = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?<![0-9A-Za-z])(?:1[3-9]\d{9}|\d{17}[\dXx])(?![0-9A-Za-z])"
    r"|DETAIL:[^\n]*"
)


def redact(text: str) -> str:
    """`text` with every e-mail address, mobile number, ID number and database DETAIL hidden:
    for what goes into logs, spans, error columns and dead-letter headers."""
    return _IN_TEXT.sub(lambda m: "DETAIL: ***" if m.group().startswith("DETAIL:") else "***", text)


class Vault:
    """Encrypts personal data at rest and computes keyed hashes for look-ups.

    The AAD binds each ciphertext to its field name, so a value cannot be moved to another field."""

    def __init__(self, encryption_key_b64: str, hash_key_b64: str, *, contact_keys: "KeyRing | None" = None,
                 hr_keys: "KeyRing | None" = None) -> None:
        # contact_keys: wraps members' data keys (membership and notify); hr_keys: opens ID numbers
        # the HR systems sealed (membership). Both rings with key ids, see KeyRing.
        self.contact_keys = contact_keys
        self.hr_keys = hr_keys
        key = base64.b64decode(encryption_key_b64)
        if len(key) != 32:
            raise ValueError("PII_ENCRYPTION_KEY must be 32 bytes, base64-encoded")
        self._aead = AESGCM(key)
        self._hash_key = base64.b64decode(hash_key_b64)
        if len(self._hash_key) < 16:
            raise ValueError("PII_HASH_KEY must be at least 16 bytes, base64-encoded")

    @classmethod
    def from_settings(cls, settings) -> "Vault":
        return cls(settings.pii_encryption_key, settings.pii_hash_key,
                   contact_keys=KeyRing.from_config(settings.pii_contact_keys),
                   hr_keys=KeyRing.from_config(settings.pii_hr_keys))

    def encrypt(self, field: str, plaintext: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), field.encode())

    def decrypt(self, field: str, blob: bytes) -> str:
        return self._aead.decrypt(bytes(blob[:12]), bytes(blob[12:]), field.encode()).decode()

    def lookup_hash(self, field: str, value: str) -> str:
        return hmac.new(self._hash_key, f"{field}:{value}".encode(), hashlib.sha256).hexdigest()


# ---- keys with ids, and per-person data keys (envelope encryption) ---------------------------------
#
# A sealed value is `b"U1" + len(key id) + key id + nonce(12) + AES-256-GCM ciphertext`: the key id
# travels with the ciphertext, so a key ring can rotate (new writes use its current key, values
# sealed under an older key still open while that key stays in the ring). Each person's personal
# data is sealed under their own random data key (DEK); the DEK is stored and sent only wrapped
# (sealed) under a key-encryption key (KEK) from configuration. Destroying one DEK makes every copy
# of that person's data unreadable, wherever the ciphertext went (erasure under PIPL).

_MAGIC = b"U1"


class UnknownKey(KeyError):
    """The ciphertext names a key this ring (or data key) does not hold: rotated out or destroyed."""


def _aad(*parts: str) -> bytes:
    # Binds a ciphertext to what it is (field name) and whose it is (the person's id), so a value
    # cannot be copied into another field or onto another person.
    return "\x1f".join(parts).encode()


def seal(key_id: str, key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM under `key`, with `key_id` written in front of the ciphertext."""
    kid = key_id.encode()
    if not 0 < len(kid) < 256:
        raise ValueError("key id must be 1 to 255 bytes")
    nonce = os.urandom(12)
    return _MAGIC + bytes([len(kid)]) + kid + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def sealed_key_id(blob: bytes) -> str:
    """The id of the key a sealed value needs."""
    blob = bytes(blob)
    if blob[:2] != _MAGIC or len(blob) < 3:
        raise ValueError("not a sealed value")
    return blob[3:3 + blob[2]].decode()


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    blob = bytes(blob)
    start = 3 + blob[2]
    return AESGCM(key).decrypt(blob[start:start + 12], blob[start + 12:], aad)


def b64(blob: bytes | None) -> str | None:
    """A sealed value as events carry it (JSON has no bytes)."""
    return None if blob is None else base64.b64encode(bytes(blob)).decode()


def unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


class KeyRing:
    """Key-encryption keys by id, one of them current. Configured as ``id:base64key,...``; the first
    listed is current (new writes), the others only open what was sealed under them."""

    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError("the current key must be in the ring")
        for kid, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"key {kid!r} must be 32 bytes")
        self._keys = dict(keys)
        self.current_id = current

    @classmethod
    def from_config(cls, spec: str) -> "KeyRing":
        keys: dict[str, bytes] = {}
        for item in (p.strip() for p in spec.split(",")):
            if not item:
                continue
            kid, sep, value = item.partition(":")
            if not sep or not kid:
                raise ValueError("key ring entries are id:base64key")
            keys[kid.strip()] = base64.b64decode(value.strip())
        if not keys:
            raise ValueError("a key ring needs at least one key")
        return cls(keys, next(iter(keys)))

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        return seal(self.current_id, self._keys[self.current_id], plaintext, aad)

    def open(self, blob: bytes, aad: bytes) -> bytes:
        kid = sealed_key_id(blob)
        if kid not in self._keys:
            raise UnknownKey(kid)
        return _open(self._keys[kid], blob, aad)

    def seal_field(self, field: str, owner: str, plaintext: str) -> bytes:
        """A value sealed directly under the ring (no data key), bound to its field and owner: for
        values that pass between two systems, such as an ID number from HR to membership."""
        return self.seal(plaintext.encode(), _aad(field, str(owner)))

    def open_field(self, field: str, owner: str, blob: bytes) -> str:
        return self.open(blob, _aad(field, str(owner))).decode()

    def wrap(self, dek: "DataKey") -> bytes:
        """The data key sealed under the current KEK (its own id inside), bound to its owner."""
        kid = dek.key_id.encode()
        return self.seal(bytes([len(kid)]) + kid + dek.key, _aad("data-key", dek.owner))

    def unwrap(self, owner: str, wrapped: bytes) -> "DataKey":
        """The data key of `owner` from its wrapped form; fails if it was wrapped for someone else."""
        inner = self.open(wrapped, _aad("data-key", str(owner)))
        return DataKey(str(owner), inner[1:1 + inner[0]].decode(), inner[1 + inner[0]:])


@dataclass(frozen=True)
class DataKey:
    """One person's data key (DEK): seals that person's personal fields and nothing else."""

    owner: str      # the person's id (e.g. the member id)
    key_id: str
    key: bytes

    @classmethod
    def generate(cls, owner: str) -> "DataKey":
        return cls(str(owner), uuid_hex(), AESGCM.generate_key(bit_length=256))

    def seal(self, field: str, plaintext: str) -> bytes:
        return seal(self.key_id, self.key, plaintext.encode(), _aad(field, self.owner))

    def open(self, field: str, blob: bytes) -> str:
        if sealed_key_id(blob) != self.key_id:
            raise UnknownKey(sealed_key_id(blob))
        return _open(self.key, blob, _aad(field, self.owner)).decode()


def uuid_hex() -> str:
    return os.urandom(16).hex()


def envelope_seal(ring: KeyRing, owner: str, fields: dict[str, str | None],
                  dek: DataKey | None = None) -> tuple[bytes, dict[str, bytes | None]]:
    """Seal `fields` of `owner` under their DEK (a new one unless given); returns the wrapped DEK
    and the sealed fields (None stays None)."""
    dek = dek or DataKey.generate(owner)
    return ring.wrap(dek), {f: dek.seal(f, v) if v is not None else None for f, v in fields.items()}


def envelope_open(ring: KeyRing, owner: str, wrapped_dek: bytes,
                  sealed: dict[str, bytes | None]) -> dict[str, str | None]:
    """The clear fields of `owner` from a wrapped DEK and fields sealed under it."""
    dek = ring.unwrap(owner, wrapped_dek)
    return {f: dek.open(f, b) if b is not None else None for f, b in sealed.items()}
