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
