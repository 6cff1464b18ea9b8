"""Local OTLP/HTTP trace receiver that keeps spans in PostgreSQL.

No Jaeger or OpenTelemetry Collector binary can be installed locally, so this small sink takes
their place: services export to it exactly as they would to a collector (`POST /v1/traces`,
protobuf or JSON), every span becomes one row in `spans`, and an operator can look a trace up
by id or by a business key (a span attribute such as `member.id`) after the fact, with
`python -m devstack.traces` or the HTTP API below.

    python -m devstack.tracesink --port 4318 --dsn postgresql://postgres@127.0.0.1:5432/traces

The sink is deliberately not instrumented itself: tracing the trace receiver would feed back.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gzip
import json
import logging
import math
import os
import re
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Iterable

import asyncpg
import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from unionops.problems import Problem, install as install_problems

log = logging.getLogger("devstack.tracesink")

PROTOBUF = "application/x-protobuf"
DEFAULT_PORT = 4318
CONNECT_TIMEOUT_S = 30.0
MAX_BODY_BYTES = 64 * 1024 * 1024  # a decompressed export larger than this is a client bug

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")

# The primary key's leading column already serves look-ups by trace_id, so no separate index.
SCHEMA = """
CREATE TABLE IF NOT EXISTS spans (
    trace_id       text NOT NULL,
    span_id        text NOT NULL,
    parent_span_id text,
    service        text NOT NULL,
    name           text NOT NULL,
    kind           text,
    start_time     timestamptz,
    end_time       timestamptz,
    duration_ms    double precision,
    status_code    text,
    status_message text,
    attributes     jsonb NOT NULL DEFAULT '{}',
    events         jsonb NOT NULL DEFAULT '[]',
    resource       jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS spans_start_time_idx ON spans (start_time);
CREATE INDEX IF NOT EXISTS spans_service_start_time_idx ON spans (service, start_time);
CREATE INDEX IF NOT EXISTS spans_attributes_idx ON spans USING gin (attributes jsonb_path_ops);
"""

# One statement per export request, whatever the number of spans.
INSERT = """
INSERT INTO spans (trace_id, span_id, parent_span_id, service, name, kind, start_time, end_time,
                   duration_ms, status_code, status_message, attributes, events, resource)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::timestamptz[], $8::timestamptz[], $9::float8[], $10::text[], $11::text[],
                     $12::jsonb[], $13::jsonb[], $14::jsonb[])
ON CONFLICT (trace_id, span_id) DO NOTHING
"""

_COLUMNS = ("trace_id", "span_id", "parent_span_id", "service", "name", "kind", "start_time", "end_time",
            "duration_ms", "status_code", "status_message", "attributes", "events", "resource")


# --------------------------------------------------------------------------- OTLP decoding


def _text(value: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL; a span must not be lost over one odd character.
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as a JSON-compatible Python value (bytes as hex, NaN/inf as strings)."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "string_value":
        return _text(value.string_value)
    if which == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return key_values(value.kvlist_value.values)
    if which == "bytes_value":
        return value.bytes_value.hex()
    if which == "double_value" and not math.isfinite(value.double_value):
        return str(value.double_value)  # jsonb rejects NaN and infinities
    return getattr(value, which)


def key_values(items: Iterable[KeyValue]) -> dict[str, Any]:
    return {_text(kv.key): any_value(kv.value) for kv in items}


def _timestamp(nanos: int) -> datetime | None:
    return _EPOCH + timedelta(microseconds=nanos // 1000) if nanos else None


def _enum_name(prefix: str, name: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


def span_rows(request: ExportTraceServiceRequest) -> list[tuple]:
    """Flatten an export request into rows for `spans`, in column order."""
    rows: list[tuple] = []
    for resource_spans in request.resource_spans:
        resource = key_values(resource_spans.resource.attributes)
        service = str(resource.get("service.name") or "unknown_service")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8:
                    continue  # invalid ids cannot be looked up; OTLP says drop them
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                duration = (end - start) / 1e6 if start and end >= start else None
                events = [
                    {"name": _text(e.name), "time": _iso(_timestamp(e.time_unix_nano)),
                     "attributes": key_values(e.attributes)}
                    for e in span.events
                ]
                rows.append((
                    span.trace_id.hex(),
                    span.span_id.hex(),
                    span.parent_span_id.hex() or None,
                    _text(service),
                    _text(span.name),
                    _enum_name("SPAN_KIND_", Span.SpanKind.Name(span.kind)),
                    _timestamp(start),
                    _timestamp(end),
                    duration,
                    _enum_name("STATUS_CODE_", Status.StatusCode.Name(span.status.code)),
                    _text(span.status.message) or None,
                    key_values(span.attributes),
                    events,
                    resource,
                ))
    return rows


def _hex_to_b64(value: Any) -> Any:
    # OTLP/JSON spells ids as hex, protobuf's JSON mapping expects base64 for bytes fields.
    if isinstance(value, str) and value and re.fullmatch(r"[0-9a-fA-F]+", value) and len(value) % 2 == 0:
        return base64.b64encode(bytes.fromhex(value)).decode()
    return value


def _fix_json_ids(payload: dict) -> dict:
    id_keys = ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id")
    for rs in payload.get("resourceSpans", payload.get("resource_spans", [])) or []:
        for ss in rs.get("scopeSpans", rs.get("scope_spans", [])) or []:
            for span in ss.get("spans", []) or []:
                for key in id_keys:
                    if key in span:
                        span[key] = _hex_to_b64(span[key])
                for link in span.get("links", []) or []:
                    for key in id_keys:
                        if key in link:
                            link[key] = _hex_to_b64(link[key])
    return payload


def decode_export(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    """Parse an OTLP/HTTP trace export body (protobuf or OTLP/JSON)."""
    request = ExportTraceServiceRequest()
    if content_type == PROTOBUF:
        request.ParseFromString(body)
    else:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("OTLP/JSON body must be an object")
        json_format.ParseDict(_fix_json_ids(payload), request, ignore_unknown_fields=True)
    return request


def _decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        data = gzip.decompress(body)
    elif encoding == "deflate":
        data = zlib.decompress(body)
    else:
        raise Problem(415, f"不支持的 Content-Encoding：{encoding}")
    if len(data) > MAX_BODY_BYTES:
        raise Problem(413, "导出请求过大", title="请求体过大")
    return data


# --------------------------------------------------------------------------- storage and queries


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb goes in as JSON text: asyncpg would take a Python list inside a jsonb[] parameter
    # for an array dimension. It comes out decoded.
    await conn.set_type_codec("jsonb", encoder=str, decoder=json.loads, schema="pg_catalog")


async def connect(dsn: str, timeout_s: float = CONNECT_TIMEOUT_S) -> asyncpg.Pool:
    """Open the pool, waiting for PostgreSQL to come up (it is started alongside the sink)."""
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    while True:
        try:
            return await asyncpg.create_pool(dsn, min_size=1, max_size=5, init=_init_connection, timeout=5)
        except (OSError, asyncio.TimeoutError, asyncpg.CannotConnectNowError,
                asyncpg.InvalidCatalogNameError, asyncpg.TooManyConnectionsError) as exc:
            if time.monotonic() + delay > deadline:
                raise RuntimeError(f"PostgreSQL not reachable within {timeout_s:.0f} s: {exc}") from exc
            log.info("waiting for PostgreSQL: %s", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


async def ensure_schema(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        # Serialise concurrent starts: CREATE ... IF NOT EXISTS still races on the catalog.
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('devstack.tracesink.schema'))")
            await conn.execute(SCHEMA)


async def store(pool: asyncpg.Pool, rows: list[tuple]) -> None:
    if not rows:
        return
    columns = list(zip(*rows))
    for json_column in (11, 12, 13):
        columns[json_column] = [_json_dumps(v) for v in columns[json_column]]
    await pool.execute(INSERT, *columns)


def _span_json(row: asyncpg.Record) -> dict[str, Any]:
    span = dict(row)
    span["start_time"] = _iso(span["start_time"])
    span["end_time"] = _iso(span["end_time"])
    return span


async def load_trace(pool: asyncpg.Pool, trace_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        f"SELECT {', '.join(_COLUMNS)} FROM spans WHERE trace_id = $1 ORDER BY start_time NULLS FIRST, span_id",
        trace_id,
    )


def attribute_candidates(value: str) -> list[dict]:
    """The JSON values an attribute given as text on the command line may have been stored as.

    `attr=member.id=42` must find both the string "42" and the integer 42: the sink keeps OTLP's
    types, the operator types text."""
    candidates: list[Any] = [value]
    with contextlib.suppress(ValueError):
        candidates.append(int(value))
    with contextlib.suppress(ValueError):
        number = float(value)
        if math.isfinite(number) and number not in candidates:
            candidates.append(number)
    if value in ("true", "false"):
        candidates.append(value == "true")
    return candidates


@dataclass(frozen=True)
class TraceFilter:
    """All given conditions must hold for one and the same span (as in Jaeger's search)."""

    service: str | None = None
    name: str | None = None
    attrs: tuple[tuple[str, str], ...] = ()
    limit: int = 50


async def find_traces(pool: asyncpg.Pool, flt: TraceFilter) -> list[dict[str, Any]]:
    conditions: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if flt.service:
        conditions.append(f"service = {arg(flt.service)}")
    if flt.name:
        conditions.append(f"name = {arg(flt.name)}")
    for key, value in flt.attrs:
        # `@>` on each candidate lets the GIN index answer the look-up.
        conditions.append(f"attributes @> ANY({arg([_json_dumps({key: c}) for c in attribute_candidates(value)])}::jsonb[])")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    sql = f"""
        WITH hits AS (
            SELECT trace_id, max(start_time) AS last_seen
            FROM spans {where}
            GROUP BY trace_id
            ORDER BY last_seen DESC NULLS LAST
            LIMIT {arg(flt.limit)}
        )
        SELECT s.trace_id,
               min(s.start_time) AS start_time,
               extract(epoch FROM max(s.end_time) - min(s.start_time)) * 1000 AS duration_ms,
               count(*) AS span_count,
               array_agg(DISTINCT s.service ORDER BY s.service) AS services,
               (array_agg(s.name ORDER BY s.parent_span_id IS NULL DESC, s.start_time NULLS LAST))[1] AS root_name,
               (array_agg(s.service ORDER BY s.parent_span_id IS NULL DESC, s.start_time NULLS LAST))[1]
                   AS root_service,
               bool_or(s.status_code = 'ERROR') AS has_error
        FROM hits h JOIN spans s USING (trace_id)
        GROUP BY s.trace_id, h.last_seen
        ORDER BY h.last_seen DESC NULLS LAST
    """
    rows = await pool.fetch(sql, *args)
    return [
        {
            "trace_id": r["trace_id"],
            "root_name": r["root_name"],
            "root_service": r["root_service"],
            "services": list(r["services"]),
            "start_time": _iso(r["start_time"]),
            "duration_ms": float(r["duration_ms"]) if r["duration_ms"] is not None else None,
            "span_count": r["span_count"],
            "has_error": bool(r["has_error"]),
        }
        for r in rows
    ]


def render_tree(trace_id: str, spans: list[dict[str, Any]]) -> str:
    """An indented text tree of one trace: `service: span name  duration  (+offset)`."""
    by_id = {s["span_id"]: s for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in spans:  # already ordered by start time
        parent = span["parent_span_id"] if span["parent_span_id"] in by_id else None
        children.setdefault(parent, []).append(span)
    starts = [s["start_time"] for s in spans if s["start_time"]]
    trace_start = datetime.fromisoformat(min(starts)) if starts else None
    services = sorted({s["service"] for s in spans})
    total = _trace_duration(spans)
    lines = [f"trace {trace_id}  {len(spans)} spans  {len(services)} services ({', '.join(services)})"
             + (f"  {total:.2f} ms" if total is not None else "")]

    def walk(span: dict[str, Any], depth: int, seen: set[str]) -> None:
        if span["span_id"] in seen:  # a malformed trace may loop; print each span once
            return
        seen.add(span["span_id"])
        duration = f"{span['duration_ms']:.2f} ms" if span["duration_ms"] is not None else "? ms"
        offset = ""
        if trace_start and span["start_time"]:
            offset = f"  +{(datetime.fromisoformat(span['start_time']) - trace_start).total_seconds() * 1000:.2f} ms"
        notes = []
        if span["kind"] and span["kind"] not in ("INTERNAL", "UNSPECIFIED"):
            notes.append(span["kind"].lower())
        if span["status_code"] == "ERROR":
            notes.append("ERROR" + (f": {span['status_message']}" if span["status_message"] else ""))
        if span["parent_span_id"] and span["parent_span_id"] not in by_id:
            notes.append(f"parent {span['parent_span_id']} not received")
        suffix = f"  [{'; '.join(notes)}]" if notes else ""
        lines.append(f"{'  ' * depth}{span['service']}: {span['name']}  {duration}{offset}{suffix}")
        for child in children.get(span["span_id"], []):
            walk(child, depth + 1, seen)

    seen: set[str] = set()
    for root in children.get(None, []):
        walk(root, 1, seen)
    for span in spans:  # spans caught in a parent cycle
        walk(span, 1, seen)
    return "\n".join(lines) + "\n"


def _trace_duration(spans: list[dict[str, Any]]) -> float | None:
    starts = [s["start_time"] for s in spans if s["start_time"]]
    ends = [s["end_time"] for s in spans if s["end_time"]]
    if not starts or not ends:
        return None
    return (datetime.fromisoformat(max(ends)) - datetime.fromisoformat(min(starts))).total_seconds() * 1000


# --------------------------------------------------------------------------- HTTP app


def _normalise_trace_id(trace_id: str) -> str:
    trace_id = trace_id.strip().lower()
    if not _TRACE_ID.fullmatch(trace_id):
        raise Problem(400, "链路 ID 应为 32 位十六进制", type_="/problems/invalid-trace-id",
                      errors=[{"field": "path.trace_id", "message": "expected 32 hex digits"}])
    return trace_id


def _parse_attrs(values: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise Problem(422, "属性条件应写作 key=value", type_="/problems/validation",
                          errors=[{"field": "query.attr", "message": f"expected key=value, got {item!r}"}])
        pairs.append((key, value))
    return tuple(pairs)


def create_app(dsn: str, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> FastAPI:
    """The sink's ASGI app; the pool is opened (with retries) and the schema ensured at startup."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await connect(dsn, connect_timeout_s)
        try:
            await ensure_schema(pool)
            app.state.pool = pool
            log.info("trace sink ready")
            yield
        finally:
            await pool.close()

    app = FastAPI(title="UnionOps local trace sink", lifespan=lifespan, docs_url="/docs", redoc_url=None)
    install_problems(app)

    def pool_of(request: Request) -> asyncpg.Pool:
        return request.app.state.pool

    @app.post("/v1/traces")
    async def export(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in (PROTOBUF, "application/json"):
            raise Problem(415, "仅接受 application/x-protobuf 或 application/json")
        body = _decompress(await request.body(), request.headers.get("content-encoding", ""))
        try:
            export_request = decode_export(body, content_type)
        except (DecodeError, ValueError, json_format.ParseError) as exc:
            raise Problem(400, f"无法解析 OTLP 导出请求：{exc}", type_="/problems/malformed-otlp") from exc
        rows = span_rows(export_request)
        try:
            await store(pool_of(request), rows)
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError, asyncpg.InterfaceError) as exc:
            # 503 is retryable for OTLP exporters: spans are kept on their side and resent.
            raise Problem(503, f"数据库暂不可用：{exc}", headers={"Retry-After": "2"}) from exc
        if content_type == PROTOBUF:
            return Response(ExportTraceServiceResponse().SerializeToString(), media_type=PROTOBUF)
        return JSONResponse({})

    @app.get("/api/traces")
    async def list_traces(
        request: Request,
        service: str | None = None,
        name: str | None = None,
        attr: list[str] = Query(default=[], description="key=value, exact match on one span's attribute"),
        limit: int = Query(default=50, ge=1, le=1000),
    ) -> dict[str, Any]:
        flt = TraceFilter(service=service or None, name=name or None, attrs=_parse_attrs(attr), limit=limit)
        traces = await find_traces(pool_of(request), flt)
        return {"traces": traces, "count": len(traces)}

    async def one_trace(request: Request, trace_id: str) -> tuple[str, list[dict[str, Any]]]:
        trace_id = _normalise_trace_id(trace_id)
        spans = [_span_json(r) for r in await load_trace(pool_of(request), trace_id)]
        if not spans:
            raise Problem(404, f"未找到链路 {trace_id}", type_="/problems/trace-not-found")
        return trace_id, spans

    @app.get("/api/traces/{trace_id}", response_model=None)
    async def get_trace(request: Request, trace_id: str,
                        output: str = Query(default="json", alias="format", pattern="^(json|text)$")):
        trace_id, spans = await one_trace(request, trace_id)
        if output == "text":
            return PlainTextResponse(render_tree(trace_id, spans))
        return {"trace_id": trace_id, "spans": spans, "services": sorted({s["service"] for s in spans}),
                "duration_ms": _trace_duration(spans)}

    @app.get("/api/traces/{trace_id}/tree", response_class=PlainTextResponse)
    async def get_tree(request: Request, trace_id: str) -> str:
        trace_id, spans = await one_trace(request, trace_id)
        return render_tree(trace_id, spans)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready")
    async def ready(request: Request) -> dict[str, str]:
        try:
            await pool_of(request).fetchval("SELECT 1", timeout=2)
        except Exception as exc:  # any failure means not ready; the reason goes to the caller
            raise Problem(503, f"数据库不可用：{exc}") from exc
        return {"status": "ok"}

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.tracesink", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("TRACESINK_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("TRACESINK_PORT", DEFAULT_PORT)))
    parser.add_argument("--dsn", default=os.environ.get("TRACESINK_DATABASE_URL"),
                        help="PostgreSQL DSN (env TRACESINK_DATABASE_URL); the database must exist")
    parser.add_argument("--connect-timeout", type=float, default=CONNECT_TIMEOUT_S,
                        help="seconds to wait for PostgreSQL at startup")
    parser.add_argument("--log-level", default=os.environ.get("TRACESINK_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    if not args.dsn:
        parser.error("--dsn or TRACESINK_DATABASE_URL is required")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(create_app(args.dsn, args.connect_timeout), host=args.host, port=args.port,
                log_level=args.log_level.lower(), access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
