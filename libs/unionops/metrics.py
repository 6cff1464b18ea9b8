"""Service metrics through the OpenTelemetry SDK, exposed for Prometheus at `/metrics`.

Every metric a service exposes is declared here, once, with its description (`CATALOGUE`):
counters and histograms are recorded where things happen; gauges are computed at scrape time
(`unionops.scrape`: one cheap query each, run by the `/metrics` route before the text is made —
OpenTelemetry's gauge callbacks cannot await) and observed from the values those queries left.
The Prometheus names are the OpenTelemetry names with dots as underscores, the unit `s` as
`_seconds`, and `_total` after counters (see `prometheus_names`). No personal data in any label.
"""
from __future__ import annotations

from dataclasses import dataclass

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

_meter = metrics.get_meter("unionops")

# Seconds, from a 5 ms SMTP conversation to a 30 s provider timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Metric:
    name: str  # the OpenTelemetry name
    kind: str  # counter | histogram | gauge
    unit: str
    description: str

    @property
    def prometheus(self) -> str:
        base = self.name.replace(".", "_")
        if self.unit == "s":
            base += "_seconds"
        return base + "_total" if self.kind == "counter" else base


CATALOGUE: dict[str, Metric] = {}


def _declare(name: str, kind: str, unit: str, description: str) -> Metric:
    metric = Metric(name, kind, unit, description)
    CATALOGUE[name] = metric
    return metric


def _counter(name: str, unit: str, description: str):
    _declare(name, "counter", unit, description)
    return _meter.create_counter(name, unit=unit, description=description)


def _histogram(name: str, unit: str, description: str):
    _declare(name, "histogram", unit, description)
    return _meter.create_histogram(name, unit=unit, description=description,
                                   explicit_bucket_boundaries_advisory=list(LATENCY_BUCKETS))


class ScrapeGauge:
    """A gauge whose values a scrape-time query sets; `replace` drops label sets no longer seen
    (a partition that moved away, a channel with nothing pending any more)."""

    def __init__(self, name: str, unit: str, description: str, labels: tuple[str, ...]) -> None:
        self.labels = labels
        self._values: dict[tuple, float] = {}
        _declare(name, "gauge", unit, description)
        _meter.create_observable_gauge(name, [self._observe], unit=unit, description=description)

    def set(self, value: float, *label_values) -> None:
        self._values[tuple(label_values)] = value

    def replace(self, values: dict[tuple, float]) -> None:
        self._values = dict(values)

    def value(self, *label_values) -> float | None:
        return self._values.get(tuple(label_values))

    def _observe(self, options: CallbackOptions):
        return [Observation(v, dict(zip(self.labels, k))) for k, v in self._values.items()]


# ---- every service: outbox, consumers --------------------------------------------------------
outbox_published = _counter("unionops.outbox.published", "{event}", "Events acknowledged by the broker")
outbox_backlog = ScrapeGauge("unionops.outbox.backlog", "{event}",
                             "Outbox rows not yet acknowledged by the broker", ("service",))
outbox_oldest_age = ScrapeGauge("unionops.outbox.oldest.age", "s",
                                "Age of the oldest outbox row not yet acknowledged (0 when none)", ("service",))
consumer_events = _counter("unionops.consumer.events", "{event}",
                           "Events consumed, by outcome: applied, duplicate, dead_lettered, ignored")
consumer_batch_duration = _histogram("unionops.consumer.batch.duration", "s", "Time to apply one consumed batch")
consumer_lag = ScrapeGauge("unionops.consumer.lag", "{event}",
                           "Records behind the partition end, from the group's committed offset (at scrape time)",
                           ("consumer", "topic", "partition"))
consumer_dead_letters = ScrapeGauge("unionops.consumer.dead_letters", "{event}",
                                    "Events this consumer dead-lettered (inbox rows marked dead_lettered)",
                                    ("consumer",))

CONSUMER_OUTCOMES = ("applied", "duplicate", "dead_lettered", "ignored")

# ---- notify: deliveries --------------------------------------------------------------------
notify_deliveries = _counter("unionops.notify.deliveries", "{delivery}",
                             "Deliveries settled, by channel and outcome (delivered, failed) and failure reason")
notify_send_duration = _histogram("unionops.notify.send.duration", "s",
                                  "Time one send took with the provider (SMTP, SMS API, robot webhook), by channel")
notify_retries = _counter("unionops.notify.retries", "{delivery}",
                          "Temporary send failures put back to pending with backoff, by channel")
notify_rate_limit_waits = _counter("unionops.notify.rate_limit.waits", "{delivery}",
                                   "Sends held by a provider rate limit, by channel; handling slept (≤ 1 s) or postponed")
notify_postponed = _counter("unionops.notify.postponed", "{delivery}",
                            "Deliveries handed back unsent (attempt not counted), by channel and why: quiet_hours, rate_limit")
notify_pending = ScrapeGauge("unionops.notify.pending", "{delivery}",
                             "Deliveries waiting to be sent (pending) or being sent (sending), by channel",
                             ("channel", "status"))
notify_pending_oldest_age = ScrapeGauge("unionops.notify.pending.oldest.age", "s",
                                        "How long the oldest due pending delivery has been due, by channel (0 when none)",
                                        ("channel",))
notify_dlq = ScrapeGauge("unionops.notify.dlq", "{delivery}",
                         "Failed deliveries in delivery_dlq, by failure reason and whether published to the DLQ topic",
                         ("reason", "published"))
notify_fanouts_running = ScrapeGauge("unionops.notify.fanouts.running", "{fanout}",
                                     "Campaign fan-outs still creating deliveries", ())
notify_fanout_members_left = ScrapeGauge("unionops.notify.fanout.members.left", "{member}",
                                         "Members the running fan-outs have not reached yet", ())
notify_fanout_members = _counter("unionops.notify.fanout.members", "{member}",
                                 "Members the fan-out worker went past (progress of running fan-outs)")

NOTIFY_CHANNELS = ("email", "sms", "webhook", "inapp")


def seed_notify() -> None:
    """Zero series for every channel, so rates and alerts see 0 rather than nothing before the
    first delivery (a counter without a data point is not exposed at all)."""
    for channel in NOTIFY_CHANNELS:
        notify_deliveries.add(0, {"channel": channel, "outcome": "delivered", "reason": ""})
        notify_deliveries.add(0, {"channel": channel, "outcome": "failed", "reason": ""})
        notify_retries.add(0, {"channel": channel})
        notify_rate_limit_waits.add(0, {"channel": channel, "handling": "slept"})
        notify_postponed.add(0, {"channel": channel, "why": "rate_limit"})
    notify_fanout_members.add(0)


def seed_consumer(name: str) -> None:
    for outcome in CONSUMER_OUTCOMES:
        consumer_events.add(0, {"consumer": name, "outcome": outcome})


# Kept for callers of the earlier API.
def set_outbox_backlog(service: str, rows: int) -> None:
    outbox_backlog.set(rows, service)


def set_consumer_lag(group: str, topic: str, partition: int, lag: int) -> None:
    consumer_lag.set(max(lag, 0), group, topic, partition)


# Metrics that come from elsewhere in the process, for the table in docs/operations.md and the
# check that dashboards and alerts name only what is exposed.
EXTERNAL = {
    "http.server.duration": "HTTP request latency per route, method and status (FastAPI instrumentation), ms",
    "up": "Prometheus' own: 1 while the target answers its scrape",
}


def prometheus_names() -> set[str]:
    return {m.prometheus for m in CATALOGUE.values()}


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
