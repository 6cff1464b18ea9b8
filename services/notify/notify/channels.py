"""Delivery channels. A channel turns a rendered message into a send and reports a failure as
temporary (try again later) or permanent (give up now). Only e-mail exists yet; SMS, webhooks
and in-app messages are further classes with the same `send`, registered by name in app.py.

E-mail idempotency: every mail carries `Message-ID: <delivery-id@unionops.local>`. A delivery
is marked delivered only after the SMTP server accepted it; if the process dies between the
server's 250 and that commit, the delivery's lease expires and the mail is sent again with the
same Message-ID. That is the one window in which a member can receive a mail twice, and it is
the recipient side (the local sink, and mail clients that thread by Message-ID) that folds the
copies into one."""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol

import aiosmtplib
from aiosmtplib import errors as smtp_errors

from notify import domain

MESSAGE_ID_DOMAIN = "unionops.local"


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: uuid.UUID
    recipient_name: str
    address: str
    subject: str
    body: str


class SendFailure(Exception):
    """A send did not go through. `permanent` ones are not retried; `reason` is one of the
    domain's failure codes, `detail` the server's answer (may name the address: not for events)."""

    def __init__(self, *, permanent: bool, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.permanent = permanent
        self.reason = reason
        self.detail = detail[:1000]


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> None: ...


def message_id(delivery_id: uuid.UUID) -> str:
    """The delivery's idempotency key as an RFC 5322 Message-ID."""
    return f"<{delivery_id}@{MESSAGE_ID_DOMAIN}>"


# Replies to the mail transaction itself (MAIL, RCPT, DATA): a 5xx there is about this message.
_TRANSACTION_ERRORS = (smtp_errors.SMTPRecipientRefused, smtp_errors.SMTPSenderRefused, smtp_errors.SMTPDataError)


def classify_smtp_error(exc: BaseException) -> SendFailure:
    """Temporary: 4xx replies, lost or refused connections, timeouts, and our own configuration
    (authentication, STARTTLS) which an operator can fix while the retries run. Permanent: a 5xx
    reply to MAIL, RCPT or DATA, which the server would give again."""
    if isinstance(exc, SendFailure):
        return exc
    if isinstance(exc, smtp_errors.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        permanent = bool(codes) and all(500 <= c < 600 for c in codes)
        return SendFailure(permanent=permanent, reason=domain.REJECTED if permanent else "smtp_busy", detail=detail)
    if isinstance(exc, smtp_errors.SMTPAuthenticationError):
        return SendFailure(permanent=False, reason="smtp_auth", detail=f"{exc.code} {exc.message}")
    if isinstance(exc, _TRANSACTION_ERRORS) and 500 <= exc.code < 600:
        return SendFailure(permanent=True, reason=domain.REJECTED, detail=f"{exc.code} {exc.message}")
    if isinstance(exc, smtp_errors.SMTPResponseException):
        return SendFailure(permanent=False, reason="smtp_busy", detail=f"{exc.code} {exc.message}")
    if isinstance(exc, smtp_errors.SMTPNotSupported):
        return SendFailure(permanent=False, reason="smtp_config", detail=str(exc))
    if isinstance(exc, (smtp_errors.SMTPException, OSError, asyncio.TimeoutError)):
        return SendFailure(permanent=False, reason="connection", detail=f"{type(exc).__name__}: {exc}")
    raise TypeError(f"not a send failure: {exc!r}")


class EmailChannel:
    """Plain-text mail over SMTP (aiosmtplib), one connection per message."""

    name = "email"

    def __init__(self, *, host: str, port: int, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 30.0) -> None:
        self.host, self.port = host, port
        self.sender = sender
        self.sender_address = parseaddr(sender)[1]
        if "@" not in self.sender_address:
            raise ValueError(f"SMTP_FROM has no address: {sender!r}")
        self.username, self.password = username, password
        self.starttls = starttls
        self.timeout = timeout

    def build(self, message: OutgoingMessage) -> EmailMessage:
        try:
            to = Address(display_name=message.recipient_name, addr_spec=message.address)
        except (ValueError, IndexError) as exc:
            raise SendFailure(permanent=True, reason=domain.INVALID_ADDRESS, detail=str(exc)) from None
        mail = EmailMessage()
        mail["Message-ID"] = message_id(message.delivery_id)
        mail["Date"] = format_datetime(datetime.now(timezone.utc))
        mail["From"] = self.sender
        mail["To"] = to
        mail["Subject"] = message.subject
        mail["Content-Language"] = "zh-CN"
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
        mail.set_content(message.body, charset="utf-8")
        return mail

    async def send(self, message: OutgoingMessage) -> None:
        mail = self.build(message)
        try:
            # One deadline for the whole conversation, so a send never outlives its lease.
            await asyncio.wait_for(
                aiosmtplib.send(
                    mail, sender=self.sender_address, recipients=[message.address], hostname=self.host,
                    port=self.port, username=self.username, password=self.password,
                    start_tls=self.starttls, timeout=self.timeout,
                ),
                self.timeout,
            )
        except (smtp_errors.SMTPException, OSError, asyncio.TimeoutError) as exc:
            raise classify_smtp_error(exc) from exc
