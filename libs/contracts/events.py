"""The integration events of UnionOps.

Each event is a fact in the past tense. Its topic is per aggregate and major version; its key
is the aggregate id, so one aggregate's events stay in order. Within a major version a change
may only add optional fields (checked by `python -m contracts.generate --check`).

Personal data rule: no resident ID number and no phone number in any event except on the
restricted contact topic that notify alone consumes."""
from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Gender = Literal["male", "female"]


class DomainEvent(BaseModel):
    """Base of every integration event: the payload of a CloudEvent."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    topic: ClassVar[str]
    key_field: ClassVar[str]
    restricted: ClassVar[bool] = False

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__

    def key(self) -> str:
        return str(getattr(self, self.key_field))


# ---- membership -------------------------------------------------------------------------------

class UnionEstablished(DomainEvent):
    """An organisation unit was founded (建会) or registered in the tree."""

    topic: ClassVar[str] = "membership.organisation.v1"
    key_field: ClassVar[str] = "org_id"

    org_id: UUID
    parent_id: UUID | None
    org_path: list[UUID] = Field(description="ids from the city root down to this unit")
    name: str
    level: Literal["city", "district", "street", "grassroots"]
    kind: str
    region_code: str
    established_on: date


class MemberJoined(DomainEvent):
    """A worker joined a grassroots union (入会), real-name verified. No ID number, no phone."""

    topic: ClassVar[str] = "membership.member.v1"
    key_field: ClassVar[str] = "member_id"

    member_id: UUID
    union_id: UUID
    union_name: str
    org_path: list[UUID] = Field(description="ids from the city root down to the member's union")
    name: str
    gender: Gender
    birth_year: int
    is_migrant_worker: bool = False
    joined_on: date


class MemberContactChanged(DomainEvent):
    """Restricted: how to reach a member. Consumed by notify only."""

    topic: ClassVar[str] = "membership.member-contact.v1"
    key_field: ClassVar[str] = "member_id"
    restricted: ClassVar[bool] = True

    member_id: UUID
    name: str
    email: str | None = None
    phone: str | None = None


# ---- welfare ----------------------------------------------------------------------------------

class CaseOpened(DomainEvent):
    """An assistance case (帮扶案件) was opened for a member. No health or income detail."""

    topic: ClassVar[str] = "welfare.case.v1"
    key_field: ClassVar[str] = "case_id"

    case_id: UUID
    member_id: UUID
    union_id: UUID
    org_path: list[UUID]
    kind: Literal["living", "medical", "education", "employment", "legal", "temporary"]
    source: Literal["application", "visit", "hotline"]
    opened_on: date


# ---- competitions -----------------------------------------------------------------------------

class ContestCreated(DomainEvent):
    """A labour or skill contest (劳动竞赛 / 职工技能比赛) was created."""

    topic: ClassVar[str] = "competitions.contest.v1"
    key_field: ClassVar[str] = "contest_id"

    contest_id: UUID
    name: str
    kind: str
    org_id: UUID
    starts_on: date | None = None


class ContestantRegistered(DomainEvent):
    """A member was registered as a contestant."""

    topic: ClassVar[str] = "competitions.contest.v1"
    key_field: ClassVar[str] = "contest_id"

    contest_id: UUID
    contest_name: str
    entry_id: UUID
    member_id: UUID


class ContestScored(DomainEvent):
    """A judge's score for an entry was recorded. Scores are in hundredths of a point."""

    topic: ClassVar[str] = "competitions.contest.v1"
    key_field: ClassVar[str] = "contest_id"

    contest_id: UUID
    contest_name: str
    entry_id: UUID
    member_id: UUID
    judge_id: str
    criterion: str
    score_centipoints: int = Field(ge=0)
    max_centipoints: int = Field(gt=0)
    scored_at: datetime


# ---- notify -----------------------------------------------------------------------------------

Channel = Literal["email", "sms", "webhook", "inapp"]


class NotificationDelivered(DomainEvent):
    """A notification reached its channel."""

    topic: ClassVar[str] = "notify.delivery.v1"
    key_field: ClassVar[str] = "notification_id"

    notification_id: UUID
    source_event_id: UUID
    source_event_type: str
    member_id: UUID | None = None
    channel: Channel
    template: str
    delivered_at: datetime


class NotificationFailed(DomainEvent):
    """A notification could not be delivered after its retries (or failed permanently)."""

    topic: ClassVar[str] = "notify.delivery.v1"
    key_field: ClassVar[str] = "notification_id"

    notification_id: UUID
    source_event_id: UUID
    source_event_type: str
    member_id: UUID | None = None
    channel: Channel
    template: str
    reason: str
    attempts: int
    failed_at: datetime


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.event_type(): cls
    for cls in (
        UnionEstablished,
        MemberJoined,
        MemberContactChanged,
        CaseOpened,
        ContestCreated,
        ContestantRegistered,
        ContestScored,
        NotificationDelivered,
        NotificationFailed,
    )
}

TOPICS: dict[str, list[type[DomainEvent]]] = {}
for _cls in EVENT_TYPES.values():
    TOPICS.setdefault(_cls.topic, []).append(_cls)


def event_class(event_type: str) -> type[DomainEvent] | None:
    return EVENT_TYPES.get(event_type)


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"
