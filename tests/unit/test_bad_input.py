"""Bad input gets a clear answer and changes nothing: every refusal here happens before a handler
runs (no database is reached: the apps are driven in-process without their lifespan), with a
Chinese message naming the field, as problem+json — never a 5xx."""
from __future__ import annotations

import importlib
import re
import uuid
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from unionops.auth import issue_token, root_org_id
from unionops.bodies import Body
from unionops.settings import CommonSettings

SETTINGS = CommonSettings()
ROOT = root_org_id(SETTINGS.city_region_code)
SERVICES = ("membership", "welfare", "competitions", "notify")
APPS = {name: importlib.import_module(f"{name}.app").app for name in SERVICES}
ADMIN = {"Authorization": "Bearer " + issue_token(SETTINGS, subject="city-admin", role="federation_admin", org_id=ROOT)}
CJK = re.compile(r"[\u3400-\u9fff]")
SOME_ID = str(uuid.uuid4())


async def call(service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=APPS[service], raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, headers=kwargs.pop("headers", ADMIN), **kwargs)


def refused(response: httpx.Response, field: str, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    fields = [e["field"] for e in body.get("errors", [])]
    assert any(f == field or f.startswith(field + ".") for f in fields), (field, body)
    return body


def member(**overrides) -> dict:
    return {"union_id": SOME_ID, "name": "王秀英", "id_number": "110101199003074514"} | overrides


@pytest.mark.parametrize("amount", ["100", True, 100.0, 10**13, -1, 0])
async def test_money_is_a_strict_integer(amount):
    r = await call("welfare", "POST", f"/funds/{SOME_ID}/budget", json={"amount_fen": amount})
    refused(r, "body.amount_fen")
    visit = {"member_id": SOME_ID, "kind": "other", "visited_on": "2026-01-05", "visitors": ["李明"],
             "notes": "走访", "gift_fen": "5"}
    refused(await call("welfare", "POST", "/visits", json=visit), "body.gift_fen")


@pytest.mark.parametrize("prizes", [{"first": False}, {"first": 5936364137966}, {"first": "3"}, {"second": 1.0}])
async def test_a_count_is_a_strict_integer_within_bounds(prizes):
    r = await call("competitions", "PUT", f"/contests/{SOME_ID}/judging-rules", json={"prizes": prizes})
    refused(r, "body.prizes")


@pytest.mark.parametrize("service, path, field", [
    ("welfare", "/hardship-files/due?offset=10000000000000000000", "query.offset"),
    ("welfare", "/hardship-files?offset=10000000000000000000", "query.offset"),
    ("welfare", f"/funds/{SOME_ID}/ledger?after_seq=100000000000000000000", "query.after_seq"),
    ("competitions", "/awards?year=100000000000", "query.year"),
    ("competitions", "/awards?limit=100000000000000000000", "query.limit"),
    ("competitions", "/contests?limit=-1", "query.limit"),
    ("membership", "/organisations?limit=100000000000000000000", "query.limit"),
    ("membership", f"/organisations/{SOME_ID}/targets/100000000000", "path.year"),
])
async def test_offsets_limits_and_years_are_bounded(service, path, field):
    method = "PUT" if "targets" in path else "GET"
    refused(await call(service, method, path, json={} if method == "PUT" else None), field)


def _integer_schemas(node: Any, where: str, spec: dict, seen: set):
    """Integer schemas reachable from `node`, following $refs (inputs only, not answers)."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            yield where, node
        if "$ref" in node and node["$ref"] not in seen:
            seen.add(node["$ref"])
            name = node["$ref"].rsplit("/", 1)[-1]
            yield from _integer_schemas(spec["components"]["schemas"][name], name, spec, seen)
        for key, value in node.items():
            yield from _integer_schemas(value, f"{where}/{key}", spec, seen)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _integer_schemas(value, f"{where}/{i}", spec, seen)


@pytest.mark.parametrize("service", SERVICES)
def test_every_integer_input_is_bounded(service):
    """Every integer a caller can send has a documented minimum and maximum (PostgreSQL's integer
    and bigint overflow with a 5xx otherwise)."""
    spec = APPS[service].openapi()
    inputs = {p: {m: {k: v for k, v in op.items() if k in ("parameters", "requestBody")} for m, op in ops.items()}
              for p, ops in spec["paths"].items()}
    unbounded = [where for where, s in _integer_schemas(inputs, service, spec, set())
                 if not (("minimum" in s or "exclusiveMinimum" in s) and ("maximum" in s or "exclusiveMaximum" in s))]
    assert not unbounded, unbounded


def _bodies() -> list[type[BaseModel]]:
    seen, todo = [], list(Body.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo += cls.__subclasses__()
    return seen


def _lax_numbers(schema: Any) -> bool:
    """Whether a field's core schema holds an int or bool validator that is not strict (nested
    bodies are checked as bodies of their own)."""
    if isinstance(schema, dict):
        if schema.get("type") in ("model", "definition-ref", "definitions"):
            return False
        if schema.get("type") in ("int", "bool") and not schema.get("strict"):
            return True
        return any(_lax_numbers(v) for k, v in schema.items() if k not in ("serialization", "metadata"))
    if isinstance(schema, list):
        return any(_lax_numbers(v) for v in schema)
    return False


def _fields(schema: dict) -> dict:
    while "fields" not in schema:
        schema = schema["schema"]
    return schema["fields"]


def test_every_integer_and_boolean_body_field_is_strict():
    """No body reads "100", 100.0 or true as a number, nor 1 or "yes" as a boolean."""
    lax = [f"{cls.__module__}.{cls.__name__}.{name}" for cls in _bodies() if cls.__module__.split(".")[0] in SERVICES
           for name, field in _fields(cls.__pydantic_core_schema__).items() if _lax_numbers(field["schema"])]
    assert not lax, lax


@pytest.mark.parametrize("name", ["王\u0000芳", "王\u0007芳", "\u202e王芳", "王\u202e芳", "\u200b\u200b", "王\u200b芳",
                                  "e" + "\u0301" * 30, "张三😀", "李四\ufeff", "王芳2", "\ud800王芳"])
async def test_a_name_with_control_characters_is_refused(name):
    r = await call("membership", "POST", "/members",
                   content=('{"union_id": "%s", "name": %s, "id_number": "110101199003074514"}'
                            % (SOME_ID, _json_string(name))).encode(), headers=ADMIN | {"content-type": "application/json"})
    body = refused(r, "body.name")
    assert all(CJK.search(e["message"]) and "name" in e["message"] for e in body["errors"])


def _json_string(text: str) -> str:
    return '"' + "".join(ch if ch.isalnum() and ord(ch) < 0xd800 else f"\\u{ord(ch):04x}" for ch in text) + '"'


@pytest.mark.parametrize("name, kept", [("艾力·买买提", "艾力·买买提"), ("阿依古丽•买买提", "阿依古丽·买买提"),
                                        ("Anna-Lena O'Brien", "Anna-Lena O'Brien"), ("Nguyễn Văn An", "Nguyễn Văn An"),
                                        ("e\u0301mile", "émile"), ("王  芳", "王 芳")])
def test_real_persons_names_are_kept_normalised(name, kept):
    from unionops.inputs import person_name

    assert person_name(name) == kept


@pytest.mark.parametrize("name", ["成都市第1建筑公司工会", "锦江区（东片）街道工会", "ABC-Tech (Chengdu) Co., Ltd.", "区总工会【一线】工作群"])
def test_unit_names_allow_digits_brackets_and_punctuation(name):
    from unionops.inputs import unit_name

    assert unit_name(name) == name


@pytest.mark.parametrize("name", ["工会😀", "工会\u200d", "\u202e工会", "工\u0000会", "---"])
async def test_a_unit_name_with_emoji_control_or_invisible_characters_is_refused(name):
    body = {"parent_id": SOME_ID, "name": name, "level": "district", "kind": "district_federation",
            "region_code": "510104"}
    refused(await call("membership", "POST", "/organisations", json=body), "body.name")


@pytest.mark.parametrize("body", [{"active": None}, {"name": None}, {"roles": None}])
async def test_null_is_refused_where_a_field_cannot_be_cleared(body):
    refused(await call("notify", "PATCH", f"/officers/{SOME_ID}", json=body), f"body.{next(iter(body))}")


@pytest.mark.parametrize("service, path, body", [
    ("membership", "/organisations", {"parent_id": SOME_ID, "name": "锦江区总工会", "level": "district",
                                      "kind": "district\u0000", "region_code": "510104"}),
    ("welfare", "/cases", {"member_id": SOME_ID, "kind": "medical", "source": "visit", "summary": "住院\u0000"}),
    ("competitions", "/proposals", {"title": "建议\u202e", "content": "内容"}),
    ("notify", "/officers", {"name": "李明", "org_id": SOME_ID, "roles": ["approver"], "inapp_user_id": "li\u0000"}),
])
async def test_free_text_with_control_characters_is_refused(service, path, body):
    r = await call(service, "POST", path, json=body)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text


async def test_control_characters_in_the_query_are_refused():
    r = await call("competitions", "GET", "/awards?award=%00")
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert CJK.search(r.json()["detail"])


async def test_a_body_over_the_limit_is_refused_with_413():
    big = b'{"summary": "' + b"x" * (getattr(SETTINGS, "http_max_body_bytes", 1_048_576) + 1) + b'"}'
    r = await call("welfare", "POST", "/cases", content=big, headers=ADMIN | {"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert CJK.search(r.json()["detail"])


async def test_a_chunked_body_is_stopped_at_the_limit_before_it_is_read_whole():
    sent = []

    async def endless():
        for _ in range(1000):  # 1 GB if it were read whole
            sent.append(1)
            yield b"x" * 1_048_576

    r = await call("welfare", "POST", "/cases", content=endless(), headers=ADMIN | {"content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert len(sent) <= 3


def test_the_import_sheet_may_be_larger_than_other_bodies():
    from unionops.limits import RequestLimits

    app = APPS["membership"]
    limits = RequestLimits(app, service=app, max_body_bytes=SETTINGS.http_max_body_bytes,
                           max_upload_bytes=SETTINGS.http_max_upload_bytes)
    assert limits.limit_for({"method": "POST", "path": "/imports/members"}) == SETTINGS.http_max_upload_bytes
    assert limits.limit_for({"method": "POST", "path": "/members"}) == SETTINGS.http_max_body_bytes
    assert SETTINGS.http_max_upload_bytes > SETTINGS.http_max_body_bytes


@pytest.mark.parametrize("service, method, path, body", [
    ("membership", "POST", "/organisations", {"parent_id": "nope", "name": "x", "level": "city", "region_code": "12",
                                              "extra": 1}),
    ("membership", "POST", "/members", {"union_id": SOME_ID, "name": "王", "id_number": "", "is_migrant_worker": "yes"}),
    ("membership", "POST", f"/members/{SOME_ID}/transfers", {"new_employer": "某某公司", "residence_region_code": "12a"}),
    ("welfare", "POST", "/hardship-files", {"member_id": SOME_ID, "household": [], "causes": ["x"],
                                           "annual_income_fen": 1.5}),
    ("welfare", "POST", "/campaigns", {"name": "送温暖", "kind": "other", "org_id": SOME_ID, "fund_id": SOME_ID,
                                       "budget_fen": 1, "level_amounts": {}, "starts_on": "x", "ends_on": "2026-13-01"}),
    ("competitions", "POST", "/contests", {"name": "赛", "kind": "none", "org_id": "1", "min_team_size": 0,
                                           "events": "x", "closes_at": "yesterday"}),
    ("competitions", "POST", f"/contests/{SOME_ID}/scores", {"entry_id": SOME_ID, "criterion": "", "score": "abc"}),
    ("notify", "PUT", f"/members/{SOME_ID}/preferences", {"channels": {"fax": 1}, "language": "fr"}),
    ("notify", "GET", "/deliveries?limit=0&member_id=x", None),
    ("welfare", "GET", f"/members/not-a-uuid/visits", None),
])
async def test_every_validation_message_is_chinese(service, method, path, body):
    r = await call(service, method, path, json=body)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    problem = r.json()
    assert CJK.search(problem["detail"]) and CJK.search(problem["title"])
    for error in problem["errors"]:
        assert CJK.search(error["message"]), error
        assert error["field"].split(".")[-1] in error["message"], error  # names the field
        assert error["type"], error  # the machine-readable kind is kept
        assert not re.search(r"\b(should|Input|or|must|Field|required)\b", error["message"]), error


@pytest.mark.parametrize("service, method, path, allowed", [
    ("notify", "DELETE", f"/officers/{SOME_ID}", {"GET", "HEAD", "PATCH"}),
    ("membership", "PUT", "/members", {"POST"}),
    ("welfare", "DELETE", "/hardship-files", {"GET", "HEAD", "POST"}),
])
async def test_405_names_the_allowed_methods(service, method, path, allowed):
    r = await call(service, method, path)
    assert r.status_code == 405 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert {m.strip() for m in r.headers["allow"].split(",")} == allowed
    assert CJK.search(r.json()["detail"])


@pytest.mark.parametrize("service", SERVICES)
def test_the_openapi_documents_problem_json_and_every_error_status(service):
    spec = APPS[service].openapi()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            responses = op["responses"]
            for status, response in responses.items():
                if status.startswith("4"):
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)
            expected = {"400", "404"}
            if op.get("security"):
                expected |= {"401", "403"}
            if "requestBody" in op:
                expected |= {"413", "415", "422"}
            if op.get("parameters"):
                expected.add("422")
            if method != "get":
                expected.add("409")
            assert expected <= set(responses), (method, path, sorted(expected - set(responses)))
    assert "HTTPValidationError" not in spec["components"]["schemas"]
