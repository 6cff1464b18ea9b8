"""Payee rosters (发放花名册) as .xlsx, ready to print and sign: a title, one row per payee with an
empty signature cell, a subtotal after each unit and the total at the end. Built in memory and
handed back as bytes, never written to disk (the rows carry real names). Amounts are exact:
fen become yuan as Decimal, never a float."""
from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_YUAN = "#,##0.00"


@dataclass(frozen=True)
class Column:
    title: str
    key: str
    width: int


@dataclass(frozen=True)
class Roster:
    title: str
    lines: list[str]          # under the title: organiser, fund, date
    columns: list[Column]     # the payee's columns; 序号, 金额（元） and 签名 are added around them
    rows: list[dict]          # each with `unit` (grouping key, also shown) and `amount_fen`
    signature: str = "领取人签名"


def yuan_number(fen: int) -> Decimal:
    return Decimal(fen) / 100


def attachment(file_name: str) -> str:
    """Content-Disposition of a download with a Chinese name (RFC 6266 / RFC 5987 filename*), with an
    ASCII fallback for old clients."""
    return f"attachment; filename=\"roster.xlsx\"; filename*=UTF-8''{quote(file_name, safe='')}"


def download_headers(file_name: str) -> dict[str, str]:
    """The headers of the paper as an HTTP download: never cached on the way (it holds real names)."""
    return {"Content-Disposition": attachment(file_name), "Cache-Control": "no-store"}


def roster_xlsx(roster: Roster) -> bytes:
    """The workbook: rows in the order given (grouped by `unit`), a 小计 row after each unit, 合计 last."""
    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    headers = ["序号", *(c.title for c in roster.columns), "金额（元）", roster.signature]
    widths = [6, *(c.width for c in roster.columns), 14, 18]
    last = get_column_letter(len(headers))
    ws.append([roster.title])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    for line in roster.lines:
        ws.append([line])
        ws.merge_cells(f"A{ws.max_row}:{last}{ws.max_row}")
    ws.append(headers)
    header_row = ws.max_row
    amount_col = len(headers) - 1

    def write(values: list, *, bold: bool = False) -> None:
        ws.append(values)
        for cell in ws[ws.max_row]:
            cell.border = _BOX
            cell.alignment = Alignment(vertical="center", wrap_text=True)
            if bold:
                cell.font = Font(bold=True)
        ws.cell(ws.max_row, amount_col).number_format = _YUAN
        ws.row_dimensions[ws.max_row].height = 28  # room to sign

    for cell in ws[header_row]:
        cell.font, cell.border = Font(bold=True), _BOX
        cell.alignment = Alignment(horizontal="center")
    total_fen, total_n, n = 0, 0, 0
    unit, unit_fen, unit_n = None, 0, 0
    blank = [""] * (len(roster.columns) - 1)
    for row in roster.rows + [None]:
        if unit is not None and (row is None or row["unit"] != unit):
            write(["", f"{unit} 小计（{unit_n}人）", *blank, yuan_number(unit_fen), ""], bold=True)
            unit_fen = unit_n = 0
        if row is None:
            break
        unit = row["unit"]
        n += 1
        write([n, *(row[c.key] for c in roster.columns), yuan_number(row["amount_fen"]), ""])
        unit_fen += row["amount_fen"]
        unit_n += 1
        total_fen += row["amount_fen"]
        total_n += 1
    write(["", f"合计（{total_n}人）", *blank, yuan_number(total_fen), ""], bold=True)
    ws.append([])
    ws.append(["经办人：", "", "审核人：", "", "负责人："])
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.print_title_rows = f"{header_row}:{header_row}"  # the header repeats on every printed page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def campaign_roster(data: dict) -> tuple[str, bytes]:
    """A campaign run's roster (welfare.queries.rosters.campaign_run_roster): file name and workbook."""
    c, run = data["campaign"], data["run"]
    roster = Roster(
        title=f"{c['name']}发放花名册",
        lines=[f"主办单位：{c['org_name'] or ''}　活动类型：{c['kind_label']}　资金来源：{c['fund_name']}",
               f"发放日期：{run['run_on']:%Y年%m月%d日}　发放人数：{run['paid_count']}人"],
        columns=[Column("单位", "unit", 28), Column("姓名", "name", 12), Column("家庭人口", "household_size", 10),
                 Column("困难等级", "level_label", 12)],
        rows=data["rows"])
    return f"{c['name']}发放花名册{run['run_on']:%Y%m%d}.xlsx", roster_xlsx(roster)


def golden_autumn_roster(data: dict) -> tuple[str, bytes]:
    """A unit's 金秋助学 grants of a year (welfare.queries.rosters.golden_autumn_roster)."""
    roster = Roster(
        title=f"{data['year']}年金秋助学资助发放花名册",
        lines=[f"单位：{data['org_name']}　资助人数：{len(data['rows'])}人"],
        columns=[Column("单位", "unit", 28), Column("职工姓名", "name", 12), Column("学生姓名", "student_name", 12),
                 Column("学段", "school_level_label", 12), Column("家庭人口", "household_size", 10),
                 Column("困难等级", "level_label", 12)],
        rows=data["rows"])
    return f"{data['org_name']}{data['year']}年金秋助学发放花名册.xlsx", roster_xlsx(roster)
