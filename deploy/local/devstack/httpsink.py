"""Local HTTP provider sink: the SMS provider's API and the group-chat robots' webhook receiver,
in one process, keeping everything it receives.

notify sends SMS through a provider adapter and posts to DingTalk / WeCom style robots over real
HTTP; locally this sink stands in for both, so tests and developers can see what was sent.

    python -m devstack.httpsink --port 8026 --dir .state/httpsink
    python -m devstack.httpsink list --url http://127.0.0.1:8026

Provider side (what notify calls):
  POST /sms                         {to, text, template_code?}; headers `Authorization: Bearer <key>`
                                    (any non-empty key unless --sms-api-key is given) and
                                    `Idempotency-Key` (the delivery id). 200 {message_id, status};
                                    a repeated key answers the first message_id again (the provider
                                    folds it) and is recorded as another receipt.
  POST /robot/send?access_token=T&timestamp=MS&sign=S        DingTalk-style robot
  POST /cgi-bin/webhook/send?key=T&timestamp=MS&sign=S       WeCom-style robot (same signing)
      Signature: sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")));
      timestamp in milliseconds, accepted within an hour of the sink's clock. The secret of a token
      is registered with POST /control/secrets {token, secret}, else --webhook-secret applies.
      Every call is recorded with `signature_valid`; an invalid one is answered like DingTalk:
      200 {"errcode": 310000, "errmsg": "sign not match"}. Valid: {"errcode": 0, "errmsg": "ok"}.

Inspection: `GET /sms` (?to=, ?all=true raw receipts, else one entry per Idempotency-Key with
`receipts: n`), `GET /webhooks` (?token=, ?all=true), `DELETE /sms`, `DELETE /webhooks`,
`DELETE /records` (both), `POST /control/fail {mode: tempfail|permfail|down|off, count?, target?:
sms|webhook|all}` — tempfail answers 503, permfail 400, down closes the connection without an
answer; `count` requests then off (null: until switched off). Health: `GET /health/live|ready`.

Every receipt is appended to `<dir>/messages.jsonl` and fsync'd before the sink answers 200, and
carries `received_at` (ISO) and `received_ts` (epoch seconds) so rate limits can be checked from
the receiver's own clock."""
from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Literal

import httpx
import uvicorn
from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from devstack.smtpsink import MailStore
from unionops.problems import install as install_problems

log = logging.getLogger("devstack.httpsink")

DEFAULT_PORT = 8026
SIGNATURE_MAX_AGE_MS = 3600 * 1000  # DingTalk refuses timestamps more than an hour off


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The robot signature (before URL encoding): base64(HMAC-SHA256(secret, "ts\\nsecret"))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_signature(secret: str | None, timestamp: str | None, sign: str | None, *, now_ms: int) -> bool:
    if not secret or not timestamp or not sign:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now_ms - ts) > SIGNATURE_MAX_AGE_MS:
        return False
    return hmac.compare_digest(dingtalk_sign(secret, ts), sign)  # FastAPI already URL-decoded it


def fold(receipts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per idempotency key (the first receipt's content) with `receipts: n`."""
    folded: dict[str, dict[str, Any]] = {}
    for r in receipts:
        key = r.get("idempotency_key") or f"seq:{r['seq']}"
        entry = folded.get(key)
        if entry is None:
            folded[key] = {**r, "receipts": 1, "seqs": [r["seq"]], "last_received_at": r["received_at"]}
        else:
            entry["receipts"] += 1
            entry["seqs"].append(r["seq"])
            entry["last_received_at"] = r["received_at"]
    return list(folded.values())


@dataclass
class FaultSwitch:
    mode: Literal["off", "tempfail", "permfail", "down"] = "off"
    target: Literal["sms", "webhook", "all"] = "all"
    remaining: int | None = None

    def take(self, kind: str) -> str | None:
        """The fault for one provider request of `kind`, counting it; None to serve it."""
        if self.mode == "off" or self.target not in ("all", kind):
            return None
        mode = self.mode
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.mode, self.remaining = "off", None
        return mode

    def state(self) -> dict[str, Any]:
        return {"mode": self.mode, "target": self.target, "remaining": self.remaining}


class FaultRequest(BaseModel):
    mode: Literal["tempfail", "permfail", "down", "off"]
    count: int | None = Field(default=None, ge=1, description="requests to fail; null: until switched off")
    target: Literal["sms", "webhook", "all"] = "all"


class SecretRequest(BaseModel):
    token: str = Field(min_length=1)
    secret: str = Field(min_length=1)


class SmsRequest(BaseModel):
    to: str
    text: str
    template_code: str | None = None


async def _drop_connection(send) -> None:
    """Close the TCP connection without an answer, as a crashed or unreachable provider would.
    uvicorn's `send` is a method of the request cycle that owns the transport."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None:
        transport.abort()


def create_app(directory: Path, *, sms_api_key: str | None = None, webhook_secret: str | None = None) -> FastAPI:
    store = MailStore(directory)
    faults = FaultSwitch()
    secrets: dict[str, str] = {}
    # One message id per idempotency key, as a provider keeps it (rebuilt from the file on start).
    sms_ids: dict[str, str] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store.open()
        for r in store.receipts:
            if r.get("kind") == "sms" and r.get("idempotency_key") and r.get("message_id"):
                sms_ids.setdefault(r["idempotency_key"], r["message_id"])
        log.info("HTTP sink keeping receipts in %s", store.path)
        try:
            yield
        finally:
            store.close()

    app = FastAPI(title="UnionOps local HTTP provider sink (SMS + robot webhooks)", lifespan=lifespan,
                  redoc_url=None)
    install_problems(app)

    async def fault_response(kind: str, request: Request) -> Response | None:
        mode = faults.take(kind)
        if mode is None:
            return None
        log.warning("injected %s on %s %s", mode, request.method, request.url.path)
        if mode == "down":
            await _drop_connection(request.scope.get("unionops.send"))
            return Response(status_code=503)  # never reaches the client: the transport is gone
        if mode == "tempfail":
            return JSONResponse({"error": "service unavailable (injected)"}, status_code=503,
                                headers={"Retry-After": "1"})
        return JSONResponse({"error": "bad request (injected)", "code": "INJECTED_PERMANENT"}, status_code=400)

    def now() -> tuple[str, float]:
        t = time.time()
        return datetime.fromtimestamp(t, timezone.utc).isoformat(), t

    # ---- the SMS provider -----------------------------------------------------------------
    @app.post("/sms")
    async def send_sms(body: SmsRequest, request: Request) -> Response:
        fault = await fault_response("sms", request)
        if fault is not None:
            return fault
        auth = request.headers.get("authorization", "")
        key = auth[7:] if auth.lower().startswith("bearer ") else ""
        if not key or (sms_api_key and not hmac.compare_digest(key, sms_api_key)):
            return JSONResponse({"error": "invalid api key", "code": "UNAUTHORIZED"}, status_code=401)
        if not (body.to.isdigit() and len(body.to) == 11 and body.to.startswith("1")):
            return JSONResponse({"error": "invalid mobile number", "code": "INVALID_MOBILE"}, status_code=400)
        idem = request.headers.get("idempotency-key")
        message_id = sms_ids.get(idem) if idem else None
        duplicate = message_id is not None
        message_id = message_id or uuid.uuid4().hex
        received_at, ts = now()
        record = await store.append({
            "kind": "sms", "received_at": received_at, "received_ts": ts, "idempotency_key": idem,
            "message_id": message_id, "duplicate": duplicate, "to": body.to, "text": body.text,
            "template_code": body.template_code, "traceparent": request.headers.get("traceparent"),
        })
        if idem:
            sms_ids.setdefault(idem, message_id)
        log.info("sms #%d key=%s", record["seq"], idem)
        return JSONResponse({"message_id": message_id, "status": "accepted", "duplicate": duplicate})

    # ---- the robots ------------------------------------------------------------------------
    async def robot(request: Request, flavour: str, token: str | None) -> Response:
        fault = await fault_response("webhook", request)
        if fault is not None:
            return fault
        q = request.query_params
        try:
            payload = await request.json()
        except ValueError:
            return JSONResponse({"errcode": 300001, "errmsg": "invalid json"}, status_code=200)
        secret = secrets.get(token or "", webhook_secret)
        valid = verify_signature(secret, q.get("timestamp"), q.get("sign"), now_ms=int(time.time() * 1000))
        received_at, ts = now()
        record = await store.append({
            "kind": "webhook", "flavour": flavour, "received_at": received_at, "received_ts": ts, "token": token,
            "idempotency_key": request.headers.get("idempotency-key"), "signature_valid": valid,
            "timestamp": q.get("timestamp"), "payload": payload, "traceparent": request.headers.get("traceparent"),
        })
        log.info("webhook #%d token=%s valid=%s", record["seq"], token, valid)
        if not valid:
            return JSONResponse({"errcode": 310000, "errmsg": "sign not match"})
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    @app.post("/robot/send")
    async def dingtalk(request: Request, access_token: str | None = None) -> Response:
        return await robot(request, "dingtalk", access_token)

    @app.post("/cgi-bin/webhook/send")
    async def wecom(request: Request, key: str | None = None) -> Response:
        return await robot(request, "wecom", key)

    # ---- inspection and control ------------------------------------------------------------
    def listing(kind: str, all_receipts: bool, limit: int, **match: str | None) -> dict[str, Any]:
        receipts = [r for r in store.receipts if r.get("kind") == kind
                    and all(v is None or r.get(k) == v for k, v in match.items())]
        entries = receipts if all_receipts else fold(receipts)
        return {"count": len(entries), "receipts": len(receipts), kind if kind == "sms" else "webhooks":
                list(reversed(entries))[:limit]}

    @app.get("/sms")
    async def list_sms(to: str | None = None, all_receipts: bool = Query(False, alias="all"),
                       limit: int = Query(1000, ge=1, le=100_000)) -> dict[str, Any]:
        return listing("sms", all_receipts, limit, to=to)

    @app.get("/webhooks")
    async def list_webhooks(token: str | None = None, all_receipts: bool = Query(False, alias="all"),
                            limit: int = Query(1000, ge=1, le=100_000)) -> dict[str, Any]:
        return listing("webhook", all_receipts, limit, token=token)

    async def clear(kinds: set[str]) -> Response:
        keep = [r for r in store.receipts if r.get("kind") not in kinds]
        await store.clear()
        for r in keep:  # rewrite what stays (the other kind), numbering restarts
            fields = {k: v for k, v in r.items() if k != "seq"}
            await store.append(fields)
        if "sms" in kinds:
            sms_ids.clear()
        return Response(status_code=204)

    @app.delete("/sms", status_code=204)
    async def clear_sms() -> Response:
        return await clear({"sms"})

    @app.delete("/webhooks", status_code=204)
    async def clear_webhooks() -> Response:
        return await clear({"webhook"})

    @app.delete("/records", status_code=204)
    async def clear_all() -> Response:
        return await clear({"sms", "webhook"})

    @app.post("/control/secrets", status_code=204)
    async def register_secret(body: SecretRequest) -> Response:
        secrets[body.token] = body.secret
        return Response(status_code=204)

    @app.get("/control/fail")
    async def fault_state() -> dict[str, Any]:
        return faults.state()

    @app.post("/control/fail")
    async def set_fault(body: FaultRequest) -> dict[str, Any]:
        faults.mode, faults.target = body.mode, body.target
        faults.remaining = None if body.mode == "off" else body.count
        log.warning("fault switch: %s", faults.state())
        return faults.state()

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    return _WithSend(app)


class _WithSend:
    """ASGI wrapper that hands the server's `send` to the handlers (for the `down` fault)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            scope["unionops.send"] = send
        await self.app(scope, receive, send)


def _serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.httpsink",
                                     description="Run the local SMS provider + robot webhook sink.")
    parser.add_argument("--host", default=os.environ.get("HTTPSINK_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("HTTPSINK_PORT", DEFAULT_PORT)))
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("HTTPSINK_DIR", ".state/httpsink")))
    parser.add_argument("--sms-api-key", default=os.environ.get("HTTPSINK_SMS_API_KEY") or None,
                        help="the only key accepted (default: any non-empty key)")
    parser.add_argument("--webhook-secret", default=os.environ.get("HTTPSINK_WEBHOOK_SECRET") or None,
                        help="signing secret for tokens without a registered one")
    parser.add_argument("--log-level", default=os.environ.get("HTTPSINK_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(args.dir.resolve(), sms_api_key=args.sms_api_key, webhook_secret=args.webhook_secret)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level.lower(), access_log=False,
                lifespan="on")
    return 0


def _list(argv: list[str]) -> int:
    from devstack.config import StackConfig  # HTTPSINK_PORT of the environment or `.env`

    default_url = os.environ.get("HTTPSINK_URL") or StackConfig.from_env().httpsink_url
    parser = argparse.ArgumentParser(prog="python -m devstack.httpsink list", description="Show SMS and webhooks received.")
    parser.add_argument("--url", default=default_url)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        sms = httpx.get(args.url.rstrip("/") + "/sms", params={"limit": args.limit}, timeout=10).json()
        hooks = httpx.get(args.url.rstrip("/") + "/webhooks", params={"limit": args.limit}, timeout=10).json()
    except httpx.TransportError as exc:
        print(f"cannot reach the HTTP sink at {args.url}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"sms": sms, "webhooks": hooks}, ensure_ascii=False, indent=2))
        return 0
    print(f"{sms['count']} SMS, newest first")
    for m in sms["sms"]:
        times = f"  x{m['receipts']}" if m.get("receipts", 1) > 1 else ""
        print(f"#{m['seq']:<5} {m['received_at'][:19]}  {m['to'][:3]}****{m['to'][-4:]}  {m['text']}{times}")
    print(f"{hooks['count']} webhook posts, newest first")
    for h in hooks["webhooks"]:
        ok = "signed" if h["signature_valid"] else "BAD SIGNATURE"
        print(f"#{h['seq']:<5} {h['received_at'][:19]}  {h['flavour']} {h['token']}  {ok}  "
              f"{json.dumps(h['payload'], ensure_ascii=False)[:120]}")
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
