"""E-mail over SMTP on a pool of persistent connections (the mail itself is written by `mail`).

E-mail idempotency: every mail carries `Message-ID: <delivery-id@unionops.local>`. A delivery
is marked delivered only after the SMTP server accepted it; if the process dies between the
server's 250 and that commit, the delivery's lease expires and the mail is sent again with the
same Message-ID. That is the one window in which a member can receive a mail twice, and it is
the recipient side (the local sink, and mail clients that thread by Message-ID) that folds the
copies into one."""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from email.utils import parseaddr

import aiosmtplib
from aiosmtplib import errors as smtp_errors

from notify.adapters import mail
from notify.adapters.channels import OutgoingMessage, SendFailure
from notify.domain import notices as domain

MESSAGE_ID_DOMAIN = "unionops.local"

log = logging.getLogger(__name__)


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
