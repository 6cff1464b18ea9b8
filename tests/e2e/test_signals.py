"""What the dashboards and alerts read is what the running services expose."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.support.membership import admit, found_district
from tests.support.people import new_resident_id
from tests.promql import PROMETHEUS_OWN, alert_expressions, dashboard_expressions, exposed_names, metric_names

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def _scrape(system) -> dict[str, set[str]]:
    return {name: exposed_names(httpx.get(proc.url + "/metrics", timeout=10).text) for name, proc in system.items()}


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of the one series of `name` carrying `labels` (among others)."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} with {labels}")


def test_every_metric_a_dashboard_or_alert_names_is_exposed_by_a_running_service(system, membership_client, sink):
    district = found_district(membership_client)
    email = f"signals-{uuid.uuid4().hex[:8]}@example.cn"
    response = admit(membership_client, district.union_ids[0], name="郑秋", email=email,
                     id_number=new_resident_id(), phone="13700002222")
    assert response.status_code == 201, response.text
    deadline = time.monotonic() + 60
    while True:  # notify delivered the welcome: its send latency and outcome counters exist now
        exposed = _scrape(system)
        if "unionops_notify_send_duration_seconds_bucket" in exposed["notify"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    everything = set().union(*exposed.values()) | PROMETHEUS_OWN

    expressions = {**{f"alert {k}": v for k, v in alert_expressions().items()}, **dashboard_expressions()}
    assert len(expressions) > 20
    missing = {where: sorted(metric_names(expr) - everything) for where, expr in expressions.items()
               if metric_names(expr) - everything}
    assert not missing, missing


def test_notify_exposes_its_delivery_signals_and_every_service_its_outbox(system, membership_client):
    exposed = _scrape(system)
    for name in ("unionops_notify_deliveries_total", "unionops_notify_pending", "unionops_notify_dlq",
                 "unionops_notify_pending_oldest_age_seconds", "unionops_notify_retries_total",
                 "unionops_notify_rate_limit_waits_total", "unionops_notify_fanouts_running",
                 "unionops_notify_fanout_members_left"):
        assert name in exposed["notify"], name
    for service, names in exposed.items():
        assert {"unionops_outbox_backlog", "unionops_outbox_oldest_age_seconds"} <= names, service
    for service in ("welfare", "competitions", "notify"):
        assert {"unionops_consumer_lag", "unionops_consumer_dead_letters"} <= exposed[service], service


def test_an_admission_counts_as_delivered_welcome_mail_and_inapp_message_in_notify(system, membership_client, sink):
    district = found_district(membership_client)
    notify = system["notify"].url + "/metrics"

    def delivered(channel: str) -> float:
        return _sample(httpx.get(notify, timeout=10).text, "unionops_notify_deliveries_total", channel=channel,
                       outcome="delivered")

    before = {c: delivered(c) for c in ("email", "inapp")}
    response = admit(membership_client, district.union_ids[0], name="钱枫", email=f"count-{uuid.uuid4().hex[:8]}@example.cn",
                     id_number=new_resident_id(), phone="13700003333")
    assert response.status_code == 201, response.text
    deadline = time.monotonic() + 60
    while any(delivered(c) <= before[c] for c in before) and time.monotonic() < deadline:
        time.sleep(0.5)
    # at least: an earlier test's admission may still be settling
    assert all(delivered(c) - before[c] >= 1 for c in before), {c: delivered(c) - before[c] for c in before}
    text = httpx.get(notify, timeout=10).text
    assert _sample(text, "unionops_notify_send_duration_seconds_count", channel="email") >= 1
    assert _sample(text, "unionops_notify_pending", channel="email", status="pending") >= 0
