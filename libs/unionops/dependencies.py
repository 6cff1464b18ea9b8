"""Typed FastAPI dependencies: what an endpoint needs, declared in its signature instead of
looked up in `request.app.state`. For example::

    @router.post("/cases", status_code=201)
    async def open_case(body: CaseIn, commands: CommandsDep, settings: SettingsDep[Settings],
                        principal: Principal = Depends(requires("write")), idempotency_key: str | None = Header(None)):
        return await commands.create(lambda uow: cases.open_case(uow, ...), subject=principal.subject,
                                     key=idempotency_key, payload=body.model_dump(mode="json"))

A service's own objects (notify's templates, a dispatcher) are registered with
`create_app(components=[...])` and taken with `component(Type)`; its settings with
`SettingsDep[ItsSettings]`.
"""
from __future__ import annotations

from typing import Annotated, TypeVar

import asyncpg
from fastapi import Depends, Request

from unionops.pii import Vault
from unionops.service import Runtime
from unionops.settings import CommonSettings
from unionops.unit_of_work import Commands

T = TypeVar("T")
S = TypeVar("S", bound=CommonSettings)


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def pool(rt: RuntimeDep) -> asyncpg.Pool:
    """For reads: a query takes `unionops.db.Reader` (the pool, or a connection a command holds).
    There is deliberately no per-request connection dependency: FastAPI solves dependencies
    before it refuses invalid parameters, so every refused request would take a connection
    (and the apps of the bad-input tests, which run without a pool, would answer 500)."""
    return rt.pool


PoolDep = Annotated[asyncpg.Pool, Depends(pool)]


def vault(rt: RuntimeDep) -> Vault:
    return rt.vault


VaultDep = Annotated[Vault, Depends(vault)]


def commands(request: Request, rt: RuntimeDep) -> Commands:
    return Commands(rt.pool, request.method, request.url.path)


CommandsDep = Annotated[Commands, Depends(commands)]


def settings(rt: RuntimeDep) -> CommonSettings:
    return rt.settings


class _SettingsOf:
    """`SettingsDep[WelfareSettings]`: the running service's settings, typed as its own class."""

    def __getitem__(self, cls: type[S]):
        return Annotated[cls, Depends(settings)]


SettingsDep = _SettingsOf()


def component(cls: type[T]):
    """`Annotated[Templates, component(Templates)]`-style dependency on an object the service
    registered with `create_app(components=[...])`, found by its type."""

    def get(rt: RuntimeDep) -> T:
        return rt.component(cls)

    get.__name__ = f"component_{cls.__name__}"
    return Depends(get)
