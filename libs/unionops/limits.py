"""Request limits enforced before the application sees a request: the body's size per route
(refused with 413 from its Content-Length, or while a chunked body streams in, before it is
read whole), and control characters or broken UTF-8 in the path or query (400)."""
from __future__ import annotations

import json
import unicodedata
from collections import deque
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unionops.problems import PROBLEM_JSON, Problem
from unionops.routes import operation

# A route that takes more than the default (an import sheet) says so in its OpenAPI extra.
BODY_LIMIT_KEY = "x-body-limit"
UPLOAD = "upload"


def _problem(status: int, detail: str, type_: str, path: str) -> tuple[dict, bytes]:
    body = json.dumps(Problem(status, detail, type_=type_).to_dict(path), ensure_ascii=False).encode()
    return {"type": "http.response.start", "status": status,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close")]}, body


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


class RequestLimits:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it must see the body's chunks as they come)."""

    def __init__(self, app: ASGIApp, *, service: FastAPI, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.service = service
        self.limits = {None: max_body_bytes, UPLOAD: max_upload_bytes}

    def limit_for(self, scope: Scope) -> int:
        kind = (operation(self.service, scope["method"], scope["path"]) or {}).get(BODY_LIMIT_KEY)
        return self.limits.get(kind, self.limits[None])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        try:
            query = unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            query = "\ud800"  # refused below like a control character
        if _has_control(path) or _has_control(query):
            await self._refuse(send, 400, "地址或查询参数含有控制字符或非法编码", "/problems/malformed-request", path)
            return
        limit = self.limit_for(scope)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None:
            if not declared.isdigit():
                await self._refuse(send, 400, "Content-Length 不是合法的字节数", "/problems/malformed-request", path)
                return
            if int(declared) > limit:
                await self._refuse(send, 413, f"请求体超过该接口允许的 {limit} 字节", "/problems/body-too-large", path)
                return
        # Read the body here, counting as it streams in, so an endless chunked body stops at the
        # limit; the application then gets the chunks replayed.
        chunks: deque[Message] = deque()
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(send, 413, f"请求体超过该接口允许的 {limit} 字节", "/problems/body-too-large", path)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.popleft() if chunks else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Send, status: int, detail: str, type_: str, path: str) -> None:
        start, body = _problem(status, detail, type_, path)
        await send(start)
        await send({"type": "http.response.body", "body": body})
