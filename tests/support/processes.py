"""Starting and stopping the stack's processes for a test module, and fixture factories for an
HTTP client on one of them or a connection to a service's database."""
from __future__ import annotations

import contextlib
from typing import AsyncIterator, Callable, Iterator, Protocol

import asyncpg
import httpx
import pytest

from devstack import welfare_calendar
from devstack.config import StackConfig
from devstack.processes import ServiceProcess, stop_services
from unionops import db as database
from unionops.clock import local_today

# No trace receiver runs in most of these tests; exporting would only retry and slow shutdown.
# Merge it into a ServiceProcess's extra env (`NO_TRACES | {...}`); never change it in place.
NO_TRACES = {"OTEL_EXPORTER_OTLP_ENDPOINT": ""}


def next_year_typed_in() -> dict[str, str]:
    """welfare's env for tests whose working-day deadlines may reach next year (a ticket opened
    in late December): devstack.welfare_calendar."""
    return welfare_calendar.typed_in(local_today().year + 1)


class Process(Protocol):
    """What `started` needs: devstack.processes' ServiceProcess and HelperProcess (the sinks)."""

    name: str

    def start(self) -> object: ...

    def stop(self) -> None: ...


@contextlib.contextmanager
def started(*processes: Process) -> Iterator[dict[str, Process]]:
    """Start the processes and stop them afterwards — also when one of them fails to start (that
    one too: it may have spawned its process before giving up, and stopping one that never ran
    does nothing). Helpers (the sinks) start first, one after another; then the services all at
    once, each waited for until ready (they need one another only through the broker, and each
    creates the topics it uses). Stopping signals every service at once, then the helpers.
    Yields the processes by name."""
    helpers = [p for p in processes if not isinstance(p, ServiceProcess)]
    services = [p for p in processes if isinstance(p, ServiceProcess)]
    with contextlib.ExitStack() as stops:
        for helper in helpers:
            stops.callback(helper.stop)
            helper.start()
        stops.callback(stop_services, services)
        for service in services:
            service.start(wait=False)
        for service in services:
            service.wait_ready()
        yield {p.name: p for p in processes}


def running(stack_config: StackConfig, *names: str) -> contextlib.AbstractContextManager[dict[str, ServiceProcess]]:
    """Start the named services as processes, in order, without tracing, and stop them all afterwards."""
    return started(*(ServiceProcess(stack_config, name, NO_TRACES) for name in names))


# Fixture factories: assign the result to the fixture's name in the test module, e.g.
# `notify = client_fixture(lambda stack: stack.url("notify"))`.

def client_fixture(base_url: Callable[[StackConfig], str], *, timeout: float = 10):
    """A module-scoped fixture: an httpx.Client on `base_url(stack)`, where `stack` is the
    module's fixture that starts the processes and yields the StackConfig."""

    @pytest.fixture(scope="module")
    def client(stack: StackConfig) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=base_url(stack), timeout=timeout) as c:
            yield c

    return client


def database_fixture(service: str):
    """A fixture: a connection to the service's database for each test (unionops.db.connect, so
    jsonb comes back decoded)."""

    @pytest.fixture
    async def db(stack_config: StackConfig) -> AsyncIterator[asyncpg.Connection]:
        conn = await database.connect(stack_config.dsn(service))
        yield conn
        await conn.close()

    return db
