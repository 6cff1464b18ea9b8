"""(Over 400 lines: the roster's columns, the checks of a row and the report are one rule set.)

Rules of the bulk member import (批量导入会员), free of I/O: the roster's columns as offices name
them, the checks of one row (those of single admission, `domain.members`, and the sheet's own),
which union a 所属工会 cell means, what admitting each person would do, and the import report."""
from __future__ import annotations

import re
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from membership.domain.members import (
    EDUCATION,
    MemberFields,
    already_a_member_message,
    check_joined_on,
    check_readmission,
    elsewhere_message,
    rejoin_gap_days,
)
from membership.domain.organisations import check_admitting_unit
from unionops.auth import Principal
from unionops.pii import InvalidResidentId, Vault, normalise_phone, parse_resident_id
from unionops.problems import Problem, RuleViolation

MAX_REPORTED_ERRORS = 200


# field -> (label shown in messages, accepted headers). Headers are compared after `header_key`.
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


OCCUPATION_MAX = 100  # as the profile (api.members.ProfilePatch.occupation)


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


def header_key(text: Any) -> str:
    """'*姓名', ' 身份证号码（必填）', 'E-mail' → comparable keys."""
    s = unicodedata.normalize("NFKC", str(text or "")).strip()
    s = _BRACKETS.sub("", s).replace("*", "").replace("＊", "")
    return re.sub(r"\s+", " ", s).strip().lower()


HEADER_INDEX: dict[str, str] = {header_key(h): f for f, (_, hs) in COLUMNS.items() for h in hs}


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
    body = {k: v for k, v in body.items() if k in MemberFields.model_fields and v is not None}
    try:
        member_in = MemberFields.model_validate(body)
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


@dataclass(frozen=True)
class Membership:
    member_id: uuid.UUID
    status: str
    union_id: uuid.UUID
    union_name: str
    left_on: date | None
    # Set when the member is outside the importer's subtree: the office to ask (see
    # queries.common_office); the refusal then names nothing of the other subtree.
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
        return RowError(0, "id_number", COLUMNS["id_number"][0],
                        already_a_member_message(masked_id, existing.union_name, existing.status))
    try:
        return "rejoin", rejoin_gap_days(existing.left_on, joined_on)
    except RuleViolation as exc:
        return RowError(0, "joined_on", COLUMNS["joined_on"][0], exc.message)


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
    intake: str = "new_joins"  # INTAKES
    online_notice: bool = False

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
            "intake": self.intake, "online_notice": self.online_notice,
            # What the members imported are told (notify): a welcome each, or the office's one notice.
            "notices": {"welcome": self.imported if self.intake == "new_joins" else 0,
                        "online": self.imported if self.intake == "register" and self.online_notice else 0},
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


# ---- what an import brings: new joins or the existing register -------------------------------------

INTAKES = {
    "new_joins": "新入会会员：每人收到入会欢迎通知",
    "register": "存量会员（已有会员的名册）：不发送入会欢迎；可选择发送一次“会员信息已上线”通知",
}
DEFAULT_INTAKE = "new_joins"  # as single admission; the CLI, used for whole registers, has no default


def check_intake(intake: str, online_notice: bool) -> None:
    if intake not in INTAKES:
        raise RuleViolation(f"导入类型须为 {'、'.join(INTAKES)} 之一", field="intake", kind="intake")
    if online_notice and intake != "register":
        raise RuleViolation("仅导入存量会员（register）时可选择发送“会员信息已上线”通知", field="online_notice",
                            kind="intake")


def member_origin(intake: str) -> str:
    """MemberJoined.origin of the members an import brings."""
    return "register" if intake == "register" else "joined"
