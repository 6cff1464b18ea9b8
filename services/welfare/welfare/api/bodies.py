"""Request and response bodies more than one API module uses."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from unionops.inputs import MAX_OFFSET
from unionops.pii import InvalidResidentId, parse_resident_id

def _resident_id(value: str) -> str:
    try:
        return parse_resident_id(value).number
    except InvalidResidentId as exc:
        raise ValueError(str(exc)) from None


# A resident ID number (GB 11643-1999), validated and normalised; the message names what is wrong.
ResidentIdNumber = Annotated[str, AfterValidator(_resident_id)]

AmountFen = Field(json_schema_extra={"examples": [5000000]})  # of the type PositiveFen

CaseKind = Literal["living", "medical", "education", "employment", "legal", "temporary"]


class Money(BaseModel):
    fen: int
    yuan: str = Field(examples=["3,000.00元"])


class StudentOut(BaseModel):
    name: str
    id_number: str
    school_level: str
    school_level_label: str
    grant_fen: int
    grant_year: int


class CaseOut(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    union_id: uuid.UUID
    union_name: str
    kind: str
    source: str
    status: str
    opened_on: date
    opened_by: str
    student: StudentOut | None = None


# ---- lists an office works from ------------------------------------------------------------------

class QueryParams(BaseModel):
    """Query parameters as a model: unknown ones are refused (a misspelt filter must not silently
    list everything). Not a `Body`: a query string is text, so numbers are read from it."""

    model_config = ConfigDict(extra="forbid")


class ListQuery(QueryParams):
    """The query parameters of a list; the page is bounded."""

    limit: int = Field(50, ge=1, le=500, description="最多返回条数（1–500）")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过条数")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="符合筛选条件的总条数")
    limit: int
    offset: int
