"""CloudEvents 1.0 in Kafka binary mode: attributes travel as `ce_*` headers, the event's data
is the JSON value; W3C trace context travels as `traceparent` / `tracestate`."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
TRACE_HEADERS = ("traceparent", "tracestate")


class EnvelopeError(ValueError):
    """A Kafka record that is not a well-formed CloudEvent of ours."""


@dataclass(frozen=True)
class Envelope:
    id: uuid.UUID
    type: str
    source: str
    time: datetime
    data: dict[str, Any]
    subject: str | None = None
    trace: dict[str, str] = field(default_factory=dict)
    topic: str = ""
    key: str = ""
    partition: int = -1
    offset: int = -1

    def kafka_headers(self, extra: dict[str, str] | None = None) -> list[tuple[str, bytes]]:
        headers = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": str(self.id),
            "ce_type": self.type,
            "ce_source": self.source,
            "ce_time": self.time.isoformat(),
            "content-type": CONTENT_TYPE,
        }
        if self.subject:
            headers["ce_subject"] = self.subject
        headers.update(self.trace)
        headers.update(extra or {})
        return [(k, v.encode()) for k, v in headers.items()]

    def value(self) -> bytes:
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":")).encode()


def headers_dict(raw_headers) -> dict[str, str]:
    out = {}
    for k, v in raw_headers or ():
        try:
            out[k] = v.decode() if isinstance(v, (bytes, bytearray)) else str(v)
        except UnicodeDecodeError:
            continue
    return out


def from_record(record) -> Envelope:
    """Parse an aiokafka ConsumerRecord; raises EnvelopeError when it is not a CloudEvent."""
    h = headers_dict(record.headers)
    missing = [a for a in ("ce_id", "ce_type", "ce_source") if a not in h]
    if missing:
        raise EnvelopeError(f"missing CloudEvents headers: {', '.join(missing)}")
    try:
        event_id = uuid.UUID(h["ce_id"])
    except ValueError as exc:
        raise EnvelopeError("ce_id is not a UUID") from exc
    try:
        data = json.loads(record.value) if record.value is not None else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"value is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EnvelopeError("value is not a JSON object")
    try:
        time = datetime.fromisoformat(h["ce_time"]) if "ce_time" in h else datetime.now(timezone.utc)
    except ValueError as exc:
        raise EnvelopeError("ce_time is not an ISO timestamp") from exc
    key = record.key.decode(errors="replace") if isinstance(record.key, (bytes, bytearray)) else (record.key or "")
    return Envelope(
        id=event_id,
        type=h["ce_type"],
        source=h["ce_source"],
        time=time,
        data=data,
        subject=h.get("ce_subject"),
        trace={k: h[k] for k in TRACE_HEADERS if k in h},
        topic=record.topic,
        key=key,
        partition=record.partition,
        offset=record.offset,
    )
