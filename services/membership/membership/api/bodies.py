"""Request and response bodies of the membership API."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from membership.domain.members import EDUCATION, EMAIL_PATTERN, HONOURS, MemberFields
from unionops.bodies import Body, Patch
from unionops.inputs import Count, Flag, PersonName, UnitName, count


class MemberIn(MemberFields):
    employer_credit_code: str | None = Field(None, max_length=18, description="所在单位统一社会信用代码（可选；"
                                             "已登记的单位据此统计所有制）")


class Honour(BaseModel):
    code: str
    label: str


class MemberOut(BaseModel):
    id: uuid.UUID
    union_id: uuid.UUID
    union_name: str
    name: str
    gender: str
    birth_date: date
    id_number_masked: str
    phone_masked: str | None
    email: str | None
    employer: str | None
    occupation: str | None = None
    education: str | None = None
    is_migrant_worker: bool
    honours: list[Honour] = []
    status: str
    status_reason: str | None = None
    joined_on: date
    left_on: date | None = None
    rejoined_after_days: int | None = Field(None, description="set on a re-admission: days since the member left")


HonourCode = Literal[tuple(HONOURS)]


EducationCode = Literal[tuple(EDUCATION)]


class ProfilePatch(Patch):
    """Only the fields sent change; `null` clears phone, e-mail, employer, occupation, education."""

    clearable = frozenset({"phone", "email", "employer", "occupation", "education"})

    name: PersonName | None = Field(None, min_length=2, max_length=50)
    phone: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=200, pattern=EMAIL_PATTERN)
    employer: UnitName | None = Field(None, max_length=200)
    occupation: str | None = Field(None, max_length=100)
    education: EducationCode | None = Field(None, description=str(EDUCATION))
    is_migrant_worker: Flag | None = None
    honours: list[HonourCode] | None = Field(None, max_length=20, description=f"the full list; codes: {HONOURS}")

    @model_validator(mode="after")
    def _not_empty(self):
        if not self.model_fields_set:
            raise ValueError("请至少提供一个要修改的字段")
        return self


class StatusChangeIn(Body):
    status: Literal["active", "retained", "left"]
    reason: Literal["retired", "unemployed", "employer_closed", "reactivated", "resigned", "deceased", "expelled",
                    "administrative"] = Field(
        description="retained: retired/unemployed/employer_closed; active: reactivated;"
                    " left: resigned/deceased/expelled/administrative (administrative: federation admins only)")
    effective_on: date | None = None


class TransferIn(Body):
    to_union_id: uuid.UUID | None = Field(None, description="the receiving grassroots union; null: resolved from the"
                                                            " employer's credit code, else the residence area")
    new_employer: UnitName = Field(min_length=2, max_length=200)
    new_employer_credit_code: str | None = Field(None, max_length=18, description="统一社会信用代码")
    residence_region_code: str | None = Field(None, pattern=r"^\d{6}$", description="居住地行政区划代码")
    effective_on: date | None = None


class TransferRequestIn(Body):
    id_number: str = Field(min_length=1, max_length=32, description="被申请人的18位居民身份证号")
    to_union_id: uuid.UUID = Field(description="the asking (receiving) grassroots union, in the caller's subtree")
    new_employer: UnitName = Field(min_length=2, max_length=200)
    new_employer_credit_code: str | None = Field(None, max_length=18, description="统一社会信用代码")


class TransferRequestOut(BaseModel):
    """To the asker only what it knew already; to the member and the sending side also who asks
    and what became of it."""

    id: uuid.UUID
    status: Literal["pending", "confirmed", "declined", "expired"]
    id_number_masked: str
    to_union_id: uuid.UUID
    to_union_name: str
    new_employer: str
    requested_by: str
    requested_at: datetime
    expires_on: date
    member_id: uuid.UUID | None = None
    requested_by_org_name: str | None = None
    decided_by: str | None = None
    decided_as: str | None = None
    decided_at: datetime | None = None


class OrganisationIn(Body):
    parent_id: uuid.UUID
    name: UnitName = Field(min_length=2, max_length=100)
    level: Literal["district", "street", "grassroots"]
    kind: str = Field(min_length=1, max_length=50)
    region_code: str = Field(pattern=r"^\d{6}$", description="行政区划代码")
    established_on: date | None = None
    employer_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500,
                                          description="registered employers this grassroots union covers")


class OrganisationOut(BaseModel):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    path: list[uuid.UUID]
    name: str
    level: str
    kind: str
    region_code: str
    established_on: date
    status: str = "active"


class MergeIn(Body):
    into_org_id: uuid.UUID
    merged_on: date | None = None


class DissolveIn(Body):
    reason: str = Field(min_length=2, max_length=200)
    dissolved_on: date | None = None


class MoveIn(Body):
    new_parent_id: uuid.UUID
    moved_on: date | None = None


class EmployerIn(Body):
    org_id: uuid.UUID = Field(description="the unit answerable for the employer (usually a street/town union)")
    name: UnitName = Field(min_length=2, max_length=200)
    credit_code: str | None = Field(None, max_length=18, description="统一社会信用代码 (check character verified)")
    ownership: Literal["state_owned", "collective", "non_public"]
    headcount: count(le=10_000_000) = Field(0)
    has_collective_contract: Flag = Field(False, description="imported marker of a legacy contract (dates unknown);"
                                          " coverage counts only contracts in force (/collective-contracts)")
    union_id: uuid.UUID | None = None
    above_designated_size: Flag = Field(False, description="规模以上企业 (a statistical classification by revenue,"
                                        " not by headcount): the base of 集体合同建制率 and 工资集体协商建制率")


class EmployerContactIn(Body):
    contact_name: PersonName = Field(min_length=2, max_length=50, description="企业方联系人姓名")
    email: str = Field(max_length=200, pattern=EMAIL_PATTERN, description="企业方联系人电子邮箱（加密保存）")


class TargetsIn(Body):
    unions_target: Count | None = None
    members_target: Count | None = None


Percent = Annotated[int, Field(strict=True, ge=0, le=100, description="目标（百分比，整数）")]


class RightsTargetsIn(Body):
    """The year's targets in whole percent; a measure left out has no target."""

    collective_contract: Percent | None = None
    wage_bargaining: Percent | None = None
    women_special_contract: Percent | None = None
    members_covered: Percent | None = None
    congress: Percent | None = None
    openness: Percent | None = None
    mediation_committee: Percent | None = None


class ErasureOut(BaseModel):
    member_id: uuid.UUID
    data_key_destroyed: bool
    outbox_rows_deleted: int
    erased_at: datetime
