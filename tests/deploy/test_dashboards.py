"""Grafana is provisioned from the repository: datasources, a dashboard provider, and dashboards
that Grafana can load and that query only metrics the services declare."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.promql import DASHBOARDS_DIR, PROMETHEUS_OWN, _panels, alert_expressions, dashboard_expressions, metric_names
from unionops import metrics

GRAFANA = DASHBOARDS_DIR.parent


def _declared() -> set[str]:
    names = set(PROMETHEUS_OWN)
    for m in metrics.CATALOGUE.values():
        names.add(m.prometheus)
        if m.kind == "histogram":
            names |= {m.prometheus + s for s in ("_bucket", "_sum", "_count")}
    names |= {"http_server_duration_milliseconds" + s for s in ("_bucket", "_sum", "_count")}
    return names


def test_grafana_gets_prometheus_and_tempo_and_the_dashboards_folder():
    sources = yaml.safe_load((GRAFANA / "provisioning/datasources/unionops.yaml").read_text())["datasources"]
    assert {(s["type"], s["uid"]) for s in sources} >= {("prometheus", "prometheus"), ("tempo", "tempo")}
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/unionops.yaml").read_text())["providers"]
    assert providers[0]["type"] == "file" and providers[0]["options"]["path"]


def test_compose_mounts_the_provisioning_where_grafana_reads_it_and_the_dashboards_where_the_provider_looks():
    compose = yaml.safe_load((GRAFANA.parent / "compose.yaml").read_text())
    mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in compose["services"]["grafana"]["volumes"]
                  if v.startswith("./"))
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/unionops.yaml").read_text())["providers"][0]
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]


def test_there_is_an_overview_and_a_dashboard_per_service_each_loadable_by_grafana():
    uids = set()
    sources = {s["uid"] for s in yaml.safe_load(
        (GRAFANA / "provisioning/datasources/unionops.yaml").read_text())["datasources"]}
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        assert board["schemaVersion"] >= 36 and board["uid"] and board["title"], path.name
        uids.add(board["uid"])
        ids = [p["id"] for p in _panels(board["panels"])]
        assert len(ids) == len(set(ids)), f"{path.name}: panel ids repeat"
        for panel in _panels(board["panels"]):
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] in sources, (path.name, panel["title"])
            assert panel["targets"] and all(t["expr"] and t["refId"] for t in panel["targets"]), panel["title"]
    assert uids == {"unionops-overview", "unionops-membership", "unionops-welfare", "unionops-competitions",
                    "unionops-notify"}


def test_dashboards_and_alerts_query_only_metrics_the_services_declare():
    declared = _declared()
    expressions = {**alert_expressions(), **dashboard_expressions()}
    unknown = {where: sorted(metric_names(e) - declared) for where, e in expressions.items() if metric_names(e) - declared}
    assert not unknown, unknown


def test_every_declared_metric_has_a_description_and_a_line_in_the_operations_guide():
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    for m in metrics.CATALOGUE.values():
        assert m.description, m.name
        assert f"`{m.prometheus}" in guide, m.prometheus
