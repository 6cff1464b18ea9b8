"""The alert rules load in Prometheus and behave as their unit tests say (promtool)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.promql import PROMETHEUS_DIR, alert_expressions, metric_names

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (Debian: apt-get install -y prometheus)")


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=120)


@needs_promtool
def test_the_alert_rules_are_valid_prometheus_rules():
    result = _promtool("check", "rules", "alerts.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_every_alert_fires_when_its_unit_test_says_and_stays_quiet_otherwise():
    tests = sorted(str(p.relative_to(PROMETHEUS_DIR)) for p in (PROMETHEUS_DIR / "tests").glob("*.yaml"))
    assert tests
    result = _promtool("test", "rules", *tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_and_a_runbook_section():
    tests = "".join(p.read_text(encoding="utf-8") for p in (PROMETHEUS_DIR / "tests").glob("*.yaml"))
    runbook = (PROMETHEUS_DIR.parent.parent.parent / "docs" / "operations.md").read_text(encoding="utf-8")
    for alert in alert_expressions():
        assert f"alertname: {alert}" in tests, alert
        assert f"### {alert}" in runbook, alert


def test_the_promql_tokenizer_finds_metrics_not_functions_labels_or_keywords():
    expr = ('sum by (job) (rate(http_server_duration_milliseconds_count{http_status_code=~"5.."}[5m]))'
            ' / on (job) group_left max without (instance) (up offset 5m) unless absent(foo_total{a="b c"})'
            ' > 0.5e3 and histogram_quantile(0.99, x_bucket{job=~"$service"}[$__rate_interval])')
    assert metric_names(expr) == {"http_server_duration_milliseconds_count", "up", "foo_total", "x_bucket"}
