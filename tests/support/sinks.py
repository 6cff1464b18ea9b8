"""What the development sinks received (the SMTP sink's mail)."""
from __future__ import annotations

import httpx


def messages_to(sink: httpx.Client, address: str, *, raw: bool = False) -> list[dict]:
    params = {"to": address}
    if raw:
        params["all"] = "true"
    body = sink.get("/messages", params=params).json()
    return body["messages"] if isinstance(body, dict) else body
