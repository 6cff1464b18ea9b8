from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unionops.pii import (
    InvalidResidentId,
    Vault,
    check_character,
    mask_name,
    mask_phone,
    mask_resident_id,
    normalise_phone,
    parse_resident_id,
)
from unionops.settings import CommonSettings


def test_the_published_example_number_is_valid():
    rid = parse_resident_id("11010519491231002X")
    assert rid.birth_date == date(1949, 12, 31)
    assert rid.gender == "female"  # 17th digit 2 is even
    assert rid.area_code == "110105"


def test_lower_case_x_is_accepted():
    assert parse_resident_id("11010519491231002x").number == "11010519491231002X"


@pytest.mark.parametrize("number, reason", [
    ("11010519491231002", "18位"),
    ("1101051949123100A2", "前17位"),
    ("990105194912310021", "地区码"),
    ("519999198804127310", "地区码"),   # 四川 exists, its county 9999 never did (check character right)
    ("110105194902300021", "出生日期"),
    ("110105299912310021", "出生日期"),
    ("110105194912310021", "校验码"),
])
def test_malformed_resident_id_numbers_are_refused_with_the_reason(number, reason):
    with pytest.raises(InvalidResidentId, match=reason):
        parse_resident_id(number)


@pytest.mark.parametrize("area", ["510104", "110105", "510102", "512201", "513229", "440300", "810000"])
def test_area_codes_of_divisions_that_exist_or_once_existed_are_accepted(area):
    """GB/T 2260 codes, also of divisions merged or renamed since (510102 成都东城区 until 1990,
    512201 万县市 until 1992, 513229 马尔康县 until 2015), whatever the holder's birth year."""
    first17 = f"{area}19600101123"
    assert parse_resident_id(first17 + check_character(first17)).area_code == area


@given(st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 1, 1)), st.integers(0, 999))
def test_check_character_makes_any_number_valid_and_any_other_invalid(born, seq):
    first17 = f"510104{born:%Y%m%d}{seq:03d}"
    good = first17 + check_character(first17)
    assert parse_resident_id(good).gender == ("male" if seq % 2 else "female")
    for wrong in "0123456789X":
        if wrong != good[-1]:
            with pytest.raises(InvalidResidentId):
                parse_resident_id(first17 + wrong)


def test_masks_show_only_enough_to_tell_people_apart():
    assert mask_resident_id("510104199001011234") == "5101**********1234"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧**娜"


def test_phone_numbers_are_normalised_or_refused():
    assert normalise_phone("+86 138-0013-8000") == "13800138000"
    with pytest.raises(ValueError):
        normalise_phone("12345")


def test_personal_data_is_encrypted_and_bound_to_its_field():
    s = CommonSettings()
    vault = Vault(s.pii_encryption_key, s.pii_hash_key)
    blob = vault.encrypt("id_number", "11010519491231002X")
    assert b"11010519491231002X" not in blob
    assert vault.decrypt("id_number", blob) == "11010519491231002X"
    with pytest.raises(Exception):
        vault.decrypt("phone", blob)
    assert vault.lookup_hash("id_number", "x") == vault.lookup_hash("id_number", "x")
    assert vault.lookup_hash("id_number", "x") != vault.lookup_hash("phone", "x")
