"""Request and response bodies more than one API module uses."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

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
