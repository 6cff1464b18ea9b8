"""Reading the member rosters union offices keep: Excel (.xlsx) and CSV in UTF-8 (with or without
BOM), UTF-16 or GB18030, with any delimiter Excel writes; the header row found among the first few
(column order free, aliases accepted: `domain.imports.COLUMNS`). Rows are streamed, never loaded
whole. Blocking I/O: call these in a thread from async code."""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
from dataclasses import dataclass
from typing import IO, Any, Iterator

from membership.domain.imports import COLUMNS, HEADER_INDEX, IGNORED_HEADERS, REQUIRED, Header, header_key
from unionops.problems import Problem

HEADER_SEARCH_ROWS = 10  # a title row (e.g. "XX工会会员花名册") may sit above the header


class SheetRejected(Exception):
    """The sheet cannot be imported as a whole (format, header); carries a problem document."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def sheet_problem(detail: str, *, status: int = 422, kind: str = "unreadable-sheet",
                   errors: list[dict] | None = None) -> SheetRejected:
    return SheetRejected(Problem(status, detail, type_=f"/problems/{kind}", errors=errors))


def find_header(rows: Iterator[tuple[int, tuple]]) -> Header:
    """The first row (among the first few) naming both 姓名 and 身份证号 is the header; column
    order is free, English aliases are accepted, unknown columns are ignored and reported."""
    seen = 0
    for row_no, values in rows:
        if is_blank(values):
            continue
        seen += 1
        keys = [header_key(v) for v in values]
        fields = [HEADER_INDEX.get(k) for k in keys]
        if not all(f in fields for f in REQUIRED):
            if seen >= HEADER_SEARCH_ROWS:
                break
            continue
        columns: dict[str, int] = {}
        labels: dict[str, str] = {}
        ignored: list[str] = []
        errors: list[dict] = []
        for i, (f, raw) in enumerate(zip(fields, values)):
            text = str(raw).strip() if raw is not None else ""
            if f is None:
                if text and header_key(text) not in IGNORED_HEADERS:
                    ignored.append(text)
                continue
            if f in columns:
                errors.append({"row": row_no, "field": f, "column": text,
                               "message": f"列「{labels[f]}」与列「{text}」重复，请只保留一列"})
                continue
            columns[f], labels[f] = i, text
        if errors:
            raise sheet_problem("表头有重复的列", kind="bad-header", errors=errors)
        return Header(row_no, columns, labels, ignored)
    raise sheet_problem("未找到表头：前几行中须有「姓名」和「身份证号」两列", kind="bad-header", errors=[
        {"row": None, "field": f, "column": COLUMNS[f][0], "message": f"缺少必填列「{COLUMNS[f][0]}」"}
        for f in REQUIRED])


def is_blank(values: tuple) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


@dataclass
class Sheet:
    """A readable sheet: what it is, its SHA-256, and its rows (with sheet row numbers as the
    office sees them: 1 is the first line of the CSV or row 1 in Excel)."""

    file: IO[bytes]
    file_name: str
    format: str                 # "xlsx" | "csv"
    sha256: str
    size: int
    encoding: str | None = None
    delimiter: str = ","
    line_count: int = 0
    sheet_name: str | None = None
    _estimated: int | None = None

    def rows(self) -> Iterator[tuple[int, tuple]]:
        self.file.seek(0)
        if self.format == "xlsx":
            yield from self._xlsx_rows()
        else:
            yield from self._csv_rows()

    def estimated_rows(self) -> int | None:
        if self.format == "csv":
            return self.line_count
        return self._estimated

    def _xlsx_rows(self) -> Iterator[tuple[int, tuple]]:
        from openpyxl import load_workbook

        try:
            wb = load_workbook(self.file, read_only=True, data_only=True)
        except Exception as exc:
            raise sheet_problem(f"无法读取 Excel 文件：{type(exc).__name__}") from None
        try:
            ws = self._pick_sheet(wb)
            self.sheet_name = ws.title
            self._estimated = ws.max_row
            # Some writers leave a wrong <dimension>; read every row the file really has.
            ws.reset_dimensions()
            for row_no, values in enumerate(ws.iter_rows(values_only=True), start=1):
                yield row_no, values
        finally:
            wb.close()

    def _pick_sheet(self, wb):
        """The first worksheet whose first rows hold the header (an instructions sheet may come first)."""
        for ws in wb.worksheets:
            for n, values in enumerate(ws.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)):
                keys = {HEADER_INDEX.get(header_key(v)) for v in values}
                if all(f in keys for f in REQUIRED):
                    return ws
        return wb.worksheets[0]

    def _csv_rows(self) -> Iterator[tuple[int, tuple]]:
        text = io.TextIOWrapper(self.file, encoding=self.encoding, newline="")
        try:
            for row_no, values in enumerate(csv.reader(text, delimiter=self.delimiter), start=1):
                yield row_no, tuple(values)
        except UnicodeDecodeError:
            raise sheet_problem("无法识别 CSV 文件的编码（支持 UTF-8、GB18030）") from None
        except csv.Error as exc:
            raise sheet_problem(f"CSV 格式错误：{exc}") from None
        finally:
            text.detach()


def open_sheet(file: IO[bytes], file_name: str = "") -> Sheet:
    """Read the file once (SHA-256, format, CSV encoding and delimiter). Blocking: call it in a
    thread from async code. The file must be seekable."""
    file.seek(0)
    sha = hashlib.sha256()
    head = b""
    size = lines = 0
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    while chunk := file.read(1 << 20):
        if len(head) < 4096:
            head += chunk[: 4096 - len(head)]
        sha.update(chunk)
        size += len(chunk)
        lines += chunk.count(b"\n")
        if utf8_ok:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                utf8_ok = False
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    file.seek(0)
    if size == 0:
        raise sheet_problem("文件为空")
    if head.startswith(b"PK\x03\x04"):
        return Sheet(file, file_name, "xlsx", sha.hexdigest(), size)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise sheet_problem("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV 后导入", status=415,
                             kind="unsupported-sheet")
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode text" export
    elif utf8_ok:
        encoding = "utf-8"
    else:
        encoding = "gb18030"  # a superset of GBK/GB2312: what Excel on Chinese Windows writes
    try:
        first_line = head.decode(encoding, errors="ignore").splitlines()[0] if head else ""
    except IndexError:
        first_line = ""
    if "\x00" in first_line and encoding != "utf-16":
        raise sheet_problem("无法识别的文件格式：请上传 .xlsx 或 CSV", status=415, kind="unsupported-sheet")
    delimiter = max(("\t", ",", ";"), key=first_line.count) if first_line else ","
    if first_line.count(delimiter) == 0:
        delimiter = ","
    return Sheet(file, file_name, "csv", sha.hexdigest(), size, encoding=encoding, delimiter=delimiter,
                 line_count=lines)


def take(rows: Iterator[tuple[int, tuple]], header: Header, n: int) -> list[tuple[int, dict[str, Any]]]:
    """The next n non-blank rows as {field: cell value}."""
    out = []
    cols = header.columns.items()
    for row_no, values in rows:
        if is_blank(values):
            continue
        width = len(values)
        out.append((row_no, {f: values[i] if i < width else None for f, i in cols}))
        if len(out) >= n:
            break
    return out
