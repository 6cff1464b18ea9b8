"""The primitives of per-person envelope encryption (unionops.pii): key rings with key ids, data
keys wrapped under them, fields bound to their name and owner."""
import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from unionops.pii import DataKey, KeyRing, UnknownKey, envelope_open, envelope_seal, sealed_key_id
from unionops.settings import CommonSettings


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_every_ciphertext_names_its_key_so_a_ring_can_rotate():
    k1, k2 = _key(), _key()
    old = KeyRing.from_config(f"k1:{k1}")
    wrapped_before = old.wrap(DataKey.generate("m-1"))
    rotated = KeyRing.from_config(f"k2:{k2},k1:{k1}")  # new current first, the old one kept to read
    dek = DataKey.generate("m-1")
    wrapped_after = rotated.wrap(dek)
    assert sealed_key_id(wrapped_before) == "k1" and sealed_key_id(wrapped_after) == "k2"
    assert rotated.unwrap("m-1", wrapped_before).key_id  # old key ids still open
    assert rotated.unwrap("m-1", wrapped_after) == dek
    with pytest.raises(UnknownKey):
        old.unwrap("m-1", wrapped_after)  # a ring without k2 cannot


def test_a_sealed_field_opens_only_as_that_field_of_that_person():
    dek = DataKey.generate("m-1")
    sealed = dek.seal("email", "li@example.cn")
    assert sealed_key_id(sealed) == dek.key_id
    assert dek.open("email", sealed) == "li@example.cn"
    with pytest.raises(InvalidTag):
        dek.open("phone", sealed)
    with pytest.raises(InvalidTag):
        DataKey("m-2", dek.key_id, dek.key).open("email", sealed)
    ring = KeyRing.from_config(f"k1:{_key()}")
    with pytest.raises(InvalidTag):
        ring.unwrap("m-2", ring.wrap(dek))  # a data key wrapped for one member is not another's


def test_destroying_a_persons_data_key_makes_every_copy_unreadable():
    ring = KeyRing.from_config(f"k1:{_key()}")
    wrapped, sealed = envelope_seal(ring, "m-1", {"email": "li@example.cn", "phone": "13800138000", "x": None})
    assert envelope_open(ring, "m-1", wrapped, sealed) == {"email": "li@example.cn", "phone": "13800138000",
                                                           "x": None}
    assert b"13800138000" not in sealed["phone"] and b"li@example.cn" not in sealed["email"]
    another = DataKey.generate("m-1")  # all that is left once the member's key is gone: other keys
    with pytest.raises(UnknownKey):
        another.open("phone", sealed["phone"])


def test_the_development_key_rings_are_valid_rings():
    s = CommonSettings()
    for spec in (s.pii_contact_keys, s.pii_hr_keys):
        assert KeyRing.from_config(spec).current_id
    with pytest.raises(ValueError):
        KeyRing.from_config("k1")
    with pytest.raises(ValueError):
        KeyRing.from_config("k1:" + base64.b64encode(b"short").decode())
