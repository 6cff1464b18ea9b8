"""The base of every request body: unknown fields are refused (a typo must not pass silently),
surrounding white space is stripped from strings, and every string is NFC-normalised and refused
when it carries control characters, direction overrides or nothing visible (unionops.inputs)."""
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from unionops.inputs import clean_strings


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_strings(value)


class Patch(Body):
    """A partial update: only the fields sent change. An explicit `null` clears a field only when
    it is listed in `clearable`; elsewhere it is refused (the column cannot be empty)."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_clearable(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise PydanticCustomError("null_not_allowed", "不能为 null（不修改请省略该字段）")
        return value
