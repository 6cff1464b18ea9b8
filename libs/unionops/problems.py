"""RFC 9457 problem details (`application/problem+json`) for every error a service returns."""
from __future__ import annotations

import logging
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
        errors = [{"field": f"body.{self.field}", "message": self.message}] if self.field else None
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
        return problem_response(
            Problem(
                422,
                "请求内容未通过校验",
                type_="/problems/validation",
                errors=[{"field": _field(e["loc"]), "message": e["msg"], "type": e["type"]} for e in errs],
            ),
            request,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        logging.getLogger("unionops.http").exception("unhandled error")
        return problem_response(Problem(500, "服务器内部错误，请稍后重试"), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return problem_response(Problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None)), request)
