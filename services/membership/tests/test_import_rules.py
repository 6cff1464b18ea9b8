"""Rules of the bulk member import that need no database: reading the sheets offices keep
(.xlsx and CSV in their encodings), the header, and the checks of each row."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from membership.adapters import spreadsheets
from membership.adapters.spreadsheets import find_header, open_sheet
from membership.domain import imports
from membership.domain.imports import Membership, Unit, judge_membership, judge_unit, validate_row
from unionops.auth import Principal
from unionops.pii import Vault, check_character

VAULT = Vault("ZGV2LW9ubHktcGlpLWVuY3J5cHRpb24ta2V5LTMyYiE=", "ZGV2LW9ubHktcGlpLWhhc2gta2V5LWZvci1sb29rdXA=")
TODAY = date(2025, 6, 30)
CITY, DISTRICT, OTHER_DISTRICT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
STREET, UNION = uuid.uuid4(), uuid.uuid4()


def resident_id(born: str = "19900101", seq: str = "123") -> str:
    first17 = "510104" + born + seq
    return first17 + check_character(first17)


def xlsx(rows: list[list]) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def csv_bytes(rows: list[list], encoding: str) -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return io.BytesIO(text.getvalue().encode(encoding))


def rows_of(file: io.BytesIO) -> tuple[spreadsheets.Sheet, imports.Header, list[tuple[int, dict]]]:
    sheet = open_sheet(file, "名册")
    rows = sheet.rows()
    header = find_header(rows)
    return sheet, header, spreadsheets.take(rows, header, 1000)


def check(raw: dict, *, default_union: bool = True):
    header = imports.Header(1, {f: i for i, f in enumerate(imports.COLUMNS)}, {}, [])
    base = {"name": "李娜", "id_number": resident_id()}
    return validate_row(7, base | raw, header, VAULT, today=TODAY, has_default_union=default_union)


def messages(raw: dict, **kw) -> dict[str, str]:
    _, errors, _ = check(raw, **kw)
    assert all(e.row == 7 for e in errors)
    return {e.field: e.message for e in errors}


# ---- reading sheets ------------------------------------------------------------------------------

def test_chinese_headers_in_any_order_with_english_aliases_are_understood():
    number = resident_id()
    _, header, rows = rows_of(xlsx([
        ["所属工会", "Phone", "*姓名", "身份证号码（必填）", "序号", "自定义列"],
        ["机械厂工会", "13912345678", "张三", number, 1, "x"],
    ]))
    assert set(header.columns) == {"union", "phone", "name", "id_number"}
    assert header.ignored == ["自定义列"]  # 序号 is known and silently ignored
    assert rows == [(2, {"union": "机械厂工会", "phone": "13912345678", "name": "张三", "id_number": number})]


def test_a_title_row_above_the_header_and_blank_trailing_rows_are_tolerated():
    _, header, rows = rows_of(xlsx([
        ["XX公司工会会员花名册"], [], ["姓名", "身份证号"], ["张三", resident_id()], [None, None], [], ["李四", resident_id(seq="125")],
        [None, ""], [None, None],
    ]))
    assert header.row == 3
    # row numbers are the sheet's own, as the office sees them; blank rows are skipped
    assert [r for r, _ in rows] == [4, 7]


def test_a_sheet_without_name_or_id_column_is_refused_as_a_whole():
    with pytest.raises(spreadsheets.SheetRejected) as refused:
        rows_of(xlsx([["姓名", "手机号"], ["张三", "13912345678"]]))
    assert refused.value.problem.status == 422
    assert {e["field"] for e in refused.value.problem.errors} == {"name", "id_number"}


def test_two_columns_for_the_same_field_are_refused():
    with pytest.raises(spreadsheets.SheetRejected) as refused:
        rows_of(xlsx([["姓名", "身份证号", "手机号", "联系电话"], ["张三", resident_id(), "1", "2"]]))
    assert "重复" in refused.value.problem.errors[0]["message"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_gb18030_reads_the_same(encoding):
    number = resident_id()
    sheet, header, rows = rows_of(csv_bytes([["姓名", "身份证号", "工作单位"], ["欧阳娜娜", number, "成都机床厂"]],
                                            encoding))
    assert sheet.format == "csv"
    assert rows == [(2, {"name": "欧阳娜娜", "id_number": number, "employer": "成都机床厂"})]


def test_an_old_xls_file_is_refused_with_a_hint():
    with pytest.raises(spreadsheets.SheetRejected) as refused:
        open_sheet(io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100), "old.xls")
    assert refused.value.problem.status == 415 and ".xlsx" in refused.value.problem.detail


def test_the_same_bytes_give_the_same_sha256():
    data = xlsx([["姓名", "身份证号"], ["张三", resident_id()]]).getvalue()
    assert open_sheet(io.BytesIO(data)).sha256 == open_sheet(io.BytesIO(data)).sha256


# ---- one row -----------------------------------------------------------------------------------

def test_a_valid_row_derives_gender_and_birth_date_from_the_id_number():
    candidate, errors, _ = check({"phone": "139 1234 5678", "is_migrant_worker": "是", "joined_on": "2024年5月1日",
                                  "education": "大学本科", "occupation": "焊工"})
    assert errors == []
    assert candidate.gender == "male" and candidate.birth_date == date(1990, 1, 1)
    assert candidate.values["phone"] == "13912345678" and candidate.values["is_migrant_worker"] is True
    assert candidate.values["joined_on"] == date(2024, 5, 1) and candidate.values["education"] == "bachelor"
    assert candidate.id_hash == VAULT.lookup_hash("id_number", resident_id())


def test_resident_id_check_digit_area_and_birth_date_follow_single_admission():
    good = resident_id()
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    assert messages({"id_number": wrong_check})["id_number"] == "身份证号校验码错误"
    bad_area = "99" + good[2:17]
    assert messages({"id_number": bad_area + check_character(bad_area)})["id_number"] == "身份证号地区码无效"
    bad_birth = "510104" + "19901332" + "123"
    assert messages({"id_number": bad_birth + check_character(bad_birth)})["id_number"] == "身份证号出生日期无效"
    assert messages({"id_number": None})["id_number"] == "必填"


def test_an_id_number_excel_stored_as_a_number_gets_a_hint():
    # Excel keeps 15 significant digits: 510104199001011234 comes back as 510104199001011000
    assert "数字格式" in messages({"id_number": 5.10104199001011234e17})["id_number"]


def test_phone_email_name_and_flags_are_checked_like_single_admission():
    found = messages({"name": "李", "phone": "1391234", "email": "not-an-email", "is_migrant_worker": "也许",
                      "joined_on": "2024-13-01", "education": "幼儿园", "employer": "厂" * 201})
    assert found == {
        "name": "至少2个字符",
        "phone": "手机号须为11位中国大陆手机号",
        "email": "格式不正确",
        "is_migrant_worker": "须填「是」或「否」",
        "joined_on": "日期无效",
        "education": "学历须为 初中及以下、高中/中专/技校、大专、本科、研究生 之一",
        "employer": "最多200个字符",
    }


def test_gender_and_birth_date_columns_must_agree_with_the_id_number():
    assert messages({"gender": "女", "birth_date": datetime(1991, 1, 1)}) == {
        "gender": "性别与身份证号不符", "birth_date": "出生日期与身份证号不符"}
    assert messages({"gender": "男", "birth_date": "1990-01-01"}) == {}


def test_a_row_without_union_needs_a_default_union():
    assert messages({}, default_union=False) == {"union": "必填（或在导入时指定默认工会）"}
    assert messages({"union": "机械厂工会"}, default_union=False) == {}


# ---- unions and existing memberships -------------------------------------------------------------

def staff(org=DISTRICT) -> Principal:
    return Principal("s", "s", "staff", org)


UNITS = [
    Unit(UNION, "机械厂工会", "grassroots", [CITY, DISTRICT, STREET, UNION]),
    Unit(STREET, "东街道工会", "street", [CITY, DISTRICT, STREET]),
]


def test_the_union_is_found_by_id_or_by_name_within_the_callers_subtree():
    assert judge_unit(str(UNION), UNITS, staff()) == UNITS[0]
    assert judge_unit("机械厂 工会", UNITS, staff()) == UNITS[0]  # spacing differs


def test_union_must_exist_be_grassroots_open_and_in_scope():
    assert judge_unit("不存在工会", UNITS, staff()) == "组织不存在：不存在工会"
    assert judge_unit("东街道工会", UNITS, staff()) == "会员只能加入基层工会"
    # outside the caller's subtree: exactly as unknown
    assert judge_unit(str(UNION), UNITS, staff(OTHER_DISTRICT)) == f"组织不存在：{UNION}"
    closed = [Unit(UNION, "机械厂工会", "grassroots", [CITY, DISTRICT, STREET, UNION], "dissolved")]
    assert judge_unit(str(UNION), closed, staff()) == "该组织已合并或撤销"


def test_two_unions_of_the_same_name_need_the_id():
    twin = Unit(uuid.uuid4(), "机械厂工会", "grassroots", [CITY, DISTRICT, uuid.uuid4()])
    assert judge_unit("机械厂工会", [*UNITS, twin], staff()) == "有多个同名的基层工会，请填写工会编号"


def test_an_active_member_of_the_same_union_is_unchanged():
    existing = Membership(uuid.uuid4(), "active", UNION, "机械厂工会", None)
    assert judge_membership(existing, UNION, "5101**********1234", TODAY) == ("unchanged", None)


def test_a_member_of_another_union_is_refused_with_that_union_masked():
    existing = Membership(uuid.uuid4(), "active", uuid.uuid4(), "成都市机床厂工会", None)
    refused = judge_membership(existing, UNION, "5101**********1234", TODAY)
    assert refused.field == "id_number" and "一人只能有一个会籍" in refused.message
    assert "成都市机床厂工会" not in refused.message and "5101**********1234" in refused.message


def test_a_duplicate_outside_the_importers_subtree_names_only_the_office_to_ask():
    existing = Membership(uuid.uuid4(), "retained", uuid.uuid4(), "成都市机床厂工会", None, ask_office="成都市总工会")
    refused = judge_membership(existing, UNION, "5101**********1234", TODAY)
    assert refused.field == "id_number" and "成都市总工会" in refused.message
    assert "机床" not in refused.message and "会籍保留" not in refused.message
    assert str(existing.member_id) not in refused.message and str(existing.union_id) not in refused.message


def test_a_retained_member_is_not_unchanged_even_in_the_same_union():
    existing = Membership(uuid.uuid4(), "retained", UNION, "机械厂工会", None)
    assert "会籍保留" in judge_membership(existing, UNION, "5101**********1234", TODAY).message


def test_someone_who_left_rejoins_and_the_gap_is_kept():
    existing = Membership(uuid.uuid4(), "left", uuid.uuid4(), "旧工会", date(2025, 1, 1))
    assert judge_membership(existing, UNION, "m", date(2025, 3, 1)) == ("rejoin", 59)
    too_early = judge_membership(existing, UNION, "m", date(2024, 12, 1))
    assert too_early.field == "joined_on" and "不能早于退会日期" in too_early.message


def test_nobody_yet_is_new():
    assert judge_membership(None, UNION, "m", TODAY) == ("new", None)
