"""The local trace sink, fed by the real OpenTelemetry SDK and exporter, backed by a real PostgreSQL."""
from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from devstack.config import free_port

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "libs"), str(REPO / "deploy/local")])}

def _wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready within {timeout} s")

def _create_database(server_dsn: str, name: str) -> None:
    from unionops.db import ensure_database

    asyncio.run(ensure_database(f"{server_dsn}/postgres", name))

class TraceSink:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "devstack.tracesink", "--port", str(self.port), "--log-level", "warning"],
            env={**ENV, "TRACESINK_DATABASE_URL": dsn}, cwd=REPO,
        )

    def wait_ready(self, timeout: float = 30) -> "TraceSink":
        def ready() -> bool:
            assert self.proc.poll() is None, "tracesink exited"
            with contextlib.suppress(httpx.TransportError):
                return httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200
            return False

        _wait_until(ready, timeout, "tracesink")
        return self

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

@pytest.fixture(scope="module")
def postgres(infra, stack_config) -> Iterator[str]:
    """The session's real PostgreSQL (tests/conftest.py); yields the server DSN without a database."""
    yield f"postgresql://postgres@127.0.0.1:{stack_config.pg_port}"

@pytest.fixture(scope="module")
def sink(postgres) -> Iterator[TraceSink]:
    _create_database(postgres, "tracesink_test")
    sink = TraceSink(f"{postgres}/tracesink_test").wait_ready()
    yield sink
    sink.stop()

def _tracer_provider(sink: TraceSink, service: str, compression: Compression) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(endpoint=f"{sink.url}/v1/traces", compression=compression, timeout=10)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider

@pytest.fixture(scope="module")
def member_joined(sink) -> dict:
    """One business action crossing two services, exported as the services would export it:
    membership (protobuf) publishes, welfare (gzip'd protobuf) consumes with the propagated context."""
    membership_provider = _tracer_provider(sink, "membership", Compression.NoCompression)
    welfare_provider = _tracer_provider(sink, "welfare", Compression.Gzip)
    membership = membership_provider.get_tracer("test")
    welfare = welfare_provider.get_tracer("test")
    propagator = TraceContextTextMapPropagator()
    member_id = str(uuid.uuid4())
    headers: dict[str, str] = {}

    with membership.start_as_current_span("POST /members", kind=SpanKind.SERVER,
                                          attributes={"member.id": member_id}) as request:
        with membership.start_as_current_span("membership.member.v1 publish", kind=SpanKind.PRODUCER) as publish:
            propagator.inject(headers)
    with welfare.start_as_current_span("membership.member.v1 process", context=propagator.extract(headers),
                                       kind=SpanKind.CONSUMER,
                                       attributes={"member.id": member_id, "messaging.retry": 0}) as consume:
        with welfare.start_as_current_span("INSERT welfare.members") as insert:
            insert.set_status(Status(StatusCode.ERROR, "唯一约束冲突"))
    membership_provider.shutdown()
    welfare_provider.shutdown()

    def hex_ids(span) -> tuple[str, str]:
        ctx = span.get_span_context()
        return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")

    trace_id, request_id = hex_ids(request)
    return {"trace_id": trace_id, "member_id": member_id, "request": request_id,
            "publish": hex_ids(publish)[1], "consume": hex_ids(consume)[1], "insert": hex_ids(insert)[1]}

def test_trace_holds_both_services_spans_with_their_parent_links(sink, member_joined):
    response = httpx.get(f"{sink.url}/api/traces/{member_joined['trace_id'].upper()}")
    assert response.status_code == 200
    trace = response.json()
    assert trace["trace_id"] == member_joined["trace_id"]
    assert trace["services"] == ["membership", "welfare"]
    spans = {s["span_id"]: s for s in trace["spans"]}
    assert set(spans) == {member_joined[k] for k in ("request", "publish", "consume", "insert")}
    assert spans[member_joined["request"]]["parent_span_id"] is None
    assert spans[member_joined["publish"]]["parent_span_id"] == member_joined["request"]
    assert spans[member_joined["consume"]]["parent_span_id"] == member_joined["publish"]
    assert spans[member_joined["insert"]]["parent_span_id"] == member_joined["consume"]
    assert spans[member_joined["consume"]]["service"] == "welfare"
    assert spans[member_joined["consume"]]["kind"] == "CONSUMER"
    assert spans[member_joined["insert"]]["status_code"] == "ERROR"
    assert spans[member_joined["insert"]]["status_message"] == "唯一约束冲突"
    assert spans[member_joined["request"]]["attributes"] == {"member.id": member_joined["member_id"]}
    assert spans[member_joined["request"]]["resource"]["service.name"] == "membership"
    starts = [s["start_time"] for s in trace["spans"]]
    assert starts == sorted(starts)
    assert all(s["duration_ms"] >= 0 for s in trace["spans"])

def test_trace_is_found_by_a_business_key(sink, member_joined):
    def find(**params) -> list[dict]:
        response = httpx.get(f"{sink.url}/api/traces", params=params)
        assert response.status_code == 200, response.text
        return response.json()["traces"]

    found = find(attr=f"member.id={member_joined['member_id']}")
    assert [t["trace_id"] for t in found] == [member_joined["trace_id"]]
    assert found[0]["root_name"] == "POST /members"
    assert found[0]["services"] == ["membership", "welfare"]
    assert found[0]["span_count"] == 4
    assert found[0]["has_error"] is True

    assert len(find(attr=f"member.id={member_joined['member_id']}", service="welfare")) == 1
    assert find(attr=f"member.id={member_joined['member_id']}", service="competitions") == []
    assert find(attr=f"member.id={uuid.uuid4()}") == []
    # typed attributes are matched from their text form
    assert member_joined["trace_id"] in [t["trace_id"] for t in find(attr="messaging.retry=0")]
    assert member_joined["trace_id"] in [t["trace_id"] for t in find(name="POST /members", limit=5)]
    assert httpx.get(f"{sink.url}/api/traces", params={"attr": "no-equals-sign"}).status_code == 422

def test_tree_shows_who_called_whom(sink, member_joined):
    tree = httpx.get(f"{sink.url}/api/traces/{member_joined['trace_id']}/tree").text
    lines = tree.splitlines()
    assert lines[0].startswith(f"trace {member_joined['trace_id']}  4 spans  2 services")
    assert lines[1].startswith("  membership: POST /members  ")
    assert lines[2].startswith("    membership: membership.member.v1 publish  ")
    assert lines[3].startswith("      welfare: membership.member.v1 process  ")
    assert lines[4].startswith("        welfare: INSERT welfare.members  ") and "ERROR: 唯一约束冲突" in lines[4]
    as_text = httpx.get(f"{sink.url}/api/traces/{member_joined['trace_id']}", params={"format": "text"}).text
    assert as_text == tree

def test_unknown_trace_is_a_404_problem(sink):
    response = httpx.get(f"{sink.url}/api/traces/{'0' * 31}1")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(f"{sink.url}/api/traces/not-a-trace-id").status_code == 400

def test_otlp_json_is_accepted_and_re_exports_are_idempotent(sink):
    trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    body = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "notify"}}]},
        "scopeSpans": [{"scope": {"name": "manual"}, "spans": [{
            "traceId": trace_id, "spanId": span_id, "name": "send mail", "kind": 3,
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000250000000",
            "attributes": [{"key": "delivery.attempt", "value": {"intValue": "2"}},
                           {"key": "ratio", "value": {"doubleValue": "NaN"}}],
            "events": [{"timeUnixNano": "1700000000100000000", "name": "retry"}],
            "status": {"code": 1},
        }]}],
    }]}
    for _ in range(2):
        response = httpx.post(f"{sink.url}/v1/traces", json=body)
        assert response.status_code == 200 and response.json() == {}
    span, = httpx.get(f"{sink.url}/api/traces/{trace_id}").json()["spans"]
    assert (span["span_id"], span["service"], span["kind"], span["status_code"]) == (span_id, "notify", "CLIENT", "OK")
    assert span["duration_ms"] == 250.0
    assert span["attributes"] == {"delivery.attempt": 2, "ratio": "nan"}
    assert span["events"][0]["name"] == "retry"

def test_malformed_exports_are_rejected(sink):
    bad = httpx.post(f"{sink.url}/v1/traces", content=b"\xff\xff\xff", headers={"content-type": "application/x-protobuf"})
    assert bad.status_code == 400
    assert httpx.post(f"{sink.url}/v1/traces", content=b"x", headers={"content-type": "text/plain"}).status_code == 415

def test_traces_command_shows_and_finds(sink, member_joined):
    def cli(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "devstack.traces", "--url", sink.url, *args], env=ENV,
                              capture_output=True, text=True, check=True, timeout=30).stdout

    assert "welfare: membership.member.v1 process" in cli("show", member_joined["trace_id"])
    found = cli("find", "--attr", f"member.id={member_joined['member_id']}", "--service", "membership")
    assert member_joined["trace_id"] in found and "membership: POST /members" in found
    assert member_joined["trace_id"] in cli("recent", "--limit", "50")

def test_sink_waits_for_its_database_to_appear(postgres):
    late = TraceSink(f"{postgres}/late_traces_{uuid.uuid4().hex[:6]}")
    try:
        time.sleep(1.5)
        assert late.proc.poll() is None
        _create_database(postgres, late.dsn.rsplit("/", 1)[1])
        late.wait_ready(30)
    finally:
        late.stop()
