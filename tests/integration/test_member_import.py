"""Bulk import of members (批量导入会员) over HTTP and from the command line, against the real
PostgreSQL and broker, with the membership service running as a process."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from openpyxl import Workbook

from devstack.config import REPO
from devstack.seed import zh_digits
from tests.support.membership import found_district
from tests.support.people import auth, new_resident_id, open_contact
from unionops.clock import local_today
from unionops.pii import check_character

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership")]

HEADER = ["序号", "姓名", "身份证号", "手机号", "电子邮箱", "工作单位", "职业", "学历", "是否农民工", "入会日期", "所属工会"]


def person(union: str, n: int = 0, **over) -> dict:
    return {"序号": n, "姓名": over.pop("name", f"王{'一二三四五六七八九十'[n % 10]}明"),
            "身份证号": new_resident_id(), "手机号": f"139{n:08d}", "电子邮箱": f"w{n}@example.cn",
            "工作单位": "成都机床厂", "职业": "车工", "学历": "大专", "是否农民工": "否", "入会日期": "2024-05-01",
            "所属工会": union, **over}


def xlsx(people: list[dict], header: list[str] = HEADER, *, title: str | None = None, trailing_blank: int = 3) -> bytes:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for p in people:
        ws.append([p.get(h) for h in header])
    for _ in range(trailing_blank):
        ws.append([None] * len(header))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_file(people: list[dict], encoding: str = "gb18030", header: list[str] = HEADER) -> bytes:
    text = io.StringIO()
    w = csv.writer(text)
    w.writerow(header)
    for p in people:
        w.writerow([p.get(h) for h in header])
    return text.getvalue().encode(encoding)


def upload(client: httpx.Client, data: bytes, name: str = "会员花名册.xlsx", headers: dict | None = None,
           **form) -> httpx.Response:
    return client.post("/imports/members", files={"file": (name, data)}, data={k: str(v) for k, v in form.items()},
                       headers=headers or auth())


async def db(stack_config, query: str, *args):
    conn = await asyncpg.connect(stack_config.dsn("membership"))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def counts(stack_config) -> dict[str, int]:
    (row,) = await db(stack_config, "SELECT (SELECT count(*) FROM members) AS members,"
                      " (SELECT count(*) FROM member_file_entries) AS file_entries,"
                      " (SELECT count(*) FROM outbox) AS outbox, (SELECT count(*) FROM imports) AS imports")
    return dict(row)


async def test_a_sheet_imports_every_member_with_file_entries_and_events(client, stack_config):
    district = found_district(client, unions=2)
    a, b = district.union_ids
    people = [person(a, 1), person(a, 2, 手机号=None, 电子邮箱=None), person(b, 3, 是否农民工="是", 学历="本科")]
    # offices keep their own column order, a title row above the header, blank rows below
    shuffled = [HEADER[i] for i in (2, 1, 10, 3, 4, 0, 5, 6, 7, 8, 9)]
    before = await counts(stack_config)
    r = upload(client, xlsx(people, shuffled, title="2024年会员花名册"))
    assert r.status_code == 201, r.text
    summary = r.json()
    assert (summary["rows"], summary["imported"], summary["unchanged"], summary["errors"]) == (3, 3, 0, [])
    after = await counts(stack_config)
    assert after["members"] - before["members"] == 3
    assert after["file_entries"] - before["file_entries"] == 3
    assert after["outbox"] - before["outbox"] == 5  # 3 MemberJoined + 2 MemberContactChanged (one has no contact)
    assert after["imports"] - before["imports"] == 1

    rows = await db(stack_config, "SELECT m.name, m.id_number_masked, m.phone_masked, m.is_migrant_worker,"
                    " m.education, m.occupation, m.joined_on::text, m.union_id::text, m.created_by FROM members m"
                    " WHERE m.id_number_hash = ANY($1::text[]) ORDER BY m.name", [_hash(p["身份证号"]) for p in people])
    by_name = {r["name"]: r for r in rows}
    third = by_name[people[2]["姓名"]]
    assert third["union_id"] == b and third["is_migrant_worker"] and third["education"] == "bachelor"
    assert third["joined_on"] == "2024-05-01" and third["occupation"] == "车工"
    assert third["id_number_masked"] == people[2]["身份证号"][:4] + "*" * 10 + people[2]["身份证号"][-4:]
    assert by_name[people[0]["姓名"]]["phone_masked"] == "139****0001"


async def test_imported_members_reach_the_broker_without_id_numbers_or_phones(client, stack_config):
    district = found_district(client)
    people = [person(district.union_ids[0], n) for n in range(1, 5)]
    r = upload(client, xlsx(people))
    assert r.status_code == 201, r.text
    ids = [r_["id"] for r_ in await db(stack_config, "SELECT id::text FROM members WHERE id_number_hash ="
                                                     " ANY($1::text[])", [_hash(p["身份证号"]) for p in people])]
    events = await db(stack_config, "SELECT key, topic, event_type, payload::text AS payload, trace_headers"
                      " FROM outbox WHERE key = ANY($1::text[]) ORDER BY id", ids)
    joined = [e for e in events if e["event_type"] == "MemberJoined"]
    assert len(joined) == 4 and {e["topic"] for e in joined} == {"membership.member.v1"}
    for e in joined:
        for p in people:
            assert p["身份证号"] not in e["payload"] and p["手机号"] not in e["payload"] and "@" not in e["payload"]
    contact = [e for e in events if e["event_type"] == "MemberContactChanged"]
    assert {e["topic"] for e in contact} == {"membership.member-contact.v2"} and len(contact) == 4
    for e in contact:  # sealed: only notify's key ring opens them
        assert "@" not in e["payload"] and not any(p["手机号"] in e["payload"] for p in people)
    assert {open_contact(json.loads(e["payload"]))["phone"] for e in contact} == {p["手机号"] for p in people}
    # each member's MemberJoined comes before its contact event, as single admission stages them
    assert [e["event_type"] for e in events if e["key"] == ids[0]] == ["MemberJoined", "MemberContactChanged"]

    # published by the relay: marked in the outbox and readable from the broker
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pending = await db(stack_config, "SELECT count(*) AS n FROM outbox WHERE key = ANY($1::text[])"
                           " AND published_at IS NULL", ids)
        if pending[0]["n"] == 0:
            break
        await asyncio.sleep(0.3)
    assert pending[0]["n"] == 0
    seen = await _keys_on_topic(stack_config.bootstrap, "membership.member.v1", set(ids))
    assert seen == set(ids)


async def test_a_sheet_with_one_bad_row_imports_nothing(client, stack_config):
    district = found_district(client)
    union = district.union_ids[0]
    good = [person(union, n) for n in range(1, 6)]
    bad = person(union, 6, 身份证号=good[0]["身份证号"][:17] + ("1" if good[0]["身份证号"][17] != "1" else "2"))
    before = await counts(stack_config)
    r = upload(client, xlsx([*good[:3], bad, *good[3:]]))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"] == "/problems/import-rejected" and problem["error_count"] == 1
    assert problem["errors"] == [{"row": 5, "field": "id_number", "column": "身份证号", "message": "身份证号校验码错误"}]
    assert "未导入任何数据" in problem["detail"]
    after = await counts(stack_config)
    assert {k: after[k] - before[k] for k in after} == {"members": 0, "file_entries": 0, "outbox": 0, "imports": 1}
    (attempt,) = await db(stack_config, "SELECT status, rows, imported, errors, actor FROM imports"
                          " WHERE id = $1::uuid", problem["import_id"])
    assert dict(attempt) == {"status": "rejected", "rows": 6, "imported": 0, "errors": 1, "actor": "test-admin"}


async def test_row_errors_name_the_row_and_the_field(client, stack_config):
    district, other = found_district(client, unions=2), found_district(client)
    union = district.union_ids[0]
    elsewhere = new_resident_id()
    admitted = client.post("/members", headers=auth(), json={"union_id": district.union_ids[1], "name": "周八",
                                                             "id_number": elsewhere})
    assert admitted.status_code == 201, admitted.text
    twin = new_resident_id()
    sheet = [
        person(union, 1),                                             # row 2: fine
        person(union, 2, 身份证号="110105194912310021"),                # row 3: check digit
        person(union, 3, 手机号="1391234"),                             # row 4: phone
        person(union, 4, 电子邮箱="no-at-sign"),                        # row 5: e-mail
        person("不存在的工会", 5),                                       # row 6: no such union
        person(district.street_id, 6),                                # row 7: not a grassroots union
        person(other.union_ids[0], 7),                                # row 8: outside the subtree: as unknown
        person(union, 8, 身份证号=twin),                                 # row 9: first of a twin
        person(union, 9, 身份证号=twin),                                 # row 10: duplicate within the sheet
        person(union, 10, 姓名="周八", 身份证号=elsewhere),               # row 11: a member of ANOTHER union
    ]
    r = upload(client, xlsx(sheet), headers=auth("staff", district.id))
    assert r.status_code == 422, r.text
    problem = r.json()
    found = {(e["row"], e["field"]): e["message"] for e in problem["errors"]}
    assert found == {
        (3, "id_number"): "身份证号校验码错误",
        (4, "phone"): "手机号须为11位中国大陆手机号",
        (5, "email"): "格式不正确",
        (6, "union"): "组织不存在：不存在的工会",
        (7, "union"): "会员只能加入基层工会",
        (8, "union"): f"组织不存在：{other.union_ids[0]}",
        (10, "id_number"): found[(10, "id_number")],
        (11, "id_number"): found[(11, "id_number")],
    }
    assert found[(10, "id_number")].startswith("与第9行的身份证号") and twin not in found[(10, "id_number")]
    assert "一人只能有一个会籍" in found[(11, "id_number")] and elsewhere not in r.text  # masked
    assert all(e["column"] for e in problem["errors"])  # the header as the office wrote it
    assert (problem["rows"], problem["error_count"], problem["errors_by_field"]) == (
        10, 8, {"email": 1, "id_number": 3, "phone": 1, "union": 3})


async def test_an_imported_join_date_is_not_in_the_future_nor_before_the_sixteenth_birthday(client, stack_config):
    district = found_district(client)
    union = district.union_ids[0]
    young, old = "510104" + "20000301" + "123", "510104" + "19600101" + "124"
    sheet = [
        person(union, 1),                                                            # row 2: fine
        person(union, 2, 入会日期="9999-12-31"),                                      # row 3: far future
        person(union, 3, 入会日期=(local_today() + timedelta(days=1)).isoformat()),   # row 4: tomorrow
        person(union, 4, 身份证号=young + check_character(young), 入会日期="2015-09-01"),  # row 5: aged 15
        person(union, 5, 身份证号=old + check_character(old), 入会日期="1980-01-01"),     # row 6: a historic date
    ]
    before = await counts(stack_config)
    r = upload(client, xlsx(sheet))
    assert r.status_code == 422, r.text
    found = {(e["row"], e["field"]): e["message"] for e in r.json()["errors"]}
    assert set(found) == {(3, "joined_on"), (4, "joined_on"), (5, "joined_on")}
    assert "不能晚于今天" in found[(3, "joined_on")] and "不能晚于今天" in found[(4, "joined_on")]
    assert "16周岁" in found[(5, "joined_on")] and "2016-03-01" in found[(5, "joined_on")]
    after = await counts(stack_config)
    assert after["members"] == before["members"] and after["outbox"] == before["outbox"]


async def test_a_person_already_in_another_union_is_refused(client, stack_config):
    district = found_district(client, unions=2)
    number = new_resident_id()
    first = client.post("/members", headers=auth(), json={"union_id": district.union_ids[1], "name": "周八",
                                                          "id_number": number})
    assert first.status_code == 201, first.text
    r = upload(client, xlsx([person(district.union_ids[0], 1, 姓名="周八", 身份证号=number)]))
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert (error["row"], error["field"]) == (2, "id_number")
    assert "一人只能有一个会籍" in error["message"] and number not in r.text


async def test_an_import_duplicate_tells_an_out_of_scope_importer_nothing(client, stack_config):
    a, b = found_district(client), found_district(client)
    number = new_resident_id()
    member = client.post("/members", headers=auth(), json={"union_id": b.union_ids[0], "name": "周八",
                                                           "id_number": number}).json()
    r = upload(client, xlsx([person(a.union_ids[0], 1, 姓名="周八", 身份证号=number)]), headers=auth("staff", a.id))
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert (error["row"], error["field"]) == (2, "id_number") and "其他工会" in error["message"]
    union_name = client.get(f"/organisations/{b.union_ids[0]}", headers=auth()).json()["name"]
    for secret in (member["id"], b.union_ids[0], number, union_name, union_name[:2] + "*"):
        assert secret not in r.text


async def test_reimporting_the_same_sheet_changes_nothing(client, stack_config):
    district = found_district(client)
    people = [person(district.union_ids[0], n) for n in range(1, 8)]
    first = upload(client, xlsx(people))
    assert first.status_code == 201 and first.json()["imported"] == 7
    before = await counts(stack_config)
    # the same sheet saved again as CSV (other bytes): every row unchanged, nothing written
    again = upload(client, csv_file(people, "utf-8-sig"), name="会员花名册.csv")
    assert again.status_code == 201, again.text
    assert (again.json()["imported"], again.json()["unchanged"], again.json()["errors"]) == (0, 7, [])
    after = await counts(stack_config)
    assert {k: after[k] - before[k] for k in after} == {"members": 0, "file_entries": 0, "outbox": 0, "imports": 1}


async def test_the_same_file_uploaded_again_answers_with_the_first_summary(client, stack_config):
    district = found_district(client)
    data = xlsx([person(district.union_ids[0], n) for n in range(1, 4)])
    first = upload(client, data)
    assert first.status_code == 201
    before = await counts(stack_config)
    again = upload(client, data, name="另存的名字.xlsx")
    assert again.status_code == 200 and again.json() == first.json()
    assert await counts(stack_config) == before
    stored = client.get(f"/imports/{first.json()['import_id']}", headers=auth())
    assert stored.status_code == 200 and stored.json()["imported"] == 3 and stored.json()["actor"] == "test-admin"


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig"])
async def test_csv_sheets_import_in_gb18030_and_utf8_with_or_without_bom(client, stack_config, encoding):
    district = found_district(client)
    people = [person("", n, name=f"欧阳{zh_digits(n)}娜") for n in range(1, 4)]
    r = upload(client, csv_file(people, encoding), name="名册.csv", union_id=district.union_ids[0])
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "csv" and r.json()["imported"] == 3
    names = await db(stack_config, "SELECT name FROM members WHERE union_id = $1::uuid ORDER BY name",
                     district.union_ids[0])
    assert sorted(n["name"] for n in names) == sorted(p["姓名"] for p in people)


async def test_the_default_union_is_checked_like_single_admission(client):
    district, other = found_district(client), found_district(client)
    data = csv_file([person("", 1)])
    assert upload(client, data, union_id=district.street_id).status_code == 422
    assert upload(client, data, union_id=uuid.uuid4()).json()["errors"][0]["field"] == "body.union_id"
    theirs = upload(client, data, headers=auth("staff", district.id), union_id=other.union_ids[0])
    unknown = upload(client, data, headers=auth("staff", district.id), union_id=uuid.uuid4())
    assert theirs.status_code == unknown.status_code == 422  # outside the subtree: exactly as unknown
    assert theirs.json()["detail"] == unknown.json()["detail"]


async def test_importing_needs_a_token_and_write_permission(client, stack_config):
    district = found_district(client)
    data = xlsx([person(district.union_ids[0], 1)])
    before = await counts(stack_config)
    assert client.post("/imports/members", files={"file": ("a.xlsx", data)}).status_code == 401
    assert upload(client, data, headers=auth("auditor", district.id)).status_code == 403
    assert await counts(stack_config) == before


async def test_idempotency_key_replays_the_import(client, stack_config):
    district = found_district(client)
    data = xlsx([person(district.union_ids[0], n) for n in range(1, 3)])
    headers = auth() | {"Idempotency-Key": f"import-{uuid.uuid4()}"}
    first = upload(client, data, headers=headers)
    before = await counts(stack_config)
    again = upload(client, data, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert await counts(stack_config) == before
    other = upload(client, xlsx([person(district.union_ids[0], 9)]), headers=headers)
    assert other.status_code == 422  # the same key for another file


async def test_a_dry_run_reports_and_writes_nothing(client, stack_config):
    district = found_district(client)
    before = await counts(stack_config)
    r = upload(client, xlsx([person(district.union_ids[0], n) for n in range(1, 4)]), dry_run="true")
    assert r.status_code == 200 and r.json()["result"] == "dry_run" and r.json()["imported"] == 3
    assert await counts(stack_config) == before


async def test_the_cli_imports_a_sheet_with_a_report_and_dry_run(client, stack_config, tmp_path):
    district = found_district(client)
    path = tmp_path / "名册.xlsx"
    path.write_bytes(xlsx([person("", n) for n in range(1, 6)], [h for h in HEADER if h != "所属工会"]))
    env = stack_config.service_env("membership", {"LOG_LEVEL": "WARNING"})

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "membership.cli", str(path), "--union", district.union_ids[0],
                               "--as", "组织部-张三", "--json", "--intake", "new_joins", *args], env=env, cwd=REPO, capture_output=True,
                              text=True, timeout=120)
        return done.returncode, json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else done.stderr

    before = await counts(stack_config)
    code, body = cli("--dry-run")
    assert code == 0 and body["result"] == "dry_run" and body["imported"] == 5
    assert await counts(stack_config) == before
    code, body = cli()
    assert code == 0, body
    assert body["imported"] == 5 and body["peak_rss_mb"] > 0
    (row,) = await db(stack_config, "SELECT actor, status, imported FROM imports WHERE id = $1::uuid", body["import_id"])
    assert dict(row) == {"actor": "组织部-张三", "status": "imported", "imported": 5}
    first_id = body["import_id"]
    code, body = cli()  # the same file again: the first summary, nothing new
    assert code == 0 and body["import_id"] == first_id
    after = await counts(stack_config)
    assert after["members"] - before["members"] == 5 and after["imports"] - before["imports"] == 1


# ---- helpers ---------------------------------------------------------------------------------------

def _hash(number: str) -> str:
    from unionops.pii import Vault
    from unionops.settings import CommonSettings

    s = CommonSettings()
    return Vault(s.pii_encryption_key, s.pii_hash_key).lookup_hash("id_number", number)


async def _keys_on_topic(bootstrap: str, topic: str, wanted: set[str], timeout: float = 30) -> set[str]:
    """Read the topic from the beginning (no group) until every wanted key was seen."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + timeout
        while seen != wanted and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                seen |= {r.key.decode() for r in records if r.key and r.key.decode() in wanted}
    finally:
        await consumer.stop()
    return seen


async def test_an_unreadable_file_is_refused_with_a_problem(client, stack_config):
    before = await counts(stack_config)
    old_excel = upload(client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, name="名册.xls")
    assert old_excel.status_code == 415 and old_excel.headers["content-type"] == "application/problem+json"
    no_header = upload(client, csv_file([{"姓名": "张三"}], header=["姓名", "手机号"]), name="a.csv")
    assert no_header.status_code == 422 and no_header.json()["type"] == "/problems/bad-header"
    assert await counts(stack_config) == before


async def test_a_row_without_a_join_date_is_judged_by_the_day_given_to_the_import_not_the_clock(client, stack_config):
    """The import's `today` is the join date of every row without 入会日期 — also of a row with other
    errors: a former member who left after that day is told she cannot re-join before leaving."""
    from membership.adapters.spreadsheets import open_sheet
    from membership.commands.imports import import_members
    from membership.domain.imports import ImportRejected
    from membership.settings import Settings
    from tests.support.people import ROOT
    from unionops import db as database
    from unionops.auth import Principal
    from unionops.pii import Vault

    union = found_district(client).union_ids[0]
    number = new_resident_id()
    admitted = client.post("/members", json={"union_id": union, "name": "赵前", "id_number": number,
                                             "joined_on": (local_today() - timedelta(days=30)).isoformat()},
                           headers=auth())
    assert admitted.status_code == 201, admitted.text
    left_on = local_today() - timedelta(days=5)
    left = client.post(f"/members/{admitted.json()['id']}/status-changes", headers=auth(),
                       json={"status": "left", "reason": "resigned", "effective_on": left_on.isoformat()})
    assert left.status_code == 201, left.text
    row = person(union, name="赵", **{"身份证号": number, "入会日期": None})  # a name too short, no join date
    sheet = open_sheet(io.BytesIO(csv_file([row], encoding="utf-8")), "名册.csv")
    actor = Principal(subject="test-import", name="test-import", role="federation_admin", org_id=ROOT)
    conn = await database.connect(stack_config.dsn("membership"))
    try:
        with pytest.raises(ImportRejected) as rejected:
            await import_members(conn, sheet, actor, Vault.from_settings(Settings()), dry_run=True,
                                 today=left_on - timedelta(days=5))
    finally:
        await conn.close()
    errors = {e.field: e.message for e in rejected.value.report.errors}
    assert set(errors) == {"name", "joined_on"}, errors
    assert f"重新入会日期不能早于退会日期（{left_on.isoformat()}）" == errors["joined_on"]
