"""Resident ID numbers (GB 11643-1999) over HTTP, wherever a service takes one — membership's
admission, import rows and transfer requests, welfare's household members: the area code is one of
the national division codes (GB/T 2260, also those of divisions merged or renamed since), and a
refusal names the part that is wrong."""
from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from tests.integration.test_member_import import _hash, person, upload, xlsx
from tests.support.membership import found_district
from tests.support.people import auth
from unionops.pii import check_character

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "welfare", subject="membership")]


def numbered(first17: str) -> str:
    return first17 + check_character(first17)


async def members_with(stack_config, *numbers: str) -> int:
    """How many members hold these numbers (found by their keyed hash, as membership stores them)."""
    conn = await asyncpg.connect(stack_config.dsn("membership"))
    try:
        return await conn.fetchval("SELECT count(*) FROM members WHERE id_number_hash = ANY($1::text[])",
                                   [_hash(n) for n in numbers])
    finally:
        await conn.close()


def admit(client, union: str, number: str):
    return client.post("/members", headers=auth(), json={"union_id": union, "name": "周敏", "id_number": number})


async def test_an_id_number_whose_area_code_is_no_division_is_refused_naming_the_area_code(client, stack):
    """四川 51…, county 9999: the province exists, the county never did."""
    union = found_district(client).union_ids[0]
    no_county = numbered("519999" + "19880412" + "731")
    r = admit(client, union, no_county)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    [error] = r.json()["errors"]
    assert error["field"] == "body.id_number" and "地区码" in error["message"]
    assert no_county not in r.text

    sheet = upload(client, xlsx([person(union, 1), person(union, 2, 身份证号=no_county)]))
    assert sheet.status_code == 422
    assert sheet.json()["errors"] == [{"row": 3, "field": "id_number", "column": "身份证号",
                                       "message": "身份证号地区码无效"}]

    transfer = client.post("/transfer-requests", headers=auth(), json={
        "id_number": no_county, "to_union_id": union, "new_employer": "成都机床厂"})
    assert transfer.status_code == 422 and "地区码" in transfer.json()["errors"][0]["message"]
    assert await members_with(stack, no_county) == 0

    with httpx.Client(base_url=stack.url("welfare"), timeout=30) as welfare:
        household = welfare.post("/hardship-files", headers=auth(), json={
            "member_id": str(uuid.uuid4()), "file_kind": "worker", "causes": ["illness"],
            "annual_income_fen": 2_400_000, "unavoidable_costs_fen": 0, "largest_event_cost_fen": 0,
            "household": [{"relation": "self", "name": "周敏", "id_number": no_county, "monthly_income_fen": 0}]})
    assert household.status_code == 422, household.text
    [error] = household.json()["errors"]
    assert error["field"] == "body.household.0.id_number" and "地区码" in error["message"]


async def test_numbers_issued_by_divisions_since_merged_or_renamed_are_admitted(client, stack_config):
    """成都 510102 东城区 (until 1990) and 四川 512201 万县市 (until 1992): their people keep their numbers."""
    union = found_district(client).union_ids[0]
    old = [numbered("510102" + "19620305" + "415"), numbered("512201" + "19700918" + "326")]
    for number in old:
        r = admit(client, union, number)
        assert r.status_code == 201, r.text
    assert await members_with(stack_config, *old) == 2


async def test_a_refused_id_number_names_the_wrong_part(client, stack_config):
    union = found_district(client).union_ids[0]
    good = numbered("510107" + "19850623" + "118")
    wrong = {
        "地区码": numbered("510199" + "19850623" + "118"),
        "出生日期": numbered("510107" + "19850230" + "118"),
        "校验码": good[:17] + ("0" if good[17] != "0" else "1"),
    }
    for part, number in wrong.items():
        r = admit(client, union, number)
        assert r.status_code == 422, part
        [error] = r.json()["errors"]
        assert error["field"] == "body.id_number" and part in error["message"], (part, error)
        assert sum(p in error["message"] for p in wrong) == 1  # one part, the wrong one
    assert await members_with(stack_config, *wrong.values()) == 0
    assert admit(client, union, good).status_code == 201
