"""The operations an app answers, taken from its OpenAPI document (the public view of its routes;
FastAPI's included routers are not a flat list of Starlette routes)."""
from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations(app: FastAPI) -> list[tuple[re.Pattern, str, dict[str, Any]]]:
    """(path regex, METHOD, OpenAPI operation) for every documented operation, built once."""
    table = getattr(app.state, "operations", None)
    if table is None:
        table = []
        for path, item in app.openapi().get("paths", {}).items():
            regex = re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$")
            for method, op in item.items():
                if method in _METHODS:
                    table.append((regex, method.upper(), op))
        app.state.operations = table
    return table


def allowed_methods(app: FastAPI, path: str) -> set[str]:
    methods = {method for regex, method, _ in operations(app) if regex.match(path)}
    return methods | ({"HEAD"} if "GET" in methods else set())


def operation(app: FastAPI, method: str, path: str) -> dict[str, Any] | None:
    return next((op for regex, m, op in operations(app) if m == method and regex.match(path)), None)
