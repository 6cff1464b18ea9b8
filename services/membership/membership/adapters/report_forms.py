"""Writing report forms as Excel workbooks (.xlsx) to print and file upward: the rows come from
`domain.statistics.report_form`; this module only lays them out."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from membership.domain.statistics import FormRow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_COLUMNS = 4
_WIDTHS = (30, 24, 14, 14)
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FONTS = {"title": Font(bold=True, size=14), "section": Font(bold=True), "header": Font(bold=True),
          "total": Font(bold=True)}


def workbook(title: str, rows: list[FormRow]) -> bytes:
    """One sheet named `title`: title row merged across the form, sections bold, figures boxed."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]  # Excel's limit on sheet names
    for i, width in enumerate(_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row.cells, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if row.style in _FONTS:
                cell.font = _FONTS[row.style]
            if row.style in ("header", "row", "total"):
                cell.border = _BOX
        if row.style in ("header", "row", "total"):
            for c in range(len(row.cells) + 1, _COLUMNS + 1):
                sheet.cell(row=r, column=c).border = _BOX
        if row.style in ("title", "section"):
            sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=_COLUMNS)
        if row.style == "title":
            sheet.cell(row=r, column=1).alignment = Alignment(horizontal="center")
    sheet.print_title_rows = "1:2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
