"""The fixtures every integration module shares. A module says which service processes it needs
in its `pytestmark`, and this file has them running for the module (a service the previous
module ran with the same environment is kept rather than started again; see KeptServices):

    pytestmark = [pytest.mark.integration,
                  pytest.mark.services("membership", "welfare",
                                       env={"welfare": {"HARDSHIP_SWEEP_INTERVAL_SECONDS": "1"}},
                                       sinks=("smtpsink",), subject="welfare")]

- `names`: started in order, after the `sinks` (tracesink, smtpsink, httpsink). Services export
  no traces unless the tracesink is among the sinks.
- `env`: extra environment per service.
- `subject`: the service `http` and `db` speak to; the last name by default.

Fixtures: `services` (the processes by name, module-scoped), `stack` (the StackConfig once they
run), `membership` (the city admin's `Membership` client, module-scoped), `client` (a plain
httpx.Client on membership), `http` (an httpx.AsyncClient on the subject), `db` (a connection to
the subject's database), `sink` (the last sink named), `records` (looks into membership's
database)."""
from __future__ import annotations

from typing import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest

from devstack.config import StackConfig
from devstack.processes import ServiceProcess, httpsink, smtpsink, stop_services, tracesink
from tests.support.membership import Database, Membership
from tests.support.processes import NO_TRACES, Process, started
from unionops import db as database

SINKS = {"tracesink": tracesink, "smtpsink": smtpsink, "httpsink": httpsink}


def _declared(request: pytest.FixtureRequest) -> pytest.Mark:
    mark = request.node.get_closest_marker("services")
    if mark is None:
        pytest.fail(f"{request.node.nodeid} uses the started services but declares none: "
                    "add pytest.mark.services(...) to its pytestmark")
    return mark


def _subject(request: pytest.FixtureRequest) -> str:
    mark = _declared(request)
    return mark.kwargs.get("subject", mark.args[-1])


class KeptServices:
    """Service processes kept from one module to the next where the next declares the same
    service with the same environment (starting one costs seconds; most modules need membership
    as it is). Whatever the next module does not declare so is stopped before it starts, and a
    module that declares no services (it may stop the broker or start its own processes) finds
    none running."""

    def __init__(self, stack_config: StackConfig) -> None:
        self.stack_config = stack_config
        self.running: dict[str, tuple[tuple, ServiceProcess]] = {}

    def provide(self, wanted: list[tuple[str, dict[str, str]]]) -> dict[str, ServiceProcess]:
        kept, fresh = {}, []
        for name, env in wanted:
            key = tuple(sorted(env.items()))
            known = self.running.get(name)
            if known and known[0] == key and known[1].proc is not None and known[1].proc.poll() is None:
                kept[name] = known[1]
            else:
                fresh.append((name, key, ServiceProcess(self.stack_config, name, env)))
        stop_services([p for name, (_, p) in self.running.items() if name not in kept])
        self.running = {name: self.running[name] for name in kept}
        for name, key, process in fresh:
            self.running[name] = (key, process)
            process.start(wait=False)
        for _, _, process in fresh:
            process.wait_ready()
        return {name: self.running[name][1] for name, _ in wanted}

    def stop_all(self) -> None:
        stop_services([p for _, p in self.running.values()])
        self.running = {}


@pytest.fixture(scope="package")
def kept_services(infra, stack_config: StackConfig) -> Iterator[KeptServices]:
    kept = KeptServices(stack_config)
    yield kept
    kept.stop_all()


@pytest.fixture(scope="module", autouse=True)
def _only_declared_services_run(request, kept_services: KeptServices) -> None:
    if request.node.get_closest_marker("services") is None:
        kept_services.stop_all()


@pytest.fixture(scope="module")
def services(request, infra, stack_config: StackConfig, kept_services: KeptServices) -> Iterator[dict[str, Process]]:
    mark = _declared(request)
    sinks = mark.kwargs.get("sinks", ())
    exports = {} if "tracesink" in sinks else NO_TRACES
    env = mark.kwargs.get("env", {})
    with started(*(SINKS[name](stack_config) for name in sinks)) as helpers:
        try:
            processes = kept_services.provide([(name, exports | env.get(name, {})) for name in mark.args])
        except Exception:
            kept_services.stop_all()
            raise
        yield helpers | processes


@pytest.fixture(scope="module")
def stack(services, stack_config: StackConfig) -> StackConfig:
    """The module's services are running; URLs and DSNs come from here."""
    return stack_config


@pytest.fixture(scope="module")
def membership(services) -> Iterator[Membership]:
    with Membership(services["membership"].url) as client:
        yield client


@pytest.fixture
def client(services) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=services["membership"].url, timeout=60) as c:
        yield c


@pytest.fixture
async def http(request, services) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=services[_subject(request)].url, timeout=30) as c:
        yield c


@pytest.fixture
async def db(request, services, stack_config: StackConfig) -> AsyncIterator[asyncpg.Connection]:
    """unionops.db.connect, so jsonb comes back decoded."""
    conn = await database.connect(stack_config.dsn(_subject(request)))
    yield conn
    await conn.close()


@pytest.fixture(scope="module")
def sink(request, services, stack_config: StackConfig) -> Iterator[httpx.Client]:
    """A client of the last sink the module names (the SMTP sink or the SMS/robot provider sink);
    whatever failure mode a test set is switched off after the module."""
    url = {"smtpsink": stack_config.smtpsink_url, "httpsink": stack_config.httpsink_url}[
        _declared(request).kwargs["sinks"][-1]]
    with httpx.Client(base_url=url, timeout=10) as c:
        yield c
        c.post("/control/fail", json={"mode": "off"})


@pytest.fixture
def records(stack_config: StackConfig) -> Database:
    """Read-only looks into membership's database: its outbox per member, table counts."""
    return Database(stack_config.dsn("membership"))
