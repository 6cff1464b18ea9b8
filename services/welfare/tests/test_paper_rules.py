"""The payee roster's workbook (welfare.adapters.papers) without a database: amounts in exact yuan,
a subtotal after each unit, the total last, an empty signature cell per payee, a Chinese file name."""
from __future__ import annotations

import io
from decimal import Decimal
from urllib.parse import unquote

from openpyxl import load_workbook

from welfare.adapters.papers import Column, Roster, attachment, roster_xlsx


def _rows(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def test_roster_totals_are_exact_per_unit_and_overall():
    payees = [{"unit": "甲厂工会", "name": "张三", "amount_fen": 10}, {"unit": "甲厂工会", "name": "李四", "amount_fen": 20},
              {"unit": "乙厂工会", "name": "王五", "amount_fen": 123_456_789}]
    rows = _rows(roster_xlsx(Roster(title="花名册", lines=[], columns=[Column("单位", "unit", 20),
                                                                        Column("姓名", "name", 10)], rows=payees)))
    amounts = {r[1]: Decimal(str(r[3])) for r in rows if isinstance(r[1], str) and ("小计" in r[1] or "合计" in r[1])}
    assert amounts == {"甲厂工会 小计（2人）": Decimal("0.3"), "乙厂工会 小计（1人）": Decimal("1234567.89"),
                       "合计（3人）": Decimal("1234568.19")}
    signed = [r for r in rows if isinstance(r[0], int)]
    assert [r[0] for r in signed] == [1, 2, 3] and all(r[-1] is None for r in signed)


def test_roster_download_names_the_file_in_chinese():
    header = attachment("2026年送温暖发放花名册.xlsx")
    assert header.startswith('attachment; filename="roster.xlsx"; ')
    assert unquote(header.split("filename*=UTF-8''")[1]) == "2026年送温暖发放花名册.xlsx"
