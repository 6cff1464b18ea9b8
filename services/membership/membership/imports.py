"""Bulk import of members (批量导入会员) from the Excel (.xlsx) and CSV sheets union offices keep.

One module serves both entrypoints: `POST /imports/members` (api_imports.py) and the command line

    python -m membership.imports FILE --union <union id> [--as <subject>] [--org <unit id>] [--dry-run]

Rules are those of single admission (members.admit_member): the resident ID number (area, birth
date, check digit), the phone, the body limits of `MemberIn`, the union exists, is grassroots and
lies in the caller's subtree, one person one membership. On top of that: a person may appear only
once in a sheet, and a person who is already an active member of the same union is "unchanged"
(re-importing a sheet changes nothing).

How it runs, with bounded memory whatever the sheet's size:
1. The file is read once for its SHA-256 (an identical file imported before returns the summary
   of that import) and, for CSV, its encoding (UTF-8 with or without BOM, UTF-16, else GB18030).
2. Rows are streamed (openpyxl read-only / csv reader) in chunks; each chunk is validated in
   Python (off the event loop), personal data encrypted, and COPYed into a temporary table.
3. Duplicates within the sheet and existing memberships are found set-based in SQL.
4. Any error: the transaction is rolled back and the report returned — nothing is half-imported.
   Otherwise members, member-file entries and the outbox rows (MemberJoined + MemberContactChanged,
   with the current trace context) are written with one INSERT … SELECT each, in the same single
   transaction, and the import is recorded in `imports`."""
from __future__ import annotations

import asyncio
import codecs
import csv
import hashlib
import io
import json
import re
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import asyncpg
from opentelemetry import trace
from pydantic import ValidationError

from contracts.events import MemberContactChanged, MemberJoined
from membership import contacts
from membership.api_members import MemberIn
from membership.domain import EDUCATION, check_admitting_unit, check_joined_on, check_readmission, rejoin_gap_days
from membership.members import common_office, elsewhere_message, mask_union
from membership.organisations import load_unit
from unionops import idempotency
from unionops.auth import Principal
from unionops.clock import local_today
from unionops.pii import DataKey, InvalidResidentId, Vault, mask_phone, normalise_phone, parse_resident_id
from unionops.problems import Problem, RuleViolation
from unionops.telemetry import current_trace_headers

CHUNK_ROWS = 5000
MAX_REPORTED_ERRORS = 200
HEADER_SEARCH_ROWS = 10  # a title row (e.g. "XX工会会员花名册") may sit above the header

# ---- the sheet's columns ------------------------------------------------------------------------

# field -> (label shown in messages, accepted headers). Headers are compared after `_header_key`.
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("姓名", ("姓名", "会员姓名", "职工姓名", "name")),
    "id_number": ("身份证号", ("身份证号", "身份证号码", "居民身份证号", "居民身份证号码", "公民身份号码",
                           "证件号码", "id_number", "id number", "resident_id", "resident id")),
    "phone": ("手机号", ("手机号", "手机号码", "手机", "联系电话", "移动电话", "phone", "mobile")),
    "email": ("电子邮箱", ("电子邮箱", "邮箱", "电子邮件", "email", "e-mail")),
    "employer": ("工作单位", ("工作单位", "单位", "单位名称", "employer")),
    "occupation": ("职业", ("职业", "工种", "岗位", "occupation")),
    "education": ("学历", ("学历", "文化程度", "education")),
    "is_migrant_worker": ("是否农民工", ("是否农民工", "农民工", "是否进城务工人员", "is_migrant_worker",
                                    "migrant_worker", "migrant worker")),
    "joined_on": ("入会日期", ("入会日期", "入会时间", "joined_on", "join_date", "joined on")),
    "union": ("所属工会", ("所属工会", "所属基层工会", "工会", "工会名称", "工会编号", "union", "union_id")),
    # Derived from the ID number; when a sheet carries them they must agree with it.
    "gender": ("性别", ("性别", "gender", "sex")),
    "birth_date": ("出生日期", ("出生日期", "出生年月日", "birth_date", "date of birth")),
}
# Columns offices keep that the import knowingly ignores.
IGNORED_HEADERS = {"序号", "编号", "no", "no.", "备注", "remark", "remarks"}
REQUIRED = ("name", "id_number")
OCCUPATION_MAX = 100  # as the profile (ProfilePatch.occupation)
# 学历 as offices write it -> the profile's education codes (domain.EDUCATION).
EDUCATION_ALIASES: dict[str, str] = {
    **{code: code for code in EDUCATION}, **{label: code for code, label in EDUCATION.items()},
    "小学": "junior_secondary_or_below", "初中": "junior_secondary_or_below", "初中及以下": "junior_secondary_or_below",
    "高中": "senior_secondary", "中专": "senior_secondary", "技校": "senior_secondary", "职高": "senior_secondary",
    "高中/中专": "senior_secondary", "中专/技校": "senior_secondary",
    "大专": "junior_college", "专科": "junior_college", "大学专科": "junior_college", "高职": "junior_college",
    "本科": "bachelor", "大学本科": "bachelor", "大学": "bachelor", "学士": "bachelor",
    "研究生": "postgraduate", "硕士": "postgraduate", "硕士研究生": "postgraduate", "博士": "postgraduate",
    "博士研究生": "postgraduate",
}

_BRACKETS = re.compile(r"[（(【\[].*?[）)】\]]")
_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "是的", "t"}
_FALSE = {"否", "n", "no", "false", "0", "×", "x", "不是", "f"}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_GENDER = {"男": "male", "女": "female", "male": "male", "female": "female", "m": "male", "f": "female"}
_STATUS_LABEL = {"active": "在册", "retained": "会籍保留", "left": "已退会"}


def _header_key(text: Any) -> str:
    """'*姓名', ' 身份证号码（必填）', 'E-mail' → comparable keys."""
    s = unicodedata.normalize("NFKC", str(text or "")).strip()
    s = _BRACKETS.sub("", s).replace("*", "").replace("＊", "")
    return re.sub(r"\s+", " ", s).strip().lower()


_HEADER_INDEX: dict[str, str] = {_header_key(h): f for f, (_, hs) in COLUMNS.items() for h in hs}


@dataclass
class Header:
    row: int
    columns: dict[str, int]  # field -> 0-based column index
    labels: dict[str, str]   # field -> the header as the office wrote it
    ignored: list[str]

    def label(self, field_name: str) -> str:
        return self.labels.get(field_name) or COLUMNS[field_name][0]


@dataclass
class RowError:
    row: int
    field: str
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "column": self.column, "message": self.message}


class SheetRejected(Exception):
    """The sheet cannot be imported as a whole (format, header); carries a problem document."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def _sheet_problem(detail: str, *, status: int = 422, kind: str = "unreadable-sheet",
                   errors: list[dict] | None = None) -> SheetRejected:
    return SheetRejected(Problem(status, detail, type_=f"/problems/{kind}", errors=errors))


def find_header(rows: Iterator[tuple[int, tuple]]) -> Header:
    """The first row (among the first few) naming both 姓名 and 身份证号 is the header; column
    order is free, English aliases are accepted, unknown columns are ignored and reported."""
    seen = 0
    for row_no, values in rows:
        if _is_blank(values):
            continue
        seen += 1
        keys = [_header_key(v) for v in values]
        fields = [_HEADER_INDEX.get(k) for k in keys]
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
                if text and _header_key(text) not in IGNORED_HEADERS:
                    ignored.append(text)
                continue
            if f in columns:
                errors.append({"row": row_no, "field": f, "column": text,
                               "message": f"列「{labels[f]}」与列「{text}」重复，请只保留一列"})
                continue
            columns[f], labels[f] = i, text
        if errors:
            raise _sheet_problem("表头有重复的列", kind="bad-header", errors=errors)
        return Header(row_no, columns, labels, ignored)
    raise _sheet_problem("未找到表头：前几行中须有「姓名」和「身份证号」两列", kind="bad-header", errors=[
        {"row": None, "field": f, "column": COLUMNS[f][0], "message": f"缺少必填列「{COLUMNS[f][0]}」"}
        for f in REQUIRED])


def _is_blank(values: tuple) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


# ---- reading files ----------------------------------------------------------------------------

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
            raise _sheet_problem(f"无法读取 Excel 文件：{type(exc).__name__}") from None
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
                keys = {_HEADER_INDEX.get(_header_key(v)) for v in values}
                if all(f in keys for f in REQUIRED):
                    return ws
        return wb.worksheets[0]

    def _csv_rows(self) -> Iterator[tuple[int, tuple]]:
        text = io.TextIOWrapper(self.file, encoding=self.encoding, newline="")
        try:
            for row_no, values in enumerate(csv.reader(text, delimiter=self.delimiter), start=1):
                yield row_no, tuple(values)
        except UnicodeDecodeError:
            raise _sheet_problem("无法识别 CSV 文件的编码（支持 UTF-8、GB18030）") from None
        except csv.Error as exc:
            raise _sheet_problem(f"CSV 格式错误：{exc}") from None
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
        raise _sheet_problem("文件为空")
    if head.startswith(b"PK\x03\x04"):
        return Sheet(file, file_name, "xlsx", sha.hexdigest(), size)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _sheet_problem("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV 后导入", status=415,
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
        raise _sheet_problem("无法识别的文件格式：请上传 .xlsx 或 CSV", status=415, kind="unsupported-sheet")
    delimiter = max(("\t", ",", ";"), key=first_line.count) if first_line else ","
    if first_line.count(delimiter) == 0:
        delimiter = ","
    return Sheet(file, file_name, "csv", sha.hexdigest(), size, encoding=encoding, delimiter=delimiter,
                 line_count=lines)


# ---- one row ------------------------------------------------------------------------------------

@dataclass
class Candidate:
    """A row whose resident ID number is valid; `ok` when every other field is valid too."""

    row: int
    id_number: str
    id_hash: str
    id_masked: str
    gender: str
    birth_date: date
    union_ref: str | None
    ok: bool
    values: dict[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    s = str(value).replace("\u00a0", " ").replace("\u3000", " ").replace("\u200b", "").strip()
    return s or None


def parse_flag(value: Any) -> bool:
    s = _text(value)
    if s is None:
        return False
    key = unicodedata.normalize("NFKC", s).strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError("须填「是」或「否」")


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = unicodedata.normalize("NFKC", _text(value) or "")
    m = _DATE.match(s) or (re.match(r"^(\d{4})(\d{2})(\d{2})$", s))
    if not m:
        raise ValueError("日期格式须为 2024-05-01、2024/5/1 或 2024年5月1日")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError("日期无效") from None


_PYDANTIC_MESSAGES = {
    "missing": lambda ctx: "必填",
    "string_too_short": lambda ctx: f"至少{ctx.get('min_length')}个字符",
    "string_too_long": lambda ctx: f"最多{ctx.get('max_length')}个字符",
    "string_pattern_mismatch": lambda ctx: "格式不正确",
    # Length limits of checked names (unionops.inputs) are reported as generic lengths.
    "too_short": lambda ctx: f"至少{ctx.get('min_length')}个字符",
    "too_long": lambda ctx: f"最多{ctx.get('max_length')}个字符",
}


def validate_row(row_no: int, raw: dict[str, Any], header: Header, vault: Vault, *, today: date,
                 has_default_union: bool) -> tuple[Candidate | None, list[RowError], str | None]:
    """Field rules of one row, without I/O (the union and existing memberships are checked later).
    Returns the candidate (None when the ID number is invalid), every error of the row, and
    the row's 所属工会 cell."""
    errors: list[RowError] = []

    def fail(f: str, message: str) -> None:
        errors.append(RowError(row_no, f, header.label(f), message))

    # Resident ID: the same parser as single admission; numbers typed into Excel as numbers
    # lose their last digits (15 significant digits), which deserves its own hint.
    rid = None
    raw_id = raw.get("id_number")
    id_text = _text(raw_id)
    if id_text is None:
        fail("id_number", "必填")
    else:
        try:
            rid = parse_resident_id(unicodedata.normalize("NFKC", id_text).replace(" ", ""), today=today)
        except InvalidResidentId as exc:
            hint = "（该单元格为数字格式，Excel 只保留15位有效数字，请将该列设为文本后重新填写）" \
                if isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool) else ""
            fail("id_number", f"{exc}{hint}")

    phone = None
    if (phone_text := _text(raw.get("phone"))) is not None:
        try:
            phone = normalise_phone(unicodedata.normalize("NFKC", phone_text))
        except ValueError as exc:
            fail("phone", str(exc))

    is_migrant = False
    try:
        is_migrant = parse_flag(raw.get("is_migrant_worker"))
    except ValueError as exc:
        fail("is_migrant_worker", str(exc))

    joined_on = today
    if _text(raw.get("joined_on")) is not None:
        try:
            joined_on = parse_date(raw.get("joined_on"))
        except ValueError as exc:
            fail("joined_on", str(exc))
        else:
            try:  # the single admission's rule: no future date, none before 1925 or the 16th birthday
                check_joined_on(joined_on, rid.birth_date if rid else None, today)
            except RuleViolation as exc:
                fail("joined_on", exc.message)

    # The body limits of single admission (name length, e-mail pattern, employer length).
    body = {"union_id": uuid.UUID(int=0), "name": _text(raw.get("name")), "id_number": id_text or "-",
            "email": _text(raw.get("email")), "employer": _text(raw.get("employer")),
            "is_migrant_worker": is_migrant, "joined_on": joined_on}
    body = {k: v for k, v in body.items() if k in MemberIn.model_fields and v is not None}
    try:
        member_in = MemberIn.model_validate(body)
    except ValidationError as exc:
        member_in = None
        reported = set()
        for e in exc.errors():
            f = str(e["loc"][0]) if e["loc"] else "name"
            if f not in COLUMNS or f in reported or f in {"id_number", "joined_on", "is_migrant_worker"}:
                continue
            reported.add(f)
            message = _PYDANTIC_MESSAGES.get(e["type"], lambda ctx: e["msg"])(e.get("ctx") or {})
            fail(f, message)

    occupation = _text(raw.get("occupation"))
    if occupation is not None and len(occupation) > OCCUPATION_MAX:
        fail("occupation", f"最多{OCCUPATION_MAX}个字符")
    education = None
    if (education_text := _text(raw.get("education"))) is not None:
        education = EDUCATION_ALIASES.get(unicodedata.normalize("NFKC", education_text).replace(" ", "").lower())
        if education is None:
            fail("education", "学历须为 " + "、".join(EDUCATION.values()) + " 之一")

    if rid is not None:
        if (g := _text(raw.get("gender"))) is not None:
            stated = _GENDER.get(g.lower())
            if stated is None:
                fail("gender", "性别须填「男」或「女」")
            elif stated != rid.gender:
                fail("gender", "性别与身份证号不符")
        if _text(raw.get("birth_date")) is not None:
            try:
                if parse_date(raw.get("birth_date")) != rid.birth_date:
                    fail("birth_date", "出生日期与身份证号不符")
            except ValueError as exc:
                fail("birth_date", str(exc))

    union_ref = _text(raw.get("union"))
    if union_ref is None and not has_default_union:
        fail("union", "必填（或在导入时指定默认工会）")

    if rid is None:
        return None, errors, union_ref
    values: dict[str, Any] = {}
    if member_in is not None:
        values = {"name": member_in.name, "phone": phone, "email": member_in.email, "employer": member_in.employer,
                  "is_migrant_worker": is_migrant, "joined_on": joined_on, "occupation": occupation,
                  "education": education}
    return Candidate(row_no, rid.number, vault.lookup_hash("id_number", rid.number), rid.masked, rid.gender,
                     rid.birth_date, union_ref, ok=not errors, values=values), errors, union_ref


# ---- unions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unit:
    id: uuid.UUID
    name: str
    level: str
    path: list[uuid.UUID]
    status: str = "active"


def judge_unit(ref: str, found: list[Unit], actor: Principal) -> Unit | str:
    """Which union a sheet's 所属工会 cell means — by id, or by name within the caller's subtree —
    or why it cannot be used (the checks and messages of single admission, in its order:
    exists, open, in the caller's subtree, grassroots)."""
    try:
        wanted = uuid.UUID(ref)
        found = [u for u in found if u.id == wanted]
    except ValueError:
        key = _name_key(ref)
        found = [u for u in found if _name_key(u.name) == key]
    in_scope = [u for u in found if actor.covers(u.path)]
    if not in_scope:  # outside the caller's subtree: exactly as unknown, whatever its status
        return f"组织不存在：{ref}"
    grassroots = [u for u in in_scope if u.level == "grassroots"]
    if not grassroots:
        try:
            check_admitting_unit(in_scope[0].level)
        except RuleViolation as exc:
            return exc.message
    open_ = [u for u in grassroots if u.status == "active"]
    if not open_:
        return "该组织已合并或撤销"
    if len(open_) > 1:
        return "有多个同名的基层工会，请填写工会编号"
    return open_[0]


def _name_key(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def _name_variants(name: str) -> set[str]:
    nfkc = unicodedata.normalize("NFKC", name).strip()
    return {name, nfkc, nfkc.replace("(", "（").replace(")", "）")}


class UnitCache:
    """The unions a sheet names, looked up once per distinct cell value."""

    def __init__(self, actor: Principal) -> None:
        self.actor = actor
        self.known: dict[str, Unit | str] = {}

    async def resolve(self, conn: asyncpg.Connection, refs: set[str]) -> None:
        refs = {r for r in refs if r not in self.known}
        if not refs:
            return
        ids, names = [], set()
        for r in refs:
            try:
                ids.append(uuid.UUID(r))
            except ValueError:
                names |= _name_variants(r)
        rows = await conn.fetch("SELECT id, name, level, path, status FROM org_units WHERE id = ANY($1::uuid[])"
                                " OR name = ANY($2::text[])", ids, list(names))
        units = [Unit(r["id"], r["name"], r["level"], list(r["path"]), r["status"]) for r in rows]
        for r in refs:
            self.known[r] = judge_unit(r, units, self.actor)


async def load_default_union(conn: asyncpg.Connection, union_id: uuid.UUID, actor: Principal) -> Unit:
    """The union given for the whole import, checked as single admission checks its union_id."""
    row = await load_unit(conn, union_id, field="union_id", actor=actor)
    check_admitting_unit(row["level"])
    return Unit(row["id"], row["name"], row["level"], list(row["path"]), row["status"])


# ---- existing memberships -----------------------------------------------------------------------

@dataclass(frozen=True)
class Membership:
    member_id: uuid.UUID
    status: str
    union_id: uuid.UUID
    union_name: str
    left_on: date | None
    # Set when the member is outside the importer's subtree: the office to ask (see
    # members.common_office); the refusal then names nothing of the other subtree.
    ask_office: str | None = None


def judge_membership(existing: Membership | None, union_id: uuid.UUID | None, masked_id: str,
                     joined_on: date) -> tuple[str, int | None] | RowError:
    """What admitting this person would do, as single admission decides it: ('new', None), ('rejoin',
    gap days) for someone who left, ('unchanged', None) for an active member of the same union;
    a refusal (as a RowError without row) for anyone holding a membership elsewhere or retained."""
    if existing is None:
        return "new", None
    if existing.status == "active" and existing.union_id == union_id:
        return "unchanged", None
    try:
        check_readmission(existing.status)
    except RuleViolation:
        if existing.ask_office is not None:
            return RowError(0, "id_number", COLUMNS["id_number"][0], elsewhere_message(masked_id, existing.ask_office))
        hint = "；该会员现为会籍保留状态" if existing.status == "retained" else ""
        return RowError(0, "id_number", COLUMNS["id_number"][0],
                        f"该身份证号（{masked_id}）已是{mask_union(existing.union_name)}会员，一人只能有一个会籍{hint}。"
                        "如已更换工作单位，请办理会员关系转移")
    try:
        return "rejoin", rejoin_gap_days(existing.left_on, joined_on)
    except RuleViolation as exc:
        return RowError(0, "joined_on", COLUMNS["joined_on"][0], exc.message)


async def _memberships(conn: asyncpg.Connection, hashes: list[str], actor: Principal) -> dict[str, Membership]:
    """Existing members among a chunk's persons, locked like single admission locks them."""
    rows = await conn.fetch(
        "SELECT m.id, m.id_number_hash, m.status, m.union_id, m.left_on, o.name AS union_name, o.path FROM members m"
        " JOIN org_units o ON o.id = m.union_id WHERE m.id_number_hash = ANY($1::text[]) FOR UPDATE OF m", hashes)
    offices: dict[uuid.UUID, str] = {}  # per union: one look-up for all its members in the chunk
    found = {}
    for r in rows:
        office = None
        if r["status"] != "left" and not actor.covers(r["path"]):
            if r["union_id"] not in offices:
                offices[r["union_id"]] = await common_office(conn, actor, r["path"])
            office = offices[r["union_id"]]
        found[r["id_number_hash"]] = Membership(r["id"], r["status"], r["union_id"], r["union_name"], r["left_on"],
                                                office)
    return found


# ---- the import ---------------------------------------------------------------------------------

_TEMP_TABLE = """
CREATE TEMP TABLE import_rows (
    row_no        integer PRIMARY KEY,
    id_hash       text NOT NULL,
    id_masked     text NOT NULL,
    outcome       text NOT NULL,   -- new | rejoin | unchanged | invalid
    member_id     uuid,
    union_id      uuid,
    name          text,
    gender        text,
    birth_date    date,
    id_enc        bytea,
    phone_enc     bytea,
    phone_masked  text,
    email_enc     bytea,
    email_masked  text,
    dek_id        text,            -- the member's data key (kept, or new), wrapped
    dek_wrapped   bytea,
    employer      text,
    occupation    text,
    education     text,
    is_migrant    boolean,
    joined_on     date,
    file_detail   text,            -- JSON: text because COPY is binary and the pool's json codec is text
    joined_event  text,
    contact_event text,
    duplicate_of  integer
) ON COMMIT DROP
"""
_COLUMNS = ("row_no", "id_hash", "id_masked", "outcome", "member_id", "union_id", "name", "gender", "birth_date",
            "id_enc", "phone_enc", "phone_masked", "email_enc", "email_masked", "dek_id", "dek_wrapped", "employer", "occupation", "education", "is_migrant",
            "joined_on", "file_detail", "joined_event", "contact_event")

# Once every row is loaded: later copies of a person in the same sheet.
_MARK_DUPLICATES = """
UPDATE import_rows r SET duplicate_of = d.first_row
FROM (SELECT row_no, min(row_no) OVER (PARTITION BY id_hash) AS first_row FROM import_rows) d
WHERE r.row_no = d.row_no AND d.row_no <> d.first_row
"""
_INSERT_MEMBERS = """
INSERT INTO members (id, union_id, name, gender, birth_date, id_number_enc, id_number_hash, id_number_masked,
                     phone_enc, phone_masked, email_enc, email_masked, employer, occupation, education,
                     is_migrant_worker, joined_on, created_by)
SELECT member_id, union_id, name, gender, birth_date, id_enc, id_hash, id_masked, phone_enc, phone_masked, email_enc,
       email_masked,
       employer, occupation, education, is_migrant, joined_on, $1
FROM import_rows WHERE outcome = 'new' ORDER BY row_no
"""
# Re-joining after having left: the same member record, as single admission does it.
_REJOIN_MEMBERS = """
UPDATE members m SET union_id = r.union_id, name = r.name, phone_enc = r.phone_enc, phone_masked = r.phone_masked,
    email_enc = r.email_enc, email_masked = r.email_masked, employer = r.employer, employer_credit_code = NULL, occupation = coalesce(r.occupation, m.occupation),
    education = coalesce(r.education, m.education), is_migrant_worker = r.is_migrant, joined_on = r.joined_on,
    status = 'active', status_reason = NULL, status_changed_on = r.joined_on, left_on = NULL, updated_at = now()
FROM import_rows r WHERE r.outcome = 'rejoin' AND m.id = r.member_id
"""
_INSERT_FILE_ENTRIES = """
INSERT INTO member_file_entries (member_id, kind, union_id, union_ids, detail, actor)
SELECT member_id, CASE outcome WHEN 'rejoin' THEN 'rejoined' ELSE 'joined' END, union_id, ARRAY[union_id],
       file_detail::jsonb || jsonb_build_object('source', 'import', 'import_id', $2::text, 'row', row_no), $1
FROM import_rows WHERE outcome IN ('new', 'rejoin') ORDER BY row_no
"""
# The columns of unionops.outbox.record_many, set-based: each member's MemberJoined, then its
# MemberContactChanged, in sheet order, with the trace context of the import.
_INSERT_OUTBOX = """
INSERT INTO outbox (event_id, topic, key, event_type, subject, payload, trace_headers)
SELECT gen_random_uuid(), e.topic, r.member_id::text, e.event_type, r.member_id::text, e.payload, $1::jsonb
FROM import_rows r
CROSS JOIN LATERAL (VALUES (1, $2::text, $3::text, r.joined_event::jsonb), (2, $4::text, $5::text, r.contact_event::jsonb))
    AS e(ord, topic, event_type, payload)
WHERE r.outcome IN ('new', 'rejoin') AND e.payload IS NOT NULL
ORDER BY r.row_no, e.ord
"""

Progress = Callable[[str, int, int | None], None]


@dataclass
class ImportReport:
    """What an import did, or would have done. `errors` is capped; the counts are complete."""

    import_id: uuid.UUID
    file_name: str
    file_sha256: str
    format: str
    sheet: str | None
    rows: int = 0
    imported: int = 0
    rejoined: int = 0
    unchanged: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_by_field: Counter = field(default_factory=Counter)
    ignored_columns: list[str] = field(default_factory=list)
    id_label: str = COLUMNS["id_number"][0]
    dry_run: bool = False
    result: str = "imported"  # imported | rejected | dry_run

    def add_error(self, error: RowError, cap: int) -> None:
        self.error_count += 1
        self.errors_by_field[error.field] += 1
        if len(self.errors) < cap:
            self.errors.append(error)

    def summary(self) -> dict[str, Any]:
        self.errors.sort(key=lambda e: (e.row or 0, e.field))
        return {
            "import_id": str(self.import_id), "result": self.result, "dry_run": self.dry_run,
            "file_name": self.file_name, "file_sha256": self.file_sha256, "format": self.format, "sheet": self.sheet,
            "rows": self.rows, "imported": self.imported, "rejoined": self.rejoined, "unchanged": self.unchanged,
            "error_count": self.error_count, "errors": [e.as_dict() for e in self.errors],
            "errors_truncated": self.error_count > len(self.errors),
            "errors_by_field": dict(sorted(self.errors_by_field.items())),
            "ignored_columns": self.ignored_columns,
        }


class ImportRejected(Exception):
    """At least one row is invalid: nothing was written. `report` names every row at fault
    (capped) and counts them all."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"{report.error_count} errors")
        self.report = report

    def to_problem(self) -> Problem:
        summary = self.report.summary()
        errors = summary.pop("errors")
        rows_at_fault = sorted({e["row"] for e in errors if e["row"]})
        shown = "、".join(str(r) for r in rows_at_fault[:10]) + ("等" if len(rows_at_fault) > 10 else "")
        detail = f"共 {summary['error_count']} 处错误（第 {shown} 行），未导入任何数据；请修改后重新导入"
        problem = Problem(422, detail, type_="/problems/import-rejected", **summary)
        problem.extra["errors"] = errors  # present even when empty (Problem drops empty lists)
        return problem


@dataclass
class Outcome:
    status_code: int          # 201 imported; 200 dry run, or this very file was imported before
    body: dict[str, Any]
    replayed: bool = False    # the stored answer of an earlier request with the same Idempotency-Key


async def import_members(
    conn: asyncpg.Connection,
    sheet: Sheet,
    actor: Principal,
    vault: Vault,
    *,
    default_union_id: uuid.UUID | None = None,
    dry_run: bool = False,
    idempotency_key: tuple[str, str | None, Any] | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    max_errors: int = MAX_REPORTED_ERRORS,
    today: date | None = None,
) -> Outcome:
    """Import a sheet all or nothing, in one transaction on `conn`.

    Raises ImportRejected (after recording the rejected attempt) when any row is invalid,
    SheetRejected when the file or its header is unusable, RuleViolation/Problem when the
    default union cannot be used. `idempotency_key` is (scope, key, request fingerprint payload)."""
    today = today or local_today()
    report = ImportReport(uuid.uuid4(), sheet.file_name, sheet.sha256, sheet.format, None, dry_run=dry_run)
    span = trace.get_current_span()
    span.set_attribute("import.id", str(report.import_id))
    tx = conn.transaction()
    await tx.start()
    try:
        if idempotency_key is not None:
            replay = await idempotency.claim(conn, *idempotency_key)
            if replay is not None:
                await tx.rollback()
                return Outcome(replay.status_code, replay.body, replayed=True)
        # One import of a given file at a time; a file imported before (same bytes, same default
        # union, same subtree) is answered with the summary of that import and changes nothing.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('membership.import'), hashtext($1))", sheet.sha256)
        if not dry_run:
            earlier = await conn.fetchval(
                "SELECT summary FROM imports WHERE file_sha256 = $1 AND default_union_id IS NOT DISTINCT FROM $2"
                " AND actor_org = $3 AND status = 'imported'", sheet.sha256, default_union_id, actor.org_id)
            if earlier is not None:
                await _complete_idempotency(conn, idempotency_key, 200, earlier)
                await tx.commit()
                return Outcome(200, earlier)
        default_unit = await load_default_union(conn, default_union_id, actor) if default_union_id else None
        await conn.execute(_TEMP_TABLE)
        await _load(conn, sheet, actor, vault, report, default_unit, progress, chunk_rows, max_errors, today)
        await _check_duplicates(conn, report, max_errors)
        if report.error_count:
            report.result = "rejected"
            await tx.rollback()
            if not dry_run:
                await _record(conn, report, actor, default_union_id)
            raise ImportRejected(report)
        if dry_run:
            report.result = "dry_run"
            await tx.rollback()
            return Outcome(200, report.summary())
        if progress:
            progress("写入", 0, report.imported)
        await _write(conn, report, actor)
        body = report.summary()
        await _record(conn, report, actor, default_union_id, body)
        await _complete_idempotency(conn, idempotency_key, 201, body)
        await tx.commit()
        if progress:
            progress("写入", report.imported, report.imported)
        span.set_attribute("import.imported", report.imported)
        return Outcome(201, body)
    except asyncpg.UniqueViolationError:
        await _rollback(tx)
        # Someone admitted one of these persons while the import ran: nothing was written.
        raise Problem(409, "导入期间有相同人员被另行录入，未导入任何数据；请重新导入以获得最新的校验报告",
                      type_="/problems/import-conflict") from None
    except BaseException:
        await _rollback(tx)
        raise


async def _rollback(tx) -> None:
    try:
        await tx.rollback()
    except asyncpg.InterfaceError:  # already finished
        pass


async def _complete_idempotency(conn, idempotency_key, status_code: int, body: Any) -> None:
    if idempotency_key is not None:
        scope, key, _ = idempotency_key
        await idempotency.complete(conn, scope, key, status_code, body)


async def _load(conn, sheet: Sheet, actor: Principal, vault: Vault, report: ImportReport, default_unit: Unit | None,
                progress: Progress | None, chunk_rows: int, max_errors: int, today: date) -> None:
    """Stream the sheet in chunks: validate (off the event loop), look up unions and existing
    memberships (one query each per chunk), COPY into the temporary table."""
    rows = sheet.rows()
    header = await asyncio.to_thread(find_header, rows)
    report.sheet = sheet.sheet_name
    report.ignored_columns = header.ignored
    report.id_label = header.label("id_number")
    if "union" not in header.columns and default_unit is None:
        raise _sheet_problem("缺少「所属工会」列：请在表中填写，或在导入时指定默认工会", kind="bad-header", errors=[
            {"row": header.row, "field": "union", "column": "所属工会", "message": "缺少列「所属工会」且未指定默认工会"}])
    estimated = sheet.estimated_rows()
    total = max(estimated - header.row, 0) if estimated else None
    units = UnitCache(actor)
    while True:
        chunk = await asyncio.to_thread(_take, rows, header, chunk_rows)
        if not chunk:
            break
        validated = await asyncio.to_thread(_validate_chunk, chunk, header, vault, today, default_unit is not None)
        candidates = [c for _, c, _, _ in validated if c is not None]
        await units.resolve(conn, {ref for _, _, _, ref in validated if ref})
        existing = await _memberships(conn, [c.id_hash for c in candidates], actor)
        keys = await contacts.live_keys(conn, vault.contact_keys, [m.member_id for m in existing.values()])
        records = await asyncio.to_thread(_records, validated, header, units, existing, default_unit, vault, report,
                                          max_errors, keys)
        if records:
            await conn.copy_records_to_table("import_rows", records=records, columns=_COLUMNS)
        report.rows += len(chunk)
        if progress:
            progress("校验", report.rows, max(total or 0, report.rows) or None)
    if report.rows == 0:
        raise _sheet_problem("表格中没有数据行", kind="empty-sheet")


def _take(rows: Iterator[tuple[int, tuple]], header: Header, n: int) -> list[tuple[int, dict[str, Any]]]:
    """The next n non-blank rows as {field: cell value}."""
    out = []
    cols = header.columns.items()
    for row_no, values in rows:
        if _is_blank(values):
            continue
        width = len(values)
        out.append((row_no, {f: values[i] if i < width else None for f, i in cols}))
        if len(out) >= n:
            break
    return out


def _validate_chunk(chunk, header: Header, vault: Vault, today: date, has_default: bool):
    return [(row_no, *validate_row(row_no, raw, header, vault, today=today, has_default_union=has_default))
            for row_no, raw in chunk]


def _records(validated, header: Header, units: UnitCache, existing: dict[str, Membership], default_unit: Unit | None,
             vault: Vault, report: ImportReport, max_errors: int, keys: dict[uuid.UUID, DataKey]) -> list[tuple]:
    """Rows for the temporary table, with what admitting each would do. Every row with a valid ID
    number is loaded, valid or not, so that duplicates within the sheet are reported too."""
    records = []
    for row_no, candidate, errors, union_ref in validated:
        unit: Unit | None = default_unit
        if union_ref:
            judged = units.known[union_ref]
            if isinstance(judged, str):
                errors.append(RowError(row_no, "union", header.label("union"), judged))
                unit = None
            else:
                unit = judged
        outcome, gap = "invalid", None
        if candidate is not None and unit is not None:
            joined_on = candidate.values.get("joined_on", local_today())
            judged_membership = judge_membership(existing.get(candidate.id_hash), unit.id, candidate.id_masked,
                                                 joined_on)
            if isinstance(judged_membership, RowError):
                errors.append(RowError(candidate.row, judged_membership.field,
                                       header.label(judged_membership.field), judged_membership.message))
            else:
                outcome, gap = judged_membership
        for e in errors:
            report.add_error(e, max_errors)
        if candidate is None:
            continue
        if errors or not candidate.values or outcome == "invalid":
            records.append((candidate.row, candidate.id_hash, candidate.id_masked, "invalid", None,
                            unit.id if unit else None) + (None,) * 18)
            continue
        if outcome == "unchanged":
            records.append((candidate.row, candidate.id_hash, candidate.id_masked, "unchanged",
                            existing[candidate.id_hash].member_id, unit.id) + (None,) * 18)
            continue
        v = candidate.values
        previous = existing.get(candidate.id_hash)
        member_id = previous.member_id if previous else uuid.uuid4()
        if outcome == "rejoin":
            detail = {"union_name": unit.name, "joined_on": v["joined_on"].isoformat(),
                      "left_on": previous.left_on.isoformat(), "gap_days": gap,
                      "previous_union_id": str(previous.union_id), "previous_union_name": previous.union_name}
        else:
            detail = {"union_name": unit.name, "joined_on": v["joined_on"].isoformat()}
        joined = MemberJoined(
            member_id=member_id, union_id=unit.id, union_name=unit.name, org_path=unit.path, name=v["name"],
            gender=candidate.gender, birth_year=candidate.birth_date.year, is_migrant_worker=v["is_migrant_worker"],
            joined_on=v["joined_on"], rejoined_after_days=gap,
        ).model_dump_json()
        phone = v["phone"]
        # As single admission: contact details when there are some; always on re-joining.
        dek = keys.get(member_id) or DataKey.generate(str(member_id))
        contact = contacts.contact_event(vault.contact_keys, dek, member_id, v["name"], v["email"], phone
                                         ).model_dump_json() if (phone or v["email"] or outcome == "rejoin") else None
        records.append((
            candidate.row, candidate.id_hash, candidate.id_masked, outcome, member_id, unit.id, v["name"],
            candidate.gender, candidate.birth_date, vault.encrypt("id_number", candidate.id_number),
            vault.encrypt("phone", phone) if phone else None, mask_phone(phone) if phone else None,
            *contacts.email_columns(vault, v["email"]), dek.key_id if contact else None,
            vault.contact_keys.wrap(dek) if contact else None,
            v["employer"], v["occupation"], v["education"], v["is_migrant_worker"], v["joined_on"], json.dumps(detail, ensure_ascii=False), joined,
            contact,
        ))
    return records


async def _check_duplicates(conn, report: ImportReport, max_errors: int) -> None:
    """A person may appear once in a sheet; counts of what would be imported."""
    await conn.execute("ANALYZE import_rows")
    await conn.execute(_MARK_DUPLICATES)
    shown = await conn.fetch("SELECT row_no, duplicate_of, id_masked FROM import_rows WHERE duplicate_of IS NOT NULL"
                             " ORDER BY row_no LIMIT $1", max_errors)
    counts = dict(await conn.fetch(
        "SELECT CASE WHEN duplicate_of IS NOT NULL THEN 'duplicate' ELSE outcome END, count(*) FROM import_rows"
        " GROUP BY 1"))
    label = report.id_label
    for r in shown:
        report.add_error(RowError(r["row_no"], "id_number", label,
                                  f"与第{r['duplicate_of']}行的身份证号（{r['id_masked']}）重复，同一人在表中只能出现一次"),
                         max_errors)
    for _ in range(counts.get("duplicate", 0) - len(shown)):  # counted, not listed
        report.error_count += 1
        report.errors_by_field["id_number"] += 1
    report.rejoined = counts.get("rejoin", 0)
    report.imported = counts.get("new", 0) + report.rejoined
    report.unchanged = counts.get("unchanged", 0)


async def _write(conn, report: ImportReport, actor: Principal) -> None:
    await conn.execute(_INSERT_MEMBERS, actor.subject)
    await conn.execute(_REJOIN_MEMBERS)
    await conn.execute(_INSERT_FILE_ENTRIES, actor.subject, str(report.import_id))
    await conn.execute(contacts.STORE_KEYS.format(
        select="SELECT member_id, dek_id, dek_wrapped FROM import_rows"
               " WHERE outcome IN ('new', 'rejoin') AND dek_wrapped IS NOT NULL ORDER BY row_no"))
    await conn.execute(_INSERT_OUTBOX, current_trace_headers(), MemberJoined.topic, MemberJoined.event_type(),
                       MemberContactChanged.topic, MemberContactChanged.event_type())


async def _record(conn, report: ImportReport, actor: Principal, default_union_id, summary: dict | None = None) -> None:
    """Who imported which file when, with the counts (rejected attempts too)."""
    await conn.execute(
        "INSERT INTO imports (id, actor, actor_org, file_name, file_sha256, format, default_union_id, status, rows,"
        " imported, unchanged, errors, summary) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
        report.import_id, actor.subject, actor.org_id, report.file_name, report.file_sha256, report.format,
        default_union_id, report.result, report.rows, report.imported if report.result == "imported" else 0,
        report.unchanged, report.error_count, summary or report.summary(),
    )


# ---- command line ------------------------------------------------------------------------------

def _cli() -> None:
    import resource
    import time

    import typer
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from membership.settings import Settings
    from unionops import db, migrate
    from unionops.auth import root_org_id

    console = Console(stderr=True)

    def main(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="the .xlsx or .csv sheet"),
        union: uuid.UUID | None = typer.Option(None, "--union", help="default union for rows without 所属工会"),
        as_subject: str = typer.Option("cli", "--as", help="who imports (recorded as the actor)"),
        org: uuid.UUID | None = typer.Option(None, "--org", help="limit to this unit's subtree (default: the city)"),
        dry_run: bool = typer.Option(False, "--dry-run", help="validate only, write nothing"),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON on stdout"),
    ) -> None:
        """Import members from a sheet straight into MEMBERSHIP_DATABASE_URL, all or nothing."""
        settings = Settings()
        actor = Principal(subject=as_subject, name=as_subject, role="federation_admin",
                          org_id=org or root_org_id(settings.city_region_code))
        vault = Vault.from_settings(settings)

        async def run() -> tuple[int, dict]:
            await migrate.on_start(settings.database_url, Path(__file__).parent / "migrations",
                                   migrate=settings.migrate_on_start, service="membership")
            conn = await db.connect(settings.database_url)
            try:
                with file.open("rb") as fh, Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                                 TextColumn("行"), TimeElapsedColumn(), console=console,
                                                 transient=as_json) as bar:
                    sheet = await asyncio.to_thread(open_sheet, fh, file.name)
                    tasks: dict[str, Any] = {}

                    def on_progress(stage: str, done: int, total: int | None) -> None:
                        if stage not in tasks:
                            tasks[stage] = bar.add_task(stage, total=total)
                        bar.update(tasks[stage], completed=done, total=max(total or 0, done) or None)

                    try:
                        outcome = await import_members(conn, sheet, actor, vault, default_union_id=union,
                                                       dry_run=dry_run, progress=on_progress)
                        return 0, outcome.body
                    except ImportRejected as exc:
                        return 1, exc.report.summary()
                    except SheetRejected as exc:
                        return 2, exc.problem.to_dict()
                    except (RuleViolation, Problem) as exc:
                        problem = exc.to_problem() if isinstance(exc, RuleViolation) else exc
                        return 2, problem.to_dict()
            finally:
                await conn.close()

        started = time.perf_counter()
        code, body = asyncio.run(run())
        elapsed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if as_json:
            print(json.dumps(body | {"elapsed_s": round(elapsed, 3), "peak_rss_mb": round(peak_mb, 1)},
                             ensure_ascii=False))
        else:
            _print_report(console, body, elapsed, peak_mb, Table)
        raise typer.Exit(code)

    typer.run(main)


def _print_report(console, body: dict, elapsed: float, peak_mb: float, Table) -> None:
    if "rows" not in body:  # a problem document
        console.print(f"[red]{body.get('detail')}[/red]")
        for e in body.get("errors") or []:
            console.print(f"  第{e.get('row') or '-'}行 {e.get('column') or e.get('field')}: {e.get('message')}")
        return
    state = {"imported": "[green]已导入[/green]", "dry_run": "[yellow]仅校验（未写入）[/yellow]",
             "rejected": "[red]未导入：存在错误[/red]"}.get(body["result"], body["result"])
    console.print(f"{state}  文件 {body['file_name']}  行数 {body['rows']}  新入会 {body['imported']}"
                  f"  未变化 {body['unchanged']}  错误 {body['error_count']}")
    if body["errors"]:
        table = Table("行", "列", "原因")
        for e in body["errors"]:
            table.add_row(str(e["row"] or "-"), e["column"], e["message"])
        console.print(table)
        if body["errors_truncated"]:
            console.print(f"（仅列出前 {len(body['errors'])} 处；按列统计：{body['errors_by_field']}）")
    rate = body["rows"] / elapsed if elapsed else 0
    console.print(f"用时 {elapsed:.1f} s（{rate:,.0f} 行/秒），峰值内存 {peak_mb:.0f} MB")


if __name__ == "__main__":
    _cli()
