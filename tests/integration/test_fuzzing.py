"""Property-based requests over every operation of every service's OpenAPI (schemathesis), against
the four services running as processes on the real broker and PostgreSQL, with a federation
admin's token and a district staff member's token: no answer is a 5xx, every 4xx is
problem+json, every answer is one the OpenAPI documents (status, content type, schema), and every
service is still ready afterwards.

Bounded and reproducible: a fixed number of examples per operation, derandomised generation, no
shrinking and no example database, so CI sees the same requests on every run."""
from __future__ import annotations

import time
import warnings

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.people import auth

SERVICES = ("membership", "welfare", "competitions", "notify")

pytestmark = [pytest.mark.integration,
              pytest.mark.services(*SERVICES)]
# Examples per operation, per token and generation mode: ~150 operations × 2 tokens × 2 modes.
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}
# A safety net for a loaded machine (the run takes ~80 s on 2 cores): operations not reached in
# time are skipped with a warning rather than failing the suite.
TIME_BUDGET_SECONDS = 200


@pytest.fixture(scope="module")
def tokens(membership):
    """The city's federation admin and the staff of one district (a real unit, so scope applies)."""
    district = membership.branch("锦江").district
    return {"admin": auth(), "district": auth("staff", district, "district-staff")}


def problem_json_on_every_4xx(ctx, response, case):
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0] if isinstance(
            response.headers.get("content-type"), list) else response.headers.get("content-type", "")
        assert content_type.startswith("application/problem+json"), \
            f"{response.status_code} answered as {content_type!r}, not problem+json"
        body = response.json()
        assert body.get("status") == response.status_code and body.get("detail"), body


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection,
          problem_json_on_every_4xx]


def fuzz(url: str, tokens: dict[str, dict[str, str]], deadline: float, statuses: dict[int, int]) -> list[str]:
    schema = schemathesis.openapi.from_dict(httpx.get(f"{url}/openapi.json").json())
    failures: list[str] = []
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in EXAMPLES.items():
            for who, headers in tokens.items():
                if time.monotonic() > deadline:
                    warnings.warn(f"fuzzing out of time: {operation.label} [{who}, {mode.value}] skipped")
                    continue

                @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
                @given(case=operation.as_strategy(generation_mode=mode))
                def run(case):
                    sent = dict(headers)
                    if mode is GenerationMode.NEGATIVE and "authorization" not in {h.lower() for h in case.headers or {}}:
                        # The case's mutation removed the required credential: sending the token
                        # anyway would undo it and make an invalid request look accepted.
                        sent = {}
                    response = case.call_and_validate(base_url=url, session=session, headers=sent,
                                                      checks=CHECKS, timeout=10)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

                try:
                    run()
                except Unsatisfiable:  # nothing to break in an operation without inputs (negative mode)
                    pass
                except (Exception, BaseExceptionGroup) as exc:  # every failing operation, not only the first
                    failures.append(f"{operation.label} [{who}, {mode.value}]: {str(exc)[:1500]}")
    return failures


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(services, tokens):
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    failures, statuses = [], {}
    for name in SERVICES:
        failures += fuzz(services[name].url, tokens, deadline, statuses)
    print(f"fuzzing: {sum(statuses.values())} requests, by status {sorted(statuses.items())}")
    for name in SERVICES:
        ready = httpx.get(f"{services[name].url}/health/ready", timeout=10)
        assert ready.status_code == 200, f"{name} not ready after fuzzing: {ready.text}"
    assert not failures, "\n\n".join(failures)
