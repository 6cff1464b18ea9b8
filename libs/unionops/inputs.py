"""Reusable input types for request bodies and parameters: money and counts are strict integers
within bounds, names are what a real person's or unit's name can be, and no text carries control
characters, direction overrides or NUL (which PostgreSQL cannot store).

Body fields use the strict types (`Fen`, `Count`, `Year`, `Flag`); query and path parameters,
which arrive as text, use the lax bounded ones (`Limit`, `Offset`, `YearParam`, `Seq`)."""
from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

MAX_FEN = 10**12  # ¥100 亿: above any budget of a city federation, far inside bigint with room for sums
MAX_COUNT = 2**31 - 1  # PostgreSQL integer
MAX_OFFSET = 1_000_000
MAX_SEQ = 2**63 - 1  # PostgreSQL bigint
MIN_YEAR, MAX_YEAR = 2000, 2100



# Strict: "100", 100.0 and true are refused, not read as 100 or 1. A field's own bounds go into
# the factory (a `Field(ge=…)` next to the type would be overridden by the type's bounds).
def fen(*, gt: int | None = None, ge: int | None = 0, le: int = MAX_FEN) -> Any:
    """An amount of money in fen: a strict integer within [ge, le] (or above gt)."""
    return Annotated[int, Field(strict=True, gt=gt, ge=None if gt is not None else ge, le=le,
                                description="金额，单位：分（整数）")]


def count(*, ge: int = 0, le: int = MAX_COUNT) -> Any:
    """A number of things (people, places, points, basis points): a strict integer in [ge, le]."""
    return Annotated[int, Field(strict=True, ge=ge, le=le)]


Fen = fen()
PositiveFen = fen(gt=0)
Count = count()
Year = Annotated[int, Field(strict=True, ge=MIN_YEAR, le=MAX_YEAR)]
Flag = Annotated[bool, Field(strict=True)]

Limit = Annotated[int, Field(ge=1, le=1000, description="最多返回条数")]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description="跳过条数")]
YearParam = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ)]

# Direction overrides and isolates reorder what a reader sees (a name that reads differently
# than it sorts or matches); lone surrogates cannot be encoded to UTF-8 at all.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_TEXT_CONTROLS_ALLOWED = set("\t\n\r")


def _refuse(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def clean_text(value: str) -> str:
    """Any text a person typed: NFC, without control characters (tab and line breaks allowed),
    direction overrides or lone surrogates, and not made only of invisible characters."""
    value = unicodedata.normalize("NFC", value)
    for ch in value:
        category = unicodedata.category(ch)
        if (category == "Cc" and ch not in _TEXT_CONTROLS_ALLOWED) or category == "Cs":
            raise _refuse("text_control_character", "不能包含控制字符")
        if ch in _BIDI:
            raise _refuse("text_bidi_control", "不能包含文字方向控制字符")
    if value and all(unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp") or ch in _TEXT_CONTROLS_ALLOWED
                     for ch in value):
        raise _refuse("text_invisible", "不能只由空白或不可见字符组成")
    return value


def clean_strings(value: Any) -> Any:
    """`clean_text` over a value and whatever strings it holds (lists, dicts)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_strings(v) for v in value]
    if isinstance(value, tuple):
        return tuple(clean_strings(v) for v in value)
    if isinstance(value, dict):
        return {clean_strings(k): clean_strings(v) for k, v in value.items()}
    return value


# What people write as the middle dot of minority and foreign names (艾力·买买提).
_MIDDLE_DOTS = str.maketrans({"•": "·", "・": "·", "‧": "·", "∙": "·", "⋅": "·", "．": "·"})
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_LATIN = r"A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
_PERSON = re.compile(rf"[{_HAN}{_LATIN}]+(?:[·\-' .]+[{_HAN}{_LATIN}]+)*\.?")


def person_name(value: str) -> str:
    """A person's name: Chinese (also minority names with the middle dot ·) or Latin letters,
    with spaces, hyphens, apostrophes and dots between the parts. Nothing else: no digits,
    emoji, control or invisible characters, no stacked combining marks."""
    value = clean_text(value).translate(_MIDDLE_DOTS)
    value = " ".join(value.split())
    if not _PERSON.fullmatch(value):
        raise _refuse("person_name", "姓名只能由汉字或拉丁字母组成，各部分之间可用间隔号“·”、空格、连字符或撇号")
    return value


_UNIT_SYMBOLS = set("+&#№")


def unit_name(value: str) -> str:
    """The name of a unit (union, employer, team, fund, group chat): letters of any script,
    digits, punctuation such as brackets and dashes, single spaces; no emoji, control, invisible
    or combining characters."""
    value = " ".join(clean_text(value).split())
    if not any(unicodedata.category(ch)[0] in "LN" for ch in value):
        raise _refuse("unit_name", "名称须含有文字或数字")
    for ch in value:
        if unicodedata.category(ch)[:1] not in ("L", "N", "P") and unicodedata.category(ch) != "Zs" \
                and ch not in _UNIT_SYMBOLS:
            raise _refuse("unit_name", "名称只能包含文字、数字、空格和标点（如括号、连字符），不能含表情符号或不可见字符")
    return value


PersonName = Annotated[str, AfterValidator(person_name)]
UnitName = Annotated[str, AfterValidator(unit_name)]
