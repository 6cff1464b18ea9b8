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

from typing import Annotated, AsyncIterator, TypeVar

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
    return rt.pool


PoolDep = Annotated[asyncpg.Pool, Depends(pool)]


async def connection(rt: RuntimeDep) -> AsyncIterator[asyncpg.Connection]:
    """One pooled connection held for the whole request, where several reads must share it or
    a long job runs on it (no transaction: commands take `CommandsDep`, which opens its own).
    Single reads take `PoolDep` and a query typed `unionops.db.Reader`: FastAPI solves
    dependencies before it refuses an invalid body, so this one is taken even for a request
    that is then refused."""
    async with rt.pool.acquire() as conn:
        yield conn


ConnectionDep = Annotated[asyncpg.Connection, Depends(connection)]


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
