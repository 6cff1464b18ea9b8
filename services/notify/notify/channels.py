"""Delivery channels. A channel turns a rendered message into a send and reports a failure as
temporary (try again later) or permanent (give up now): e-mail (SMTP), SMS (a provider's HTTP
API) and robot webhooks (DingTalk / WeCom style group chats), registered by name in app.py.
In-app messages need no channel: the dispatcher writes them into the inbox table.

Idempotency key of every provider call: the delivery id (`Idempotency-Key` header for SMS and
webhooks; the e-mail's Message-ID, below).

E-mail idempotency: every mail carries `Message-ID: <delivery-id@unionops.local>`. A delivery
is marked delivered only after the SMTP server accepted it; if the process dies between the
server's 250 and that commit, the delivery's lease expires and the mail is sent again with the
same Message-ID. That is the one window in which a member can receive a mail twice, and it is
the recipient side (the local sink, and mail clients that thread by Message-ID) that folds the
copies into one."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import time
import uuid
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
import httpx
import jinja2
from aiosmtplib import errors as smtp_errors

from notify import domain, mail
from notify.templates import TEMPLATE_DIR, Rendered, TemplateError, TemplateRegistry, cn_date, cn_datetime, points, yuan
from unionops.pii import redact
from unionops.telemetry import current_trace_headers

MESSAGE_ID_DOMAIN = "unionops.local"

log = logging.getLogger(__name__)


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


class _Connection:
    """One open SMTP session of the pool: EHLO, STARTTLS and login were done once, on connect."""

    __slots__ = ("client", "idle_since", "needs_reset")

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client
        self.idle_since = time.monotonic()
        self.needs_reset = False


def connection_lost(exc: BaseException) -> bool:
    """The session is gone — closed by the server (idle timeout, restart) or 421 "closing
    channel" — rather than the message refused. On a reused connection this says nothing about
    the message, which goes once more on a fresh connection."""
    if isinstance(exc, smtp_errors.SMTPTimeoutError):
        return False  # slow, not gone: the overall deadline decides
    if isinstance(exc, smtp_errors.SMTPRecipientsRefused):
        return any(r.code == 421 for r in exc.recipients)
    if isinstance(exc, smtp_errors.SMTPResponseException):
        return exc.code == 421
    return isinstance(exc, (smtp_errors.SMTPServerDisconnected, ConnectionError))


class EmailChannel:
    """Plain-text mail over SMTP (aiosmtplib) on a small pool of persistent connections.

    Per message one MAIL/RCPT/DATA transaction on an open session; EHLO, STARTTLS and login
    happen once per connection. A session the server closed (idle timeout, restart, 421) is
    replaced transparently: a send that breaks on a *reused* connection goes once more on a fresh
    one before it counts as a temporary failure. A session whose transaction was refused is RSET
    before its next use (and dropped if that fails). Connections idle longer than `idle_seconds`
    are closed with QUIT, all idle ones on `close()`. At most `pool_size` connections are open."""

    name = "email"

    def __init__(self, *, host: str, port: int, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 30.0,
                 pool_size: int = 8, idle_seconds: float = 30.0) -> None:
        self.host, self.port = host, port
        self.sender = sender
        sender_name, sender_address = parseaddr(sender)
        try:
            self.sender_address = mail.check_address(sender_address)
        except mail.AddressError as exc:
            raise ValueError(f"SMTP_FROM has no usable address: {sender!r} ({exc})") from None
        self._from_header = mail.mailbox(sender_name, self.sender_address)
        self.username, self.password = username, password
        self.starttls = starttls
        self.timeout = timeout
        self.idle_seconds = idle_seconds
        self.connections_opened = 0  # for tests and metrics
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: list[_Connection] = []  # most recently used last: reuse the warmest session
        self._reaper: asyncio.Task | None = None

    def build(self, message: OutgoingMessage) -> bytes:
        """The mail as it goes on the wire (see notify.mail); a bad address is a permanent failure."""
        try:
            address = mail.check_address(message.address)
        except mail.AddressError as exc:
            raise SendFailure(permanent=True, reason=domain.INVALID_ADDRESS, detail=str(exc)) from None
        return mail.compose(message_id=message_id(message.delivery_id), sender=self._from_header,
                            to=mail.mailbox(message.recipient_name, address), subject=message.subject,
                            body=message.body)

    async def send(self, message: OutgoingMessage) -> None:
        data = self.build(message)
        try:
            # One deadline for the whole conversation (waiting for a connection, connecting,
            # the transaction and its one retry), so a send never outlives its lease.
            await asyncio.wait_for(self._send(data, mail.check_address(message.address)), self.timeout)
        except (smtp_errors.SMTPException, OSError, asyncio.TimeoutError) as exc:
            raise classify_smtp_error(exc) from exc

    async def _send(self, data: bytes, address: str) -> None:
        async with self._slots:
            conn = await self._take_idle()
            if conn is not None:
                try:
                    await self._transact(conn, data, address)
                    return
                except Exception as exc:
                    if not connection_lost(exc):
                        raise
                    log.info("pooled SMTP connection was closed by the server; sending on a new one",
                             extra={"error": f"{type(exc).__name__}: {exc}"})
            await self._transact(await self._open(), data, address)

    async def _transact(self, conn: _Connection, data: bytes, address: str) -> None:
        try:
            await conn.client.sendmail(self.sender_address, [address], data)
        except BaseException as exc:  # cancellation (the deadline) included: never reuse a session mid-command
            if isinstance(exc, (smtp_errors.SMTPResponseException, smtp_errors.SMTPRecipientsRefused)):
                # A refused transaction: aiosmtplib sends RSET; whether the session is clean is
                # checked with our own RSET before it is used again.
                conn.needs_reset = True
                self._put_back(conn)
            else:
                conn.client.close()
            raise
        self._put_back(conn)

    async def _take_idle(self) -> _Connection | None:
        """The most recently used open session, RSET first if its last transaction failed; dead
        ones (closed by the server while idle) are dropped."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.client.is_connected:
                conn.client.close()
                continue
            if conn.needs_reset:
                try:
                    await conn.client.rset()
                except BaseException as exc:
                    conn.client.close()
                    if not isinstance(exc, Exception):
                        raise
                    continue
                conn.needs_reset = False
            return conn
        return None

    async def _open(self) -> _Connection:
        client = aiosmtplib.SMTP(hostname=self.host, port=self.port, username=self.username,
                                 password=self.password, start_tls=self.starttls, timeout=self.timeout)
        await client.connect()  # EHLO, STARTTLS if configured, login: once per connection
        self.connections_opened += 1
        return _Connection(client)

    def _put_back(self, conn: _Connection) -> None:
        if not conn.client.is_connected:  # e.g. 421: aiosmtplib closed it
            conn.client.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.append(conn)
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.create_task(self._reap_idle(), name="smtp-idle-reaper")

    async def _reap_idle(self) -> None:
        """Close sessions idle longer than `idle_seconds`; ends when none is idle."""
        while self._idle:
            await asyncio.sleep(min(self.idle_seconds / 3, 10.0))
            cutoff = time.monotonic() - self.idle_seconds
            stale = [c for c in self._idle if c.idle_since <= cutoff]
            if stale:
                self._idle = [c for c in self._idle if c.idle_since > cutoff]
                await asyncio.gather(*(self._quit(c) for c in stale))

    async def _quit(self, conn: _Connection) -> None:
        try:
            if conn.client.is_connected:
                await asyncio.wait_for(conn.client.quit(), min(self.timeout, 5.0))
        except (smtp_errors.SMTPException, OSError, asyncio.TimeoutError):
            pass
        finally:
            conn.client.close()

    async def close(self) -> None:
        """Close the idle sessions (QUIT). Sends under way are cancelled by then and closed theirs;
        a later send opens new connections."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._quit(c) for c in idle))


# --------------------------------------------------------------------------- rendering per channel

def mask_name(name: str | None) -> str:
    """张三 -> 张*, 张三丰 -> 张*丰, 欧阳娜娜 -> 欧**娜: enough for colleagues to recognise, not to
    identify a stranger in a group chat or on a lock screen."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


class ChannelRenderer:
    """Per-channel and per-language variants of the registered templates.

    Files, beside the e-mail pair `<name>.v<version>.subject.j2` / `.body.j2`:
      `<name>.v<version>.sms.j2`      one short text (SMS)
      `<name>.v<version>.webhook.j2`  Markdown for a group chat; its title is the e-mail subject
    A language other than zh-CN adds its tag before `.j2` (`member_joined.v1.sms.en.j2`); a file
    missing in that language falls back to the zh-CN one. In-app messages use the e-mail pair.
    A channel without its own file falls back to the e-mail body (SMS: the subject)."""

    def __init__(self, registry: TemplateRegistry, directory: Path = TEMPLATE_DIR) -> None:
        self.registry = registry
        self.directory = directory
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory), autoescape=False, undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        )
        self._env.filters.update(cn_date=cn_date, cn_datetime=cn_datetime, yuan=yuan, points=points,
                                 mask_name=mask_name)

    def _file(self, stem: str, part: str, language: str) -> str | None:
        for name in ([f"{stem}.{part}.{language}.j2"] if language != "zh-CN" else []) + [f"{stem}.{part}.j2"]:
            if (self.directory / name).exists():
                return name
        return None

    def _render(self, filename: str, data: dict[str, Any]) -> str:
        try:
            return self._env.get_template(filename).render(data)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"{filename}: {exc}") from exc
        except (ValueError, TypeError) as exc:
            raise TemplateError(f"{filename}: {exc}") from exc

    def render(self, name: str, version: int, channel: str, variables: dict[str, Any],
               language: str = "zh-CN") -> Rendered:
        spec = self.registry.get(name, version)  # only registered names reach the loader
        stem = f"{spec.name}.v{spec.version}"
        data = {**self.registry.defaults, **variables}
        subject_file = self._file(stem, "subject", language)
        body_file = self._file(stem, "body", language)
        if subject_file is None or body_file is None:
            raise TemplateError(f"{stem}: no subject/body template")
        subject = " ".join(self._render(subject_file, data).split())
        if channel in ("email", "inapp"):
            return Rendered(subject=subject, body=self._render(body_file, data).strip() + "\n")
        own = self._file(stem, channel, language)
        if channel == "sms":
            text = self._render(own, data) if own else subject
            return Rendered(subject=subject, body=" ".join(text.split()))  # one line, no layout
        return Rendered(subject=subject, body=(self._render(own, data) if own else self._render(body_file, data)).strip())


# --------------------------------------------------------------------------- HTTP channels

def _http_failure(response: httpx.Response, *, channel: str) -> SendFailure:
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


def _transport_failure(exc: Exception) -> SendFailure:
    return SendFailure(permanent=False, reason="connection", detail=f"{type(exc).__name__}: {exc}")


class SmsChannel:
    """SMS through a provider's HTTP API: `POST {base}/sms {to, text, template_code?}` with
    `Authorization: Bearer <key>` and `Idempotency-Key: <delivery id>` (the provider answers a
    repeated key with the first message's id instead of sending again). `address` is the phone
    number, decrypted by the dispatcher just before the call and never logged."""

    name = "sms"

    def __init__(self, *, base_url: str, api_key: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=timeout,
                                         headers={"Authorization": f"Bearer {api_key}"})

    async def send(self, message: OutgoingMessage) -> None:
        payload = {"to": message.address, "text": message.body}
        if message.template_code:
            payload["template_code"] = message.template_code
        try:
            response = await self._client.post("/sms", json=payload, headers={
                "Idempotency-Key": str(message.delivery_id), **current_trace_headers()})
        except httpx.HTTPError as exc:
            raise _transport_failure(exc) from exc
        if response.is_success:
            return
        raise _http_failure(response, channel="sms")

    async def close(self) -> None:
        await self._client.aclose()


def robot_signature(secret: str, timestamp_ms: int) -> str:
    """DingTalk robot signing: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"));
    sent URL-encoded as `&timestamp=<ms>&sign=<signature>` beside the robot's access token."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# Robot answers (HTTP 200 with an errcode): these mean "slow down / try later".
_ROBOT_TEMPORARY = {-1, 130101, 45009, 45033}


class WebhookChannel:
    """Group-chat robots (DingTalk / WeCom style): JSON `POST` to the bot's URL, signed with its
    secret (`robot_signature`), Markdown body. `address` is the bot's URL; `secret` and
    `flavour` come from its row in `webhook_bots`."""

    name = "webhook"

    def __init__(self, *, timeout: float = 10.0, clock=time.time) -> None:
        self._client = httpx.AsyncClient(timeout=timeout)
        self._clock = clock

    @staticmethod
    def payload(message: OutgoingMessage) -> dict[str, Any]:
        if message.flavour == "wecom":
            return {"msgtype": "markdown", "markdown": {"content": f"**{message.subject}**\n\n{message.body}"}}
        return {"msgtype": "markdown", "markdown": {"title": message.subject, "text": message.body}}

    async def send(self, message: OutgoingMessage) -> None:
        params: dict[str, str] = {}
        if message.secret:
            ts = int(self._clock() * 1000)
            params = {"timestamp": str(ts), "sign": robot_signature(message.secret, ts)}
        try:
            # The bot's URL carries its access token: add the signature to that query, not instead of it.
            url = httpx.URL(message.address).copy_merge_params(params)
            response = await self._client.post(url, json=self.payload(message), headers={
                "Idempotency-Key": str(message.delivery_id), **current_trace_headers()})
        except httpx.HTTPError as exc:
            raise _transport_failure(exc) from exc
        if not response.is_success:
            raise _http_failure(response, channel="webhook")
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
        if code == 0:
            return
        detail = f"errcode {code}: {answer.get('errmsg')}"
        if code in _ROBOT_TEMPORARY:
            raise SendFailure(permanent=False, reason="webhook_busy", detail=detail)
        raise SendFailure(permanent=True, reason=domain.REJECTED, detail=detail)

    async def close(self) -> None:
        await self._client.aclose()
