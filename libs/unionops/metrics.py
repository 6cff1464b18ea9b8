"""Service metrics through the OpenTelemetry SDK, exposed for Prometheus at `/metrics`:
HTTP latency (from the FastAPI instrumentation), consumer handler latency, events applied,
skipped as duplicates and dead-lettered, consumer lag, outbox backlog and events published."""
from __future__ import annotations

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

_meter = metrics.get_meter("unionops")

outbox_published = _meter.create_counter(
    "unionops.outbox.published", unit="{event}", description="Events acknowledged by the broker")
consumer_events = _meter.create_counter(
    "unionops.consumer.events", unit="{event}",
    description="Events consumed, by outcome: applied, duplicate, dead_lettered, ignored")
consumer_batch_duration = _meter.create_histogram(
    "unionops.consumer.batch.duration", unit="s", description="Time to apply one consumed batch")

# Gauges are observed from the last value the relay or consumer saw (callbacks cannot await).
_backlog: dict[str, int] = {}
_lag: dict[tuple[str, str, int], int] = {}


def set_outbox_backlog(service: str, rows: int) -> None:
    _backlog[service] = rows


def set_consumer_lag(group: str, topic: str, partition: int, lag: int) -> None:
    _lag[(group, topic, partition)] = max(lag, 0)


def _observe_backlog(options: CallbackOptions):
    return [Observation(v, {"service": k}) for k, v in _backlog.items()]


def _observe_lag(options: CallbackOptions):
    return [Observation(v, {"consumer": g, "topic": t, "partition": p}) for (g, t, p), v in _lag.items()]


_meter.create_observable_gauge("unionops.outbox.backlog", [_observe_backlog], unit="{event}",
                               description="Outbox rows not yet acknowledged by the broker")
_meter.create_observable_gauge("unionops.consumer.lag", [_observe_lag], unit="{event}",
                               description="Records behind the partition's high watermark")

_provider_set = False


def setup_metrics(service: str) -> None:
    """Install a meter provider whose reader serves Prometheus' text format (once per process)."""
    global _provider_set
    if _provider_set:
        return
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource

    metrics.set_meter_provider(MeterProvider(resource=Resource.create({"service.name": service}),
                                             metric_readers=[PrometheusMetricReader()]))
    _provider_set = True


def prometheus_text() -> tuple[bytes, str]:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
