"""What every channel shares: the message handed to a channel, its failure (temporary or
permanent, the provider's answer with any address hidden), the channel protocol, and how an HTTP
provider's answer is classified (SMS and robot webhooks)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

import httpx

from notify.domain import notices as domain
from unionops.pii import redact


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: uuid.UUID
    recipient_name: str
    address: str
    subject: str
    body: str
    secret: str | None = None      # webhook: the robot's signing secret
    flavour: str | None = None     # webhook: "dingtalk" | "wecom"
    template_code: str | None = None  # SMS: the provider-side template, when the provider wants one


class SendFailure(Exception):
    """A send did not go through. `permanent` ones are not retried; `reason` is one of the
    domain's failure codes, `detail` the server's answer with any address in it hidden (a
    refusal like "550 5.1.1 <li@example.cn>: User unknown" names the recipient), so that it
    can go to `last_error`, the dead letters, logs and spans; still not for events."""

    def __init__(self, *, permanent: bool, reason: str, detail: str) -> None:
        detail = redact(detail)[:1000]
        super().__init__(detail)
        self.permanent = permanent
        self.reason = reason
        self.detail = detail


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> None: ...

    async def close(self) -> None:
        """Release what the channel keeps open (connections); called on shutdown."""


def http_failure(response: httpx.Response, *, channel: str) -> SendFailure:
    """Temporary: 408, 429, 5xx, and our own credentials (401/403: an operator fixes them while the
    retries run). Permanent: any other 4xx — the provider would refuse the same request again."""
    code = response.status_code
    detail = f"HTTP {code}: {response.text[:300]}"
    if code in (401, 403):
        return SendFailure(permanent=False, reason=f"{channel}_auth", detail=detail)
    if code in (408, 429) or code >= 500:
        return SendFailure(permanent=False, reason=f"{channel}_busy", detail=detail)
    reason = domain.INVALID_ADDRESS if "MOBILE" in response.text.upper() else domain.REJECTED
    return SendFailure(permanent=True, reason=reason, detail=detail)


def transport_failure(exc: Exception) -> SendFailure:
    return SendFailure(permanent=False, reason="connection", detail=f"{type(exc).__name__}: {exc}")
