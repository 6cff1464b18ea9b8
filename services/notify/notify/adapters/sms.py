"""SMS through a provider's HTTP API; the delivery id is the provider's idempotency key."""
from __future__ import annotations

import httpx

from notify.adapters.channels import OutgoingMessage, http_failure, transport_failure
from unionops.telemetry import current_trace_headers


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
            raise transport_failure(exc) from exc
        if response.is_success:
            return
        raise http_failure(response, channel="sms")

    async def close(self) -> None:
        await self._client.aclose()
