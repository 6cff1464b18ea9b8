"""Group-chat robots (DingTalk / WeCom style): signed JSON posts of Markdown notices; the
delivery id is the idempotency key."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import httpx

from notify.adapters.channels import OutgoingMessage, SendFailure, http_failure, transport_failure
from notify.domain import notices as domain
from unionops.telemetry import current_trace_headers


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
            raise transport_failure(exc) from exc
        if not response.is_success:
            raise http_failure(response, channel="webhook")
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
