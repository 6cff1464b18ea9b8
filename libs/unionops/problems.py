"""RFC 9457 problem details (`application/problem+json`) for every error a service returns."""
from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "请求格式错误",
    401: "未认证",
    403: "无权限",
    404: "未找到",
    405: "方法不允许",
    409: "冲突",
    413: "请求体过大",
    415: "不支持的媒体类型",
    422: "请求内容未通过校验",
    500: "服务器内部错误",
    503: "服务暂不可用",
}


class Problem(Exception):
    """Raise to answer with a problem document. `errors` carries field-level detail:
    a list of {"field": "body.id_number", "message": "..."}."""

    def __init__(self, status: int, detail: str, *, type_: str = "about:blank", title: str | None = None,
                 errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = type_
        self.title = title or _TITLES.get(status, "错误")
        self.errors = errors
        self.headers = headers
        self.extra = extra

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


_LOCATIONS = ("body.", "query.", "path.", "header.")


class RuleViolation(Exception):
    """A business rule refused a command. Services raise it from their domain code; it becomes
    a problem document naming the rule (`kind`) and the input at fault (`field`)."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422, kind: str = "rule") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
        self.kind = kind

    def to_problem(self) -> Problem:
        # A field is in the body unless named with its place, as a query parameter is ("query.year").
        field = self.field if self.field is None or self.field.startswith(_LOCATIONS) else f"body.{self.field}"
        errors = [{"field": field, "message": self.message}] if field else None
        return Problem(self.status, self.message, type_=f"/problems/{self.kind}", errors=errors)


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    return JSONResponse(
        problem.to_dict(request.url.path if request else None),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _field(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


# Every pydantic error type a request can meet, in Chinese; `{…}` are the error's ctx values.
# Types not listed fall back to a Chinese generic text, so no English reaches a user.
_MESSAGES = {
    "missing": "必填",
    "extra_forbidden": "不是可接受的字段",
    "none_required": "须为 null",
    "model_type": "须为 JSON 对象",
    "model_attributes_type": "须为 JSON 对象",
    "dict_type": "须为 JSON 对象",
    "list_type": "须为数组",
    "tuple_type": "须为数组",
    "set_type": "须为数组",
    "iterable_type": "须为数组",
    "invalid_key": "键须为字符串",
    "string_type": "须为字符串",
    "string_unicode": "须为合法的 Unicode 字符串",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "string_not_ascii": "只能包含 ASCII 字符",
    "too_short": "至少须有 {min_length} 项",
    "too_long": "最多只能有 {max_length} 项",
    # a length limit next to a checked text type (PersonName, UnitName) counts characters
    "text_too_short": "长度不能少于 {min_length} 个字符",
    "text_too_long": "长度不能超过 {max_length} 个字符",
    "int_type": "须为整数（不接受字符串、小数或布尔值）",
    "int_parsing": "须为整数",
    "int_parsing_size": "整数超出范围",
    "int_from_float": "须为整数，不能有小数部分",
    "float_type": "须为数字",
    "float_parsing": "须为数字",
    "finite_number": "须为有限的数字",
    "bool_type": "须为布尔值 true 或 false",
    "bool_parsing": "须为布尔值 true 或 false",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须大于或等于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须小于或等于 {le}",
    "multiple_of": "须为 {multiple_of} 的整数倍",
    "literal_error": "须为以下取值之一：{expected}",
    "enum": "须为以下取值之一：{expected}",
    "uuid_type": "须为 UUID",
    "uuid_parsing": "须为合法的 UUID",
    "uuid_version": "UUID 版本不正确",
    "date_type": "须为日期（YYYY-MM-DD）",
    "date_parsing": "须为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "须为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "须为日期，不能带时刻",
    "date_past": "须为过去的日期",
    "date_future": "须为将来的日期",
    "datetime_type": "须为日期时间（ISO 8601）",
    "datetime_parsing": "须为日期时间（ISO 8601）",
    "datetime_from_date_parsing": "须为日期时间（ISO 8601）",
    "datetime_object_invalid": "须为日期时间（ISO 8601）",
    "datetime_past": "须为过去的时间",
    "datetime_future": "须为将来的时间",
    "timezone_naive": "不能带时区",
    "timezone_aware": "须带时区",
    "time_type": "须为时间（HH:MM）",
    "time_parsing": "须为时间（HH:MM）",
    "decimal_type": "须为数字",
    "decimal_parsing": "须为数字",
    "decimal_max_digits": "总位数不能超过 {max_digits} 位",
    "decimal_max_places": "小数不能超过 {decimal_places} 位",
    "decimal_whole_digits": "整数部分不能超过 {whole_digits} 位",
    "url_type": "须为网址",
    "url_parsing": "须为合法的网址",
    "url_scheme": "网址协议须为 {expected_schemes}",
    "url_too_long": "网址不能超过 {max_length} 个字符",
    "bytes_type": "须为文件或字节串",
    "bytes_too_long": "不能超过 {max_length} 字节",
    "json_type": "须为 JSON",
    "union_tag_invalid": "类型标记不正确",
    "union_tag_not_found": "缺少类型标记",
}
_CJK = re.compile(r"[\u3400-\u9fff]")


def validation_message(error: dict) -> str:
    """One pydantic error in Chinese, naming the field: "字段 name：长度不能少于 2 个字符"."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind in ("too_short", "too_long") and ctx.get("field_type") == "Value":
        kind = "text_" + kind
    if "expected" in ctx:  # pydantic lists the choices as "'a', 'b' or 'c'"
        ctx = ctx | {"expected": str(ctx["expected"]).replace(" or ", "、").replace(", ", "、")}
    if kind in ("value_error", "assertion_error"):
        text = str(ctx.get("error", "")) or error.get("msg", "")
    elif kind in _MESSAGES:
        try:
            text = _MESSAGES[kind].format(**ctx)
        except (KeyError, IndexError, ValueError):
            text = _MESSAGES[kind].split("{")[0].rstrip("：: ")
    else:  # our own PydanticCustomError messages are Chinese already
        text = error.get("msg", "")
    if not _CJK.search(text):
        text = "取值无效"
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header", "cookie")]
    return f"字段 {'.'.join(loc)}：{text}" if loc else text


def install(app: FastAPI) -> None:
    """Route every error through problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(exc, request)

    @app.exception_handler(RuleViolation)
    async def _rule(request: Request, exc: RuleViolation):
        return problem_response(exc.to_problem(), request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            return problem_response(Problem(400, "请求体不是合法的 JSON", type_="/problems/malformed-json"), request)
        errors = [{"field": _field(e["loc"]), "message": validation_message(e), "type": e["type"]} for e in errs]
        return problem_response(
            Problem(422, "请求内容未通过校验：" + "；".join(e["message"] for e in errors[:3]),
                    type_="/problems/validation", errors=errors),
            request,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        logging.getLogger("unionops.http").exception("unhandled error")
        return problem_response(Problem(500, "服务器内部错误，请稍后重试"), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = str(exc.detail)
        if not _CJK.search(detail):  # Starlette's own "Not Found", "Method Not Allowed", …
            detail = _DETAILS.get(exc.status_code) or _TITLES.get(exc.status_code) or "请求无法处理"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # Starlette names only the methods of the first route on the path
            from unionops.routes import allowed_methods

            headers = (headers or {}) | {"Allow": ", ".join(sorted(allowed_methods(request.app, request.scope["path"])))}
        return problem_response(Problem(exc.status_code, detail, headers=headers), request)


_DETAILS = {
    404: "请求的地址不存在",
    405: "该地址不支持此请求方法（可用的方法见 Allow）",
    413: "请求体超过该接口允许的大小",
}


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` names each field at fault",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"], "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}, "type": {"type": "string"}}}},
    },
}
_WHY = {
    400: "请求格式错误（非法 JSON、控制字符、Idempotency-Key）",
    401: "缺少令牌或令牌无效",
    403: "无权限或不在管辖范围内",
    404: "不存在或不在管辖范围内",
    409: "与现有数据或当前状态冲突",
    413: "请求体超过该接口允许的大小",
    415: "不支持的文件或媒体类型",
    422: "请求内容未通过校验或违反业务规则",
}


def document(app: FastAPI) -> None:
    """Make the OpenAPI tell the truth about errors: every error answer is problem+json, and
    every status an operation can give is listed — 400 and 404 everywhere, 422 where anything is
    validated or a rule applies, 401/403 where a token is needed, 409 for commands, 413/415
    where there is a body."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for methods in schema.get("paths", {}).values():
            for method, op in methods.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                statuses = {400, 404}
                if op.get("parameters") or "requestBody" in op or method != "get":
                    statuses.add(422)
                if op.get("security"):
                    statuses |= {401, 403}
                if method != "get":
                    statuses.add(409)
                if "requestBody" in op:
                    statuses |= {413, 415}
                responses = op["responses"]
                for status in statuses:
                    responses.setdefault(str(status), {"description": _WHY[status]})
                for status, response in responses.items():
                    if status[:1] == "4":
                        response["content"] = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
                        if response.get("description") == "Validation Error":
                            response["description"] = _WHY[422]
        for unused in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
