"""A small demo city: districts, streets, grassroots unions and a few hundred members with
zh_CN names and valid resident ID numbers, admitted through the membership API.

Deterministic and idempotent: every POST carries an Idempotency-Key derived from what it
creates, so running it again (a second `make run`) changes nothing.

    python -m devstack.seed [--members 300] [--url http://127.0.0.1:8001]"""
from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
from faker import Faker

from unionops.auth import issue_token, root_org_id
from unionops.pii import check_character
from unionops.settings import CommonSettings

DISTRICTS = [("锦江区总工会", "510104"), ("青羊区总工会", "510105"), ("金牛区总工会", "510106")]
STREETS = ["街道工会", "镇工会"]
UNION_KINDS = [("enterprise_union", "有限公司工会"), ("joint_grassroots_union", "联合基层工会"),
               ("building_union", "楼宇工会")]


_ZH_DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")


def zh_digits(value: object) -> str:
    """Numbered test and benchmark names in Chinese numerals (王五7 is no person's name: the
    services refuse digits in names)."""
    return str(value).translate(_ZH_DIGITS)


def resident_id(rng: random.Random, area_code: str) -> str:
    born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 38))
    first17 = f"{area_code}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + check_character(first17)


@dataclass
class SeedResult:
    unions: list[dict]
    members: list[dict]


def seed(url: str, members: int = 300, *, seed_value: int = 2026) -> SeedResult:
    settings = CommonSettings()
    token = issue_token(settings, subject="demo-seed", role="federation_admin", name="演示数据",
                        org_id=root_org_id(settings.city_region_code))
    rng = random.Random(seed_value)
    fake = Faker("zh_CN")
    fake.seed_instance(seed_value)
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def post(path: str, key: str, body: dict) -> dict:
        r = client.post(path, json=body, headers={"Idempotency-Key": key})
        if r.status_code != 201:
            raise RuntimeError(f"POST {path} failed: {r.status_code} {r.text}")
        return r.json()

    root = str(root_org_id(settings.city_region_code))
    unions: list[dict] = []
    for d_i, (d_name, code) in enumerate(DISTRICTS):
        district = post("/organisations", f"seed-org-{d_i}", {
            "parent_id": root, "name": d_name, "level": "district", "kind": "district_federation", "region_code": code})
        for s_i, suffix in enumerate(STREETS):
            s_name = f"{d_name[:2]}{fake.street_name()}{suffix}"
            street = post("/organisations", f"seed-org-{d_i}-{s_i}", {
                "parent_id": district["id"], "name": s_name, "level": "street",
                "kind": "street_union" if suffix == "街道工会" else "town_union", "region_code": code})
            for u_i, (kind, label) in enumerate(UNION_KINDS):
                u_name = f"{fake.company_prefix()}{label}"
                unions.append(post("/organisations", f"seed-org-{d_i}-{s_i}-{u_i}", {
                    "parent_id": street["id"], "name": u_name, "level": "grassroots", "kind": kind,
                    "region_code": code}) | {"region_code": code})
    admitted = []
    for n in range(members):
        union = unions[n % len(unions)]
        admitted.append(post("/members", f"seed-member-{n}", {
            "union_id": union["id"], "name": fake.name(), "id_number": resident_id(rng, union["region_code"]),
            "phone": fake.phone_number(), "email": f"member{n:04d}@demo.unionops.cn",
            "employer": union["name"].removesuffix("工会"), "is_migrant_worker": rng.random() < 0.3,
        }))
    return SeedResult(unions, admitted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8001")
    parser.add_argument("--members", type=int, default=300)
    args = parser.parse_args()
    result = seed(args.url, args.members)
    print(f"demo city: {len(result.unions)} grassroots unions, {len(result.members)} members")


if __name__ == "__main__":
    main()
