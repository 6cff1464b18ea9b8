"""The root sampler: bare database queries start no trace; business actions do, and their
queries stay in their trace."""
from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.trace import SpanKind

from unionops.telemetry import NoBareQueries


def _provider():
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(root=NoBareQueries()))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


def test_a_query_outside_any_action_is_not_traced():
    tracer, exporter = _provider()
    for key in ("db.system", "db.system.name"):
        with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT, attributes={key: "postgresql"}) as span:
            assert not span.is_recording()
    assert exporter.get_finished_spans() == ()


def test_an_action_and_its_queries_are_one_trace():
    tracer, exporter = _provider()
    with tracer.start_as_current_span("POST /members") as action:
        with tracer.start_as_current_span("INSERT", kind=SpanKind.CLIENT, attributes={"db.system": "postgresql"}):
            pass
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["INSERT", "POST /members"]
    assert {s.context.trace_id for s in spans} == {action.get_span_context().trace_id}


# ---- nothing personal in a log line or an exported span -------------------------------------------

def _unique_violation():
    """What asyncpg raises on a duplicate: its text carries PostgreSQL's DETAIL, the key's values."""
    import asyncpg.exceptions

    return asyncpg.exceptions.UniqueViolationError.new({
        "S": "ERROR", "C": "23505", "M": 'duplicate key value violates unique constraint "contacts_email"',
        "D": "Key (email, phone)=(li.ming@example.cn, 13912345678) already exists."})


def test_log_lines_carry_no_address_phone_or_id_number_not_even_in_a_logged_exception():
    import io
    import json
    import logging

    from unionops.telemetry import RedactingJsonFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(RedactingJsonFormatter("%(levelname)s %(name)s %(message)s"))
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    try:
        try:
            raise _unique_violation()
        except Exception:
            log.exception("storing the contact of 51010419900307123X failed",
                          extra={"error": "550 5.1.1 <wang@example.org>: User unknown", "to": ["13800001111"]})
    finally:
        log.removeHandler(handler)
    line = out.getvalue()
    for clear in ("li.ming@example.cn", "13912345678", "51010419900307123X", "wang@example.org", "13800001111"):
        assert clear not in line
    record = json.loads(line)
    assert "UniqueViolationError" in record["exc_info"] and "DETAIL: ***" in record["exc_info"]


def test_exported_spans_carry_no_address_phone_or_id_number_in_attributes_events_or_status():
    from opentelemetry.trace import Status, StatusCode

    from unionops.telemetry import RedactingExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingExporter(exporter)))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("send", attributes={"messaging.destination": "wang@example.org"}) as span:
        exc = _unique_violation()
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, str(exc)))
    [exported] = exporter.get_finished_spans()
    text = repr((exported.name, dict(exported.attributes), [(e.name, dict(e.attributes)) for e in exported.events],
                 exported.status.description))
    for clear in ("li.ming@example.cn", "13912345678", "wang@example.org"):
        assert clear not in text
    assert exported.status.status_code is StatusCode.ERROR and exported.events[0].name == "exception"
