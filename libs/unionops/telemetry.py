"""Traces (OTLP over HTTP), JSON logs carrying trace ids, and trace-context helpers for Kafka.

Nothing personal leaves a process in a log line or a span: every log record (message, extras,
the formatted exception) and every exported span (attributes, events — a recorded exception's
message and stack trace —, status text) passes `unionops.pii.redact`. The code does not put
personal data there knowingly; this catches what others' messages carry — an SMTP server's
refusal naming the recipient, PostgreSQL's DETAIL echoing a row."""
from __future__ import annotations

import logging
import sys

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Status
from pythonjsonlogger.json import JsonFormatter

from unionops.pii import redact

_configured = False


class _TraceIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else None
        record.span_id = format(ctx.span_id, "016x") if ctx.is_valid else None
        return True


def _redacted(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_redacted(v) for v in value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    return value


class RedactingJsonFormatter(JsonFormatter):
    """JSON log lines with personal data hidden in every field, the exception's text included."""

    def process_log_record(self, log_data):
        return {k: _redacted(v) for k, v in super().process_log_record(log_data).items()}


class RedactingExporter(SpanExporter):
    """Exports copies of the spans with personal data hidden in attributes, events and status."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    @staticmethod
    def _copy(span: ReadableSpan) -> ReadableSpan:
        status = span.status
        if status.description:
            status = Status(status.status_code, redact(status.description))
        return ReadableSpan(
            name=redact(span.name), context=span.context, parent=span.parent, resource=span.resource,
            attributes=_redacted(dict(span.attributes or {})),
            events=[Event(e.name, _redacted(dict(e.attributes or {})), e.timestamp) for e in span.events],
            links=span.links, kind=span.kind, status=status, start_time=span.start_time, end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope)

    def export(self, spans) -> SpanExportResult:
        return self.inner.export([self._copy(s) for s in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def setup_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr, each with service, trace_id and span_id; personal data redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_TraceIdFilter())
    handler.setFormatter(
        RedactingJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "faststream", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class NoBareQueries(Sampler):
    """Root sampler: a database query outside any business action (the relay's and the
    dispatcher's polls and claims, a housekeeping sweep) starts no trace of its own — such
    traces would outnumber the real ones and cost a span each. Everything else that starts a
    trace is kept, and children follow their parent (ParentBased)."""

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None,
                      trace_state=None) -> SamplingResult:
        if attributes and ("db.system" in attributes or "db.system.name" in attributes):
            return SamplingResult(Decision.DROP)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "NoBareQueries"


def setup_tracing(service: str, otlp_endpoint: str | None) -> TracerProvider:
    """Install the tracer provider once per process and instrument asyncpg."""
    global _configured
    provider = trace.get_tracer_provider()
    if _configured and isinstance(provider, TracerProvider):
        return provider
    provider = TracerProvider(resource=Resource.create({"service.name": service}),
                              sampler=ParentBased(root=NoBareQueries()))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            # A short export timeout: at shutdown a receiver that already stopped must not hold us up.
            BatchSpanProcessor(RedactingExporter(OTLPSpanExporter(endpoint=otlp_endpoint.rstrip("/") + "/v1/traces",
                                                                  timeout=3)),
                               schedule_delay_millis=500)
        )
    trace.set_tracer_provider(provider)
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    AsyncPGInstrumentor().instrument()
    _configured = True
    return provider


def tracer(name: str = "unionops") -> trace.Tracer:
    return trace.get_tracer(name)


def current_trace_headers() -> dict[str, str]:
    """The current trace context as W3C headers, for storing with an outbox row."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from_headers(headers: dict[str, str]) -> otel_context.Context:
    return propagate.extract(headers)


def trace_id_hex() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
