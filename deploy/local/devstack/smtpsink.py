"""Local SMTP sink: a real SMTP server that keeps every mail it receives, with an HTTP API.

notify delivers e-mail over real SMTP; locally this sink takes the mail relay's place so that
tests and developers can see what was sent. One asyncio process runs both the aiosmtpd server
and the uvicorn HTTP app.

    python -m devstack.smtpsink --smtp-port 2525 --http-port 8025 --dir .state/smtpsink
    python -m devstack.smtpsink list --url http://127.0.0.1:8025

Every receipt is appended to `<dir>/messages.jsonl` and fsync'd before the server answers 250,
so a mail acknowledged to notify is never lost by the sink, and a restarted sink lists it again.
Each receipt names the SMTP connection it came over (`connection_id`), so a test can see
several mails share one session. Message-ID is the delivery idempotency key of the system: the sink records every receipt, and
`GET /messages` folds receipts of the same Message-ID into one entry with `receipts: n`, so a
test can tell "delivered once" from "delivered twice".

HTTP API: `GET /messages` (?all=true raw receipts, ?to=, ?subject_contains=, ?limit=),
`GET /messages/count`, `GET /messages/{seq}`, `DELETE /messages`, `POST /control/fail`
(fault injection for tests), `GET /health/live`, `GET /health/ready`.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.errors
import json
import logging
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any, AsyncIterator, Literal

import httpx
import uvicorn
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session
from fastapi import FastAPI, Query, Request, Response
from pydantic import BaseModel, Field

from unionops.clock import local_time
from unionops.problems import Problem, install as install_problems

log = logging.getLogger("devstack.smtpsink")

DEFAULT_SMTP_PORT = 2525
DEFAULT_HTTP_PORT = 8025
MESSAGES_FILE = "messages.jsonl"
HOSTNAME = "smtpsink.local"  # fixed, so aiosmtpd does not spend seconds on getfqdn()

# Headers worth keeping beside the parsed fields; every X-* header is kept as well.
_KEPT_HEADERS = ("From", "To", "Cc", "Reply-To", "Date", "In-Reply-To", "References", "List-Unsubscribe",
                 "Content-Language", "Auto-Submitted")


# --------------------------------------------------------------------------- parsing


def _header(value: Any) -> str | None:
    """A raw header as text: RFC 2047 encoded words decoded, folding undone."""
    if value is None:
        return None
    try:
        return str(make_header(decode_header(str(value)))).strip()
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return str(value).strip()  # an undecodable word stays as it came


def _content(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    try:
        content = payload.decode(part.get_content_charset() or "us-ascii")
    except (LookupError, UnicodeError):
        # Unknown or lying charset: keep what can be read rather than drop the mail.
        content = payload.decode("utf-8", errors="replace")
    return content.replace("\r\n", "\n")  # CRLF is MIME's canonical line break, not content


def parse_message(data: bytes) -> dict[str, Any]:
    """The fields a reader needs from a raw RFC 5322 message, with encoded words,
    base64 and quoted-printable bodies decoded. The compat32 parser with decoding on demand:
    the modern policy's header objects cost about a millisecond a mail, which at thousands
    of mails a second was most of the sink's time."""
    msg = email.message_from_bytes(data)

    headers: dict[str, Any] = {}
    for name, value in msg.items():
        if name.lower().startswith("x-") or name in _KEPT_HEADERS:
            previous = headers.get(name)
            value = _header(value)
            headers[name] = value if previous is None else [*(previous if isinstance(previous, list) else [previous]), value]

    text = html = None
    attachments = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        kind = part.get_content_type()
        if disposition == "attachment" or kind not in ("text/plain", "text/html"):
            if part is not msg or disposition == "attachment":
                attachments.append({"filename": part.get_filename(), "content_type": kind,
                                    "size": len(part.get_payload(decode=True) or b"")})
            continue
        if kind == "text/plain" and text is None:
            text = _content(part)
        elif kind == "text/html" and html is None:
            html = _content(part)
    return {
        "message_id": _header(msg.get("Message-ID")),
        "subject": _header(msg.get("Subject")),
        "from": _header(msg.get("From")),
        "to": _header(msg.get("To")),
        "text": text,
        "html": html,
        "headers": headers,
        "attachments": attachments,
        "defects": [type(d).__name__ for d in msg.defects],
    }


# --------------------------------------------------------------------------- storage


class MailStore:
    """Receipts in memory, backed by an append-only, fsync'd JSON-lines file."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / MESSAGES_FILE
        self.receipts: list[dict[str, Any]] = []
        self.seq = 0
        self.lock = asyncio.Lock()
        self._file: Any = None
        self._waiting: list[tuple[dict[str, Any], asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        self._load()
        self._file = open(self.path, "ab")
        if created:
            self._fsync_dir()

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            # A crash mid-append leaves a partial line that was never acknowledged: drop it,
            # or the next receipt would be glued onto it.
            keep = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as f:
                f.truncate(keep)
                os.fsync(f.fileno())
            log.warning("dropped %d bytes of an unfinished record from %s", len(data) - keep, self.path)
            data = data[:keep]
        for number, line in enumerate(data.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                log.warning("skipping unreadable line %d of %s", number, self.path)
                continue
            self.receipts.append(record)
            self.seq = max(self.seq, int(record.get("seq", 0)))
        log.info("loaded %d receipts from %s", len(self.receipts), self.path)

    def _fsync_dir(self) -> None:
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())

    def _truncate(self) -> None:
        self._file.truncate(0)
        self._file.flush()
        os.fsync(self._file.fileno())

    async def append(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Persist one receipt durably, then make it visible; returns it with its seq.

        Group commit: receipts that arrive while a write is under way are written together
        with one fsync after it (each caller still waits for its own line to be on disk), so a
        sink receiving on many connections is not held to one fsync per mail."""
        record = {"seq": 0, **fields}
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((record, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        await asyncio.shield(done)
        return record

    async def _write_waiting(self) -> None:
        async with self.lock:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                for record, _ in batch:  # numbered in arrival order, as they are written
                    self.seq += 1
                    record["seq"] = self.seq
                data = b"".join((json.dumps(r, ensure_ascii=False) + "\n").encode() for r, _ in batch)
                try:
                    await asyncio.to_thread(self._write, data)
                except BaseException as exc:
                    self.seq -= len(batch)
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("write cancelled"))
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for record, done in batch:
                    self.receipts.append(record)
                    if not done.done():
                        done.set_result(None)

    async def clear(self) -> None:
        async with self.lock:
            await asyncio.to_thread(self._truncate)
            self.receipts.clear()
            self.seq = 0


def select(receipts: list[dict[str, Any]], *, to: str | None = None,
           subject_contains: str | None = None) -> list[dict[str, Any]]:
    """Receipts matching an envelope recipient (case-insensitive) and a subject fragment."""
    out = receipts
    if to:
        wanted = to.strip().lower()
        out = [r for r in out if any(rcpt.lower() == wanted for rcpt in r["rcpt_tos"])]
    if subject_contains:
        out = [r for r in out if subject_contains in (r.get("subject") or "")]
    return out


def fold_by_message_id(receipts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per Message-ID (the first receipt's content) with `receipts: n`; a mail without
    a Message-ID cannot be a duplicate of another and stays on its own."""
    folded: dict[str, dict[str, Any]] = {}
    for receipt in receipts:
        key = receipt.get("message_id") or f"seq:{receipt['seq']}"
        entry = folded.get(key)
        if entry is None:
            folded[key] = {**receipt, "receipts": 1, "seqs": [receipt["seq"]],
                           "last_received_at": receipt["received_at"], "rcpt_tos": list(receipt["rcpt_tos"])}
        else:
            entry["receipts"] += 1
            entry["seqs"].append(receipt["seq"])
            entry["last_received_at"] = receipt["received_at"]
            entry["rcpt_tos"] += [r for r in receipt["rcpt_tos"] if r not in entry["rcpt_tos"]]
    return list(folded.values())


# --------------------------------------------------------------------------- fault injection


@dataclass
class FaultSwitch:
    """Test-only: refuse the next `remaining` messages (None: until switched off) with a
    temporary (451) or permanent (550) reply, at RCPT or at DATA. `unknown_user` refuses as
    Postfix does a mailbox it does not know, naming the recipient in the reply — what a sender
    must not copy into its logs."""

    mode: Literal["off", "tempfail", "permfail", "unknown_user"] = "off"
    stage: Literal["rcpt", "data"] = "rcpt"
    remaining: int | None = None
    only_to: str | None = None  # refuse only messages to this address (others pass, uncounted)

    REPLIES = {
        "tempfail": "451 4.3.0 Temporary failure injected by smtpsink",
        "permfail": "550 5.7.1 Permanent failure injected by smtpsink",
        "unknown_user": "550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table",
    }

    def take(self, stage: str, recipients: list[str] | None = None) -> str | None:
        """The refusal for one message at `stage`, counting it; None if it is to be accepted."""
        if self.mode == "off" or stage != self.stage:
            return None
        if self.only_to and self.only_to.lower() not in {r.lower() for r in recipients or ()}:
            return None
        reply = self.REPLIES[self.mode]
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.mode, self.remaining, self.only_to = "off", None, None
        return reply

    def state(self) -> dict[str, Any]:
        return {"mode": self.mode, "stage": self.stage, "remaining": self.remaining, "only_to": self.only_to}


class FaultRequest(BaseModel):
    mode: Literal["tempfail", "permfail", "unknown_user", "off"]
    count: int | None = Field(default=None, ge=1, description="messages to refuse; null: until switched off")
    stage: Literal["rcpt", "data"] = "rcpt"
    to: str | None = Field(default=None, description="refuse only messages to this address")


# --------------------------------------------------------------------------- SMTP


class SinkHandler:
    """aiosmtpd handler: accept everything (unless a fault is injected) and store it."""

    def __init__(self, store: MailStore, faults: FaultSwitch) -> None:
        self.store = store
        self.faults = faults
        self._prefix = os.urandom(4).hex()  # unique across restarts of the sink
        self._connections = 0

    def connection_id(self, session: Session) -> str:
        """The SMTP connection a receipt came over: several mails on one session share it."""
        cid = getattr(session, "unionops_connection_id", None)
        if cid is None:
            self._connections += 1
            cid = session.unionops_connection_id = f"{self._prefix}-{self._connections}"
        return cid

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        # A message counts once against the fault switch, however many recipients it has.
        if not hasattr(envelope, "fault_reply"):
            envelope.fault_reply = self.faults.take("rcpt", [address])
        if envelope.fault_reply:
            return envelope.fault_reply.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self.faults.take("data", envelope.rcpt_tos)
        if refusal:
            return refusal.format(address=", ".join(envelope.rcpt_tos))
        data: bytes = envelope.original_content or b""
        try:
            parsed = parse_message(data)
        except Exception as exc:  # a mail that cannot be parsed is still a receipt worth seeing
            log.exception("cannot parse message from %s", envelope.mail_from)
            parsed = {"message_id": None, "subject": None, "parse_error": repr(exc),
                      "raw": data[:65536].decode("utf-8", errors="replace")}
        record = await self.store.append({
            "received_at": datetime.now(timezone.utc).isoformat(),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "connection_id": self.connection_id(session),
            "size": len(data),
            **parsed,
        })
        log.info("received #%d %s to %s", record["seq"], record.get("message_id"), ", ".join(record["rcpt_tos"]))
        return "250 OK"


def _accept_any_login(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
    # notify may be configured with SMTP credentials; locally any are fine.
    return AuthResult(success=True)


# --------------------------------------------------------------------------- HTTP


def create_app(directory: Path, smtp_host: str, smtp_port: int) -> FastAPI:
    """The HTTP app; its lifespan also starts the SMTP server on the same event loop."""
    store = MailStore(directory)
    faults = FaultSwitch()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store.open()
        handler = SinkHandler(store, faults)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname=HOSTNAME, enable_SMTPUTF8=True, decode_data=False,
                         auth_require_tls=False, authenticator=_accept_any_login),
            host=smtp_host, port=smtp_port,
        )
        app.state.smtp_server = server
        log.info("SMTP listening on %s:%d, keeping mail in %s", smtp_host, smtp_port, store.path)
        try:
            yield
        finally:
            server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 5)
            store.close()

    app = FastAPI(title="UnionOps local SMTP sink", lifespan=lifespan, redoc_url=None)
    install_problems(app)

    @app.get("/messages")
    async def list_messages(
        all_receipts: bool = Query(default=False, alias="all",
                                   description="raw receipts instead of one entry per Message-ID"),
        to: str | None = None,
        subject_contains: str | None = None,
        limit: int = Query(default=100, ge=1, le=100_000),
    ) -> dict[str, Any]:
        receipts = select(store.receipts, to=to, subject_contains=subject_contains)
        messages = receipts if all_receipts else fold_by_message_id(receipts)
        newest_first = list(reversed(messages))[:limit]
        return {"count": len(messages), "messages": newest_first}

    @app.get("/messages/count")
    async def count_messages(to: str | None = None, subject_contains: str | None = None) -> dict[str, int]:
        receipts = select(store.receipts, to=to, subject_contains=subject_contains)
        distinct = {r.get("message_id") or f"seq:{r['seq']}" for r in receipts}  # as fold_by_message_id counts
        return {"messages": len(distinct), "receipts": len(receipts)}

    @app.get("/messages/{seq}")
    async def get_message(seq: int) -> dict[str, Any]:
        for receipt in store.receipts:
            if receipt["seq"] == seq:
                return receipt
        raise Problem(404, f"未找到第 {seq} 封邮件", type_="/problems/message-not-found")

    @app.delete("/messages", status_code=204)
    async def clear_messages() -> Response:
        await store.clear()
        return Response(status_code=204)

    @app.get("/control/fail")
    async def fault_state() -> dict[str, Any]:
        return faults.state()

    @app.post("/control/fail")
    async def set_fault(body: FaultRequest) -> dict[str, Any]:
        faults.mode = body.mode
        faults.stage = body.stage
        faults.remaining = None if body.mode == "off" else body.count
        faults.only_to = None if body.mode == "off" else body.to
        log.warning("fault switch: %s", faults.state())
        return faults.state()

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready")
    async def ready(request: Request) -> dict[str, str]:
        server = getattr(request.app.state, "smtp_server", None)
        if server is None or not server.is_serving():
            raise Problem(503, "SMTP 服务未就绪")
        return {"status": "ok"}

    return app


# --------------------------------------------------------------------------- command line


def _serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.smtpsink", description="Run the local SMTP sink.")
    parser.add_argument("--host", default=os.environ.get("SMTPSINK_HOST", "127.0.0.1"))
    parser.add_argument("--smtp-port", type=int, default=int(os.environ.get("SMTPSINK_SMTP_PORT", DEFAULT_SMTP_PORT)))
    parser.add_argument("--http-port", type=int, default=int(os.environ.get("SMTPSINK_HTTP_PORT", DEFAULT_HTTP_PORT)))
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("SMTPSINK_DIR", ".state/smtpsink")),
                        help="state directory holding messages.jsonl (env SMTPSINK_DIR)")
    parser.add_argument("--log-level", default=os.environ.get("SMTPSINK_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.log_level.lower() != "debug":
        # aiosmtpd logs every command at INFO and a deprecation of its own on every AUTH.
        logging.getLogger("mail.log").setLevel(logging.ERROR)
    app = create_app(args.dir.resolve(), args.host, args.smtp_port)
    uvicorn.run(app, host=args.host, port=args.http_port, log_level=args.log_level.lower(),
                access_log=False, lifespan="on")
    return 0


def _list(argv: list[str]) -> int:
    from devstack.config import StackConfig  # SMTPSINK_HTTP_PORT of the environment or `.env`

    default_url = os.environ.get("SMTPSINK_URL") or StackConfig.from_env().smtpsink_url
    parser = argparse.ArgumentParser(prog="python -m devstack.smtpsink list", description="Show received mail.")
    parser.add_argument("--url", default=default_url, help="sink HTTP base URL (env SMTPSINK_URL)")
    parser.add_argument("--to", help="only mail to this envelope recipient")
    parser.add_argument("--subject-contains")
    parser.add_argument("--all", action="store_true", help="every receipt, not one line per Message-ID")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--body", action="store_true", help="print the text bodies too")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    params: dict[str, Any] = {"limit": args.limit, "all": str(args.all).lower()}
    if args.to:
        params["to"] = args.to
    if args.subject_contains:
        params["subject_contains"] = args.subject_contains
    try:
        response = httpx.get(args.url.rstrip("/") + "/messages", params=params, timeout=10)
    except httpx.TransportError as exc:
        print(f"cannot reach the SMTP sink at {args.url}: {exc}", file=sys.stderr)
        return 2
    if response.is_error:
        print(f"error {response.status_code}: {response.text}", file=sys.stderr)
        return 1
    result = response.json()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"{result['count']} {'receipts' if args.all else 'messages'}, newest first (times in Beijing)")
    for m in result["messages"]:
        when = local_time(datetime.fromisoformat(m["received_at"])).strftime("%Y-%m-%d %H:%M:%S")
        times = f"  x{m['receipts']}" if m.get("receipts", 1) > 1 else ""
        print(f"#{m['seq']:<5} {when}  {', '.join(m['rcpt_tos'])}  {m.get('subject') or '(no subject)'}{times}")
        print(f"       {m.get('message_id') or '(no Message-ID)'}")
        if args.body and m.get("text"):
            print("       " + m["text"].rstrip().replace("\n", "\n       "))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["list"]:
        return _list(argv[1:])
    if argv[:1] == ["serve"]:
        argv = argv[1:]
    return _serve(argv)


if __name__ == "__main__":
    sys.exit(main())
