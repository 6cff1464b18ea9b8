"""Every variable a service's settings class reads is set (or required) where it is deployed —
in compose.yaml and in the Kubernetes manifests — and nothing is set that no service reads."""
from __future__ import annotations

import re

import pytest

from tests.deploy.manifests import (OVERLAY, SECRET_EXAMPLE, SERVICES, by_kind_and_name, compose, kustomize_build,
                                    load_all, settings_variables)

# Secrets must never fall back to a default: compose refuses to start without them.
SECRETS = {"JWT_SECRET", "PII_ENCRYPTION_KEY", "PII_HASH_KEY", "PII_CONTACT_KEYS", "PII_HR_KEYS", "SMS_API_KEY"}
# May be set empty on purpose (a mail relay without login), but never left out by accident.
EXPLICIT = {"SMTP_USERNAME", "SMTP_PASSWORD"}


def service_environment(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in compose()["services"][service]["environment"].items()}


@pytest.mark.parametrize("service", SERVICES)
def test_compose_sets_every_variable_the_service_reads_and_no_other(service):
    environment = set(service_environment(service))
    reads = settings_variables(service)
    assert reads - environment == set(), "read by the service, missing in compose"
    assert environment - reads == set(), "set in compose, read by no setting"


@pytest.mark.parametrize("service", SERVICES)
def test_compose_refuses_to_start_without_a_secret(service):
    environment = service_environment(service)
    for name in (SECRETS | EXPLICIT) & set(environment):
        guard = "?" if name in EXPLICIT else ":?"
        assert re.fullmatch(rf"\$\{{{name}{re.escape(guard)}[^}}]+\}}", environment[name]), name
    database_url = environment[f"{service.upper()}_DATABASE_URL"]
    assert "${POSTGRES_PASSWORD:?" in database_url


@pytest.mark.parametrize("service", SERVICES)
def test_compose_leaves_no_variable_silently_blank(service):
    """`${X}` without a default or a guard becomes '' when X is unset: never used."""
    for name, value in service_environment(service).items():
        assert not re.search(r"\$\{\w+\}", value), name
        if re.search(r"\$\{\w+:-\}", value):
            assert name == "JWT_JWKS_URL", f"{name} may be blank"  # empty: tokens are checked with JWT_SECRET


@pytest.mark.parametrize("service", SERVICES)
def test_compose_never_runs_a_service_in_development_mode(service):
    assert service_environment(service)["UNIONOPS_DEVELOPMENT_MODE"] == "false"


@pytest.mark.parametrize("service", SERVICES)
def test_compose_migrates_each_database_before_its_service_starts(service):
    services = compose()["services"]
    migrate = services[f"{service}-migrate"]
    assert migrate["command"] == ["python", "-m", "unionops.migrate", "apply", service]
    assert set(migrate["environment"]) == {f"{service.upper()}_DATABASE_URL"}
    assert migrate["environment"][f"{service.upper()}_DATABASE_URL"] == \
        service_environment(service)[f"{service.upper()}_DATABASE_URL"]
    assert migrate["depends_on"] == {f"{service}-db": {"condition": "service_healthy"}}
    depends = services[service]["depends_on"]
    assert depends[f"{service}-migrate"] == {"condition": "service_completed_successfully"}
    assert all(depends[f"kafka-{n}"] == {"condition": "service_healthy"} for n in (1, 2, 3))


def test_compose_keeps_kafka_and_every_database_on_named_volumes():
    spec = compose()
    for name in ["kafka-1", "kafka-2", "kafka-3"] + [f"{s}-db" for s in SERVICES]:
        volume = spec["services"][name]["volumes"][0].split(":")[0]
        assert volume in spec["volumes"], name


def test_compose_kraft_cluster_id_is_a_valid_kafka_uuid():
    """What `kafka-storage.sh random-uuid` prints: 16 bytes, URL-safe base64, no padding."""
    import base64

    cluster_id = str(compose()["services"]["kafka-1"]["environment"]["CLUSTER_ID"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert {str(compose()["services"][f"kafka-{n}"]["environment"]["CLUSTER_ID"]) for n in (1, 2, 3)} == {cluster_id}


def test_compose_gives_every_container_a_restart_policy_and_limits():
    for name, service in compose()["services"].items():
        assert "restart" in service, name
        if not name.startswith("tempo-init"):
            assert service["deploy"]["resources"]["limits"]["memory"], name


def kubernetes_environment(service: str) -> tuple[dict[str, str], dict[str, str]]:
    """(variables from ConfigMaps and env, variables from Secrets) of the service's Deployment."""
    objects = by_kind_and_name(kustomize_build(OVERLAY))
    secrets = by_kind_and_name(load_all(SECRET_EXAMPLE))
    (container,) = objects[("Deployment", service)]["spec"]["template"]["spec"]["containers"]
    plain = {e["name"]: e.get("value", "") for e in container.get("env", [])}
    secret: dict[str, str] = {}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            plain |= objects[("ConfigMap", source["configMapRef"]["name"])]["data"]
        else:
            secret |= secrets[("Secret", source["secretRef"]["name"])]["stringData"]
    return plain, secret


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_provides_every_variable_the_service_reads_and_no_other(service):
    plain, secret = kubernetes_environment(service)
    assert set(plain) & set(secret) == set(), "set twice"
    provided = set(plain) | set(secret)
    reads = settings_variables(service)
    assert reads - provided == set(), "read by the service, missing in the manifests"
    assert provided - reads == set(), "in the manifests, read by no setting"


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_keeps_secrets_in_secrets_and_development_mode_off(service):
    plain, secret = kubernetes_environment(service)
    assert (SECRETS | EXPLICIT | {f"{service.upper()}_DATABASE_URL"}) & set(settings_variables(service)) <= set(secret)
    assert plain["UNIONOPS_DEVELOPMENT_MODE"] == "false"


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_migrates_with_a_job_and_waits_for_startup(service):
    objects = by_kind_and_name(kustomize_build(OVERLAY))
    (migrate,) = objects[("Job", f"{service}-migrate")]["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["python", "-m", "unionops.migrate", "apply", service]
    (container,) = objects[("Deployment", service)]["spec"]["template"]["spec"]["containers"]
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"  # the database alone
    for kind in ("Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy", "ConfigMap"):
        assert (kind, service if kind != "ConfigMap" else f"{service}-config") in objects, kind
