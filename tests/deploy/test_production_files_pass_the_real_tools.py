"""The production files checked by the tools that will read them: the Compose specification schema
and docker-compose, the Kubernetes OpenAPI schemas (kubernetes-validate), promtool, and the
collector's wiring. A tool from Debian that is not installed skips its test with the reason;
.ci/run installs them, so in CI every check runs."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.manifests import (COMPOSE, K8S, OVERLAY, PRODUCTION, SECRET_EXAMPLE, by_kind_and_name, compose,
                                    kustomize_build, load_all)

PROMETHEUS = PRODUCTION / "prometheus"
BIN = Path(sys.executable).parent

# What compose requires (`${VAR:?}`): dummy values, enough for the file to be read.
REQUIRED = ["JWT_SECRET", "PII_ENCRYPTION_KEY", "PII_HASH_KEY", "PII_CONTACT_KEYS", "PII_HR_KEYS", "POSTGRES_PASSWORD",
            "SMTP_HOST", "SMTP_FROM", "SMTP_USERNAME", "SMTP_PASSWORD", "SMS_PROVIDER_URL", "SMS_API_KEY",
            "GRAFANA_ADMIN_PASSWORD"]


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package {package}; .ci/run installs it)")
    return path


def run(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_compose_file_follows_the_compose_specification():
    result = run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_reads_the_file_with_the_secrets_set():
    docker_compose = tool("docker-compose", "docker-compose")
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED} | {k: "x" for k in REQUIRED}
    result = run(docker_compose, "-f", str(COMPOSE), "config", env=env)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert resolved["services"]["notify"]["environment"]["SMS_API_KEY"] == "x"


@pytest.mark.parametrize("secret", ["JWT_SECRET", "PII_ENCRYPTION_KEY", "SMS_API_KEY", "POSTGRES_PASSWORD",
                                    "SMTP_PASSWORD"])
def test_docker_compose_refuses_the_file_without_a_secret(secret):
    docker_compose = tool("docker-compose", "docker-compose")
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED} | {k: "x" for k in REQUIRED if k != secret}
    result = run(docker_compose, "-f", str(COMPOSE), "config", env=env)
    assert result.returncode != 0
    assert secret in result.stderr


def kubernetes_validate(*paths: Path) -> subprocess.CompletedProcess:
    return run(str(BIN / "kubernetes-validate"), "--strict", "--quiet", *map(str, paths))


def test_kubernetes_overlay_validates_against_the_kubernetes_schemas(tmp_path):
    rendered = tmp_path / "production.yaml"
    rendered.write_text(yaml.safe_dump_all(kustomize_build(OVERLAY), allow_unicode=True), encoding="utf-8")
    result = kubernetes_validate(rendered)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_base_files_and_example_secret_validate_one_by_one():
    files = [p for p in sorted((K8S / "base").glob("*.yaml")) if p.name != "kustomization.yaml"]
    result = kubernetes_validate(*files, SECRET_EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kustomize_builds_the_same_objects_as_our_build():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (kustomize) is not installed; the overlay is rendered by tests/deploy/manifests.py")
    result = run(kubectl, "kustomize", str(OVERLAY))
    assert result.returncode == 0, result.stderr
    assert by_kind_and_name(list(yaml.safe_load_all(result.stdout))) == by_kind_and_name(kustomize_build(OVERLAY))


def prometheus_folder(tmp_path: Path) -> Path:
    """prometheus.yaml with the rules it names; until the alert rules exist, an empty rule file
    stands in so the configuration itself is still checked."""
    folder = tmp_path / "prometheus"
    shutil.copytree(PROMETHEUS, folder)
    for name in yaml.safe_load((folder / "prometheus.yaml").read_text())["rule_files"]:
        if not (folder / name).exists():
            (folder / name).write_text("groups: []\n")
    return folder


def test_promtool_accepts_the_prometheus_configuration(tmp_path):
    promtool = tool("promtool", "prometheus")
    result = run(promtool, "check", "config", str(prometheus_folder(tmp_path) / "prometheus.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_scrapes_every_service():
    jobs = {job["job_name"]: job for job in yaml.safe_load((PROMETHEUS / "prometheus.yaml").read_text())["scrape_configs"]}
    for service in ("membership", "welfare", "competitions", "notify"):
        (targets,) = jobs[service]["static_configs"]
        assert targets["targets"] == [f"{service}:8000"]
        assert jobs[service].get("metrics_path", "/metrics") == "/metrics"
        assert service in compose()["services"]


def rule_files() -> list[Path]:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yaml").read_text())
    return [PROMETHEUS / name for name in config.get("rule_files", [])]


def test_promtool_accepts_the_alert_rules():
    promtool = tool("promtool", "prometheus")
    present = [p for p in rule_files() if p.exists()]
    if not present:
        pytest.skip("no alert rules yet (deploy/production/prometheus/alerts.yaml)")
    result = run(promtool, "check", "rules", *map(str, present))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_of_the_alert_rules_pass():
    promtool = tool("promtool", "prometheus")
    tests = sorted((PROMETHEUS / "tests").glob("*.y*ml"))
    if not tests:
        pytest.skip("no rule unit tests yet (deploy/production/prometheus/tests/)")
    result = run(promtool, "test", "rules", *map(str, tests))
    assert result.returncode == 0, result.stdout + result.stderr


def test_collector_pipelines_are_wired_to_configured_components():
    """No otelcol binary is packaged for Debian, PyPI or npm: the wiring is checked here — what a
    pipeline names exists, memory_limiter comes first, the health extension is enabled, and the
    trace exporter points at the trace backend in compose."""
    config = yaml.safe_load((PRODUCTION / "otel-collector.yaml").read_text())
    service = config["service"]
    assert "health_check" in service["extensions"] and set(service["extensions"]) <= set(config["extensions"])
    assert service["pipelines"], "no pipeline"
    for name, pipeline in service["pipelines"].items():
        assert name.split("/")[0] in {"traces", "metrics", "logs"}, name
        for kind in ("receivers", "processors", "exporters"):
            assert set(pipeline.get(kind, [])) <= set(config.get(kind, {})), f"{name}: unknown {kind}"
        assert pipeline["receivers"] and pipeline["exporters"], name
        assert pipeline["processors"][0] == "memory_limiter", f"{name}: memory_limiter must come first"
    used = {c for p in service["pipelines"].values() for k in ("receivers", "processors", "exporters") for c in p[k]}
    declared = {c for k in ("receivers", "processors", "exporters") for c in config.get(k, {})}
    assert declared <= used, f"declared, never used: {declared - used}"
    limiter = config["processors"]["memory_limiter"]
    assert "check_interval" in limiter and ("limit_mib" in limiter or "limit_percentage" in limiter)
    (trace_exporter,) = service["pipelines"]["traces"]["exporters"]
    host = config["exporters"][trace_exporter]["endpoint"].split("://")[-1].split(":")[0]
    services = compose()["services"]
    assert host in services and "jaeger" not in services
    otlp_ports = {"4317", "4318"}
    assert config["exporters"][trace_exporter]["endpoint"].rsplit(":", 1)[-1] in otlp_ports


def test_every_image_is_pinned_to_a_release_tag():
    for name, service in compose()["services"].items():
        image = service["image"]
        if image.startswith("${UNIONOPS_IMAGE"):
            continue
        tag = image.rsplit(":", 1)[-1]
        assert ":" in image and tag not in {"latest", "main"} and any(c.isdigit() for c in tag), f"{name}: {image}"
        assert "." in tag or tag.isdigit(), f"{name}: {image} is not an exact release"


def test_tempo_receives_what_the_collector_sends_and_keeps_it_on_its_volume():
    collector = yaml.safe_load((PRODUCTION / "otel-collector.yaml").read_text())
    (exporter,) = collector["service"]["pipelines"]["traces"]["exporters"]
    port = collector["exporters"][exporter]["endpoint"].rsplit(":", 1)[-1]
    tempo = yaml.safe_load((PRODUCTION / "tempo.yaml").read_text())
    grpc = tempo["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    assert grpc == f"0.0.0.0:{port}"  # Tempo listens on localhost only unless told otherwise
    assert tempo["storage"]["trace"]["backend"] == "local"
    volumes = compose()["services"]["tempo"]["volumes"]
    assert any(v.startswith("tempo-data:") and tempo["storage"]["trace"]["local"]["path"].startswith(v.split(":")[1])
               for v in volumes)
