"""The city, built from nothing the way a federation starts using the system: its districts,
streets and grassroots unions of every kind founded over the API, the employers of every
ownership type with their headcounts registered, each district's targets set, and the existing
register (存量会员) loaded by bulk import in sheets — not one request per member.

Shapes (the assumptions are in docs/benchmarks.md, "The year of the city"):
- districts: one per 80,000 members, 2 to 12 (成都's district codes, valid for ID numbers);
- streets: 2 to 30 per district, one per 8,000 members of the district;
- grassroots unions: one per 150 members (at least two per street) — enterprise unions mostly,
  joint, building and market unions, a migrant workers' federation per district;
- employers: one per enterprise union, three small ones per joint union, and one uncovered
  employer per five unions (the founding drive's targets); ownership 15 % state-owned,
  5 % collective, 80 % non-public; a fifth above designated size;
- the register: 92 % of the members at the start, in sheets of at most 50,000 rows."""
from __future__ import annotations

import csv
import io
import itertools
import random
from dataclasses import dataclass
from datetime import date, timedelta

from devstack.seed import zh_digits as zh  # names carry no digits
from devstack.year.context import City, Employer, Person, Unit, Year, YearFailed
from unionops.auth import root_org_id
from unionops.pii import check_character

DISTRICT_CODES = [("锦江区", "510104"), ("青羊区", "510105"), ("金牛区", "510106"), ("武侯区", "510107"),
                  ("成华区", "510108"), ("龙泉驿区", "510112"), ("青白江区", "510113"), ("新都区", "510114"),
                  ("温江区", "510115"), ("双流区", "510116"), ("郫都区", "510117"), ("新津区", "510118")]
BIRTH_AREAS = ["510104", "510105", "510106", "510107", "510108", "510112", "510114", "510116", "510122",
               "511002", "511102", "513401"]  # 成都 and people who came from elsewhere in 四川
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红兰飞鹏建国梅琳雪婷宇浩然欣怡子轩梓涵一诺晨思雨佳俊博文海燕波辉峰凤霞斌宁琴云莉颖倩慧鑫晶亮健"
STREET_WORDS = "春熙盐市口府南沙河双桥东湖望江合江亭锦官驿牛市口抚琴草堂营门口九里堤红牌楼桂溪玉林簇桥"
TRADES = ["机械", "电子", "建筑", "物流", "餐饮", "纺织", "软件", "医药", "食品", "汽车", "家具", "印刷",
          "环保", "商贸", "电力", "化工", "酒店", "物业", "快递", "光电"]
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
SHEET_ROWS = 50_000
REGISTER_SHARE = 0.92


def credit_code(rng: random.Random, area: str) -> str:
    body = "91" + area + "".join(rng.choice(_CREDIT_CHARS) for _ in range(9))
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(body, _CREDIT_WEIGHTS))
    return body + _CREDIT_CHARS[(31 - total % 31) % 31]


class People:
    """Made-up residents, each a different valid ID number (GB 11643) in a fixed order."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.serial = itertools.count()

    def person(self, union_id: str, employer: str) -> Person:
        n = next(self.serial)
        area = BIRTH_AREAS[n % len(BIRTH_AREAS)]
        k = n // len(BIRTH_AREAS)
        born = date(1968, 1, 1) + timedelta(days=(k // 500) % (365 * 36))
        female = self.rng.random() < 0.45
        seq = 2 * (k % 500) + (0 if female else 1)
        seq = seq % 1000
        first17 = f"{area}{born:%Y%m%d}{seq:03d}"
        name = self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))
        phone = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
        return Person(member_id="", name=name, id_number=first17 + check_character(first17), union_id=union_id,
                      employer=employer, female=female, birth_date=born, email=f"m{n:07d}@city.unionops.cn",
                      phone=phone, migrant_worker=n % 5 == 2)  # a fifth are migrant workers (no rng draw)


@dataclass
class Shape:
    districts: int
    streets_per_district: int
    unions: int

    @classmethod
    def of(cls, members: int) -> "Shape":
        districts = max(2, min(12, members // 80_000))
        streets = max(2, min(30, members // (districts * 8_000)))
        unions = max(districts * streets * 2, members // 150)
        return cls(districts, streets, unions)


UNION_KINDS = [("enterprise_union", 0.70), ("joint_grassroots_union", 0.12), ("building_union", 0.08),
               ("market_union", 0.05), ("industry_union", 0.05)]
OWNERSHIP = [("state_owned", 0.15), ("collective", 0.05), ("non_public", 0.80)]


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


async def found(year: Year, parent: Unit | None, name: str, level: str, kind: str, region: str,
                established_on: date, key: str, employer_ids: list[str] | None = None) -> Unit:
    body = {"parent_id": parent.id if parent else year.city.root_id, "name": name, "level": level, "kind": kind,
            "region_code": region, "established_on": established_on.isoformat()}
    if employer_ids:
        body["employer_ids"] = employer_ids
    r = await year.call("membership", "POST", "/organisations", token=year.admin_token(), json=body, key=key)
    district = parent.district_id or parent.id if parent and level != "district" else None
    if level == "street":
        district = parent.id
    return Unit(r.json()["id"], name, level, kind, region, parent.id if parent else year.city.root_id,
                district if level != "district" else None)


async def register_employer(year: Year, street: Unit, name: str, ownership: str, headcount: int,
                            above: bool, key: str) -> Employer:
    code = credit_code(year.rng, street.region_code)
    r = await year.call("membership", "POST", "/employers", token=year.admin_token(), key=key, json={
        "org_id": street.id, "name": name, "credit_code": code, "ownership": ownership, "headcount": headcount,
        "above_designated_size": above})
    return Employer(r.json()["id"], name, code, street.id, None, headcount, ownership, above)


async def build(year: Year) -> None:
    """The tree, the employers, the targets; then the register."""
    rng, members = year.rng, year.scale.members
    shape = Shape.of(members)
    year.city = city = City(root_id=str(root_org_id(year.settings.city_region_code)))
    founded_on = date(year.year - 1, 1, 1)
    people_per_union = members / shape.unions
    for d_i, (d_name, code) in enumerate(DISTRICT_CODES[:shape.districts]):
        district = await found(year, None, f"{d_name}总工会", "district", "district_federation", code, founded_on,
                               f"year-district-{d_i}")
        city.districts.append(district)
        for s_i in range(shape.streets_per_district):
            word = STREET_WORDS[(d_i * 7 + s_i * 2) % (len(STREET_WORDS) - 1):][:2]
            kind = "street_union" if s_i % 3 else "town_union"
            street = await found(year, district, f"{d_name[:2]}{word}{zh(s_i + 1)}{'街道' if s_i % 3 else '镇'}工会",
                                 "street", kind, code, founded_on, f"year-street-{d_i}-{s_i}")
            city.streets.append(street)
    year.count("districts", len(city.districts))
    year.count("streets", len(city.streets))
    # Grassroots unions, each covering its registered employers.
    for u_i in range(shape.unions):
        street = city.streets[u_i % len(city.streets)]
        kind = _pick(rng, UNION_KINDS)
        trade = TRADES[u_i % len(TRADES)]
        base = f"{street.name[:2]}{trade}{zh(u_i + 1)}"
        size = max(5, round(rng.gauss(people_per_union, people_per_union / 3)))
        if kind == "joint_grassroots_union":
            employers = [await register_employer(year, street, f"{base}号{n}商户", "non_public", max(3, size // 3),
                                                 False, f"year-employer-{u_i}-{n}") for n in "甲乙丙"]
            name = f"{base}联合基层工会"
        else:
            ownership = _pick(rng, OWNERSHIP) if kind == "enterprise_union" else "non_public"
            employers = [await register_employer(year, street, f"{base}有限公司", ownership, round(size * 1.1),
                                                 rng.random() < 0.2, f"year-employer-{u_i}")]
            name = {"enterprise_union": f"{base}有限公司工会", "building_union": f"{base}楼宇工会",
                    "market_union": f"{base}市场工会", "industry_union": f"{base}行业工会"}[kind]
        union = await found(year, street, name, "grassroots", kind, street.region_code, founded_on,
                            f"year-union-{u_i}", [e.id for e in employers])
        for e in employers:
            e.union_id = union.id
        city.unions.append(union)
        city.employers.extend(employers)
    # Employers without a union yet: the spring founding drive's targets.
    for e_i in range(max(1, shape.unions // 5)):
        street = city.streets[(e_i * 7) % len(city.streets)]
        city.employers.append(await register_employer(
            year, street, f"{street.name[:2]}{TRADES[e_i % len(TRADES)]}{zh(e_i + 1)}号新建有限公司",
            _pick(rng, OWNERSHIP), rng.randrange(30, 400), rng.random() < 0.2, f"year-uncovered-{e_i}"))
    year.count("grassroots unions", len(city.unions))
    year.count("employers", len(city.employers))
    await set_targets(year, shape)
    await load_register(year)


async def set_targets(year: Year, shape: Shape) -> None:
    """Each district's founding targets for the year (unions and members), set by the city."""
    per_district = year.scale.members // len(year.city.districts)
    for district in year.city.districts:
        await year.call("membership", "PUT", f"/organisations/{district.id}/targets/{year.year}",
                        token=year.admin_token(), json={
                            "unions_target": round(len(year.city.unions_of(district.id)) * 1.1) or 1,
                            "members_target": round(per_district * 1.05)})
    year.count("targets set", len(year.city.districts))


def sheet(rows: list[Person], joined: list[date]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["姓名", "身份证号", "手机号", "电子邮箱", "工作单位", "是否农民工", "入会日期", "所属工会"])
    for p, on in zip(rows, joined):
        w.writerow([p.name, p.id_number, p.phone, p.email, p.employer, "是" if p.migrant_worker else "否", on.isoformat(), p.union_id])
    return out.getvalue().encode("utf-8")


async def load_register(year: Year) -> None:
    """The existing register (存量会员): 92 % of the city, in sheets, welcoming nobody."""
    city, rng = year.city, year.rng
    year.people = people = People(rng)
    employers_of = {}
    for e in city.employers:
        if e.union_id:
            employers_of.setdefault(e.union_id, []).append(e)
    target = round(year.scale.members * REGISTER_SHARE)
    weights = [max(1, sum(e.headcount for e in employers_of.get(u.id, []))) for u in city.unions]
    chosen = rng.choices(city.unions, weights, k=target)
    pending: list[Person] = []
    joined: list[date] = []
    today = year.clock.today()
    for union in chosen:
        p = people.person(union.id, rng.choice(employers_of[union.id]).name)
        earliest = max(p.birth_date.replace(year=p.birth_date.year + 18), date(2000, 1, 1))
        span = (today - timedelta(days=30) - earliest).days
        pending.append(p)
        joined.append(earliest + timedelta(days=rng.randrange(max(1, span))))
    for start in range(0, len(pending), SHEET_ROWS):
        rows, dates = pending[start:start + SHEET_ROWS], joined[start:start + SHEET_ROWS]
        body = sheet(rows, dates)
        r = await year.call("membership", "POST", "/imports/members", token=year.admin_token(),
                            key=f"year-register-{start}", files={"file": (f"register-{start}.csv", body, "text/csv")},
                            data={"intake": "register"}, trace=("membership",))
        if r.json()["imported"] != len(rows):
            raise YearFailed(f"register sheet {start}: {r.json()['imported']} of {len(rows)} rows imported")
        for p, member_id in zip(rows, await year.member_ids([p.id_number for p in rows])):
            p.member_id = member_id
            city.members[member_id] = p
        year.count("register rows imported", len(rows))
        year.count("register sheets")
