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

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from unionops.clock import local_today

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# Province-level prefixes of the administrative-region code (GB/T 2260).
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
}
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


def parse_resident_id(raw: str, *, today: date | None = None) -> ResidentId:
    """Validate an 18-character resident ID number: area code, birth date, ISO 7064 MOD 11-2."""
    number = (raw or "").strip().upper()
    if len(number) != 18:
        raise InvalidResidentId("身份证号须为18位")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidResidentId("身份证号前17位须为数字，末位为数字或X")
    if number[:2] not in _PROVINCES:
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


class Vault:
    """Encrypts personal data at rest and computes keyed hashes for look-ups.

    The AAD binds each ciphertext to its field name, so a value cannot be moved to another field."""

    def __init__(self, encryption_key_b64: str, hash_key_b64: str) -> None:
        key = base64.b64decode(encryption_key_b64)
        if len(key) != 32:
            raise ValueError("PII_ENCRYPTION_KEY must be 32 bytes, base64-encoded")
        self._aead = AESGCM(key)
        self._hash_key = base64.b64decode(hash_key_b64)
        if len(self._hash_key) < 16:
            raise ValueError("PII_HASH_KEY must be at least 16 bytes, base64-encoded")

    def encrypt(self, field: str, plaintext: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), field.encode())

    def decrypt(self, field: str, blob: bytes) -> str:
        return self._aead.decrypt(bytes(blob[:12]), bytes(blob[12:]), field.encode()).decode()

    def lookup_hash(self, field: str, value: str) -> str:
        return hmac.new(self._hash_key, f"{field}:{value}".encode(), hashlib.sha256).hexdigest()
