"""What to tell whom, and when to try again: rules of the notify service, free of I/O."""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from contracts.events import CaseOpened, ContestScored, MemberJoined

Status = Literal["pending", "sending", "delivered", "failed"]

# Why a delivery failed: the `reason` of NotificationFailed. Codes only: the SMTP server's
# text can carry the recipient's address, so it stays in the delivery's `last_error`.
NO_ADDRESS = "no_address"
REJECTED = "rejected"
RETRIES_EXHAUSTED = "retries_exhausted"
TEMPLATE_ERROR = "template_error"
INVALID_ADDRESS = "invalid_address"
LEASE_EXPIRED = "lease_expired"

CASE_KIND_LABELS = {
    "living": "生活救助",
    "medical": "医疗帮扶",
    "education": "助学",
    "employment": "就业帮扶",
    "legal": "法律援助",
    "temporary": "临时救助",
}
CASE_SOURCE_LABELS = {"application": "本人申请", "visit": "走访", "hotline": "12351职工服务热线"}


@dataclass(frozen=True)
class Notice:
    """One notification to one member, decided from one event. `context` holds what the
    template needs from the event (never an ID or phone number); the recipient's name and
    address come from the contacts when it is sent."""

    member_id: uuid.UUID
    template: str
    context: dict[str, Any]
    org_path: list[uuid.UUID] | None = None
    channels: tuple[str, ...] = field(default=("email",))


def welcome(event: MemberJoined) -> Notice:
    return Notice(
        member_id=event.member_id,
        template="member_joined",
        context={"union_name": event.union_name, "joined_on": event.joined_on.isoformat()},
        org_path=list(event.org_path),
    )


def case_opened(event: CaseOpened, union_name: str | None) -> Notice:
    return Notice(
        member_id=event.member_id,
        template="case_opened",
        context={
            "case_ref": str(event.case_id)[:8].upper(),
            "case_kind_label": CASE_KIND_LABELS.get(event.kind, event.kind),
            "source_label": CASE_SOURCE_LABELS.get(event.source, event.source),
            "opened_on": event.opened_on.isoformat(),
            "union_name": union_name,
        },
        org_path=list(event.org_path),
    )


def score_recorded(event: ContestScored, org_path: list[uuid.UUID] | None) -> Notice:
    # The judge stays anonymous to the contestant: judge_id is not part of the context.
    return Notice(
        member_id=event.member_id,
        template="contest_scored",
        context={
            "contest_name": event.contest_name,
            "criterion": event.criterion,
            "score_centipoints": event.score_centipoints,
            "max_centipoints": event.max_centipoints,
            "scored_at": event.scored_at.isoformat(),
        },
        org_path=org_path,
    )


def retry_delay(attempts: int, *, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds before the next send after `attempts` failed ones: exponential, capped, with
    "equal jitter" (half the step fixed, half random) so retries of a burst spread out but
    never come back sooner than half the step."""
    step = min(cap, base * 2 ** max(attempts - 1, 0))
    return step / 2 + rand() * step / 2


def after_temporary_failure(attempts: int, max_attempts: int) -> Literal["retry", "fail"]:
    """A temporary failure is retried until `max_attempts` sends were made."""
    return "retry" if attempts < max_attempts else "fail"
