"""The year's system on free ports (issue 15), and the faults it must survive.

`YearStack` starts PostgreSQL and the broker, the trace receiver, the SMTP and HTTP sinks and the
four services, some as several replicas: each replica is its own OS process with its own HTTP
port (`<SERVICE>_HTTP_PORT`) and shares its service's database — hence its outbox relay lock
(one leader, the others stand by), its consumer groups (named by the service's consumers, so the
partitions are shared) and notify's delivery leases. `Chaos` SIGKILLs random replicas at random
moments, restarts each after a short random delay as a supervisor would, and restarts the broker
(which forgets its log) at least once.

Everything here blocks (process starts, readiness polls) and runs `asyncio.run` once (creating
the databases): the driver's asyncio loop calls it through `asyncio.to_thread`; `Chaos` acts in a
thread of its own, drawing only from its own rng. `env` reaches every process but the broker
(the simulated clock: LD_PRELOAD, FAKETIME_*); the broker keeps the machine's clock, since it
times the consumer groups' sessions."""
from __future__ import annotations

import dataclasses
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import httpx

from devstack.config import SERVICES, StackConfig, free_port
from devstack.processes import HelperProcess, Infrastructure, ServiceProcess, httpsink, smtpsink, stop_services, tracesink

DEFAULT_REPLICAS = {"membership": 2, "notify": 2}  # the others run once
READY_TIMEOUT = 120.0  # a replica's start on 2 busy cores, migrations included


@dataclass
class Replica:
    """One replica of a service (`index` from 0; replica 0 listens on the config's port)."""

    service: str
    index: int
    process: ServiceProcess

    @property
    def name(self) -> str:
        return f"{self.service}#{self.index}"

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def alive(self) -> bool:
        return self.process.proc is not None and self.process.proc.poll() is None

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        self.process.wait_ready(timeout)


def ready_state(url: str) -> dict | None:
    """A replica's /health/ready body (database and broker checks, `relay_leader`); None when it
    does not answer 200."""
    try:
        r = httpx.get(url + "/health/ready", timeout=3)
    except httpx.HTTPError:
        return None
    return r.json() if r.status_code == 200 else None


class YearStack:
    """The whole system for the year in `cfg`'s state folder and ports. `replicas`: how many
    processes per service (None: DEFAULT_REPLICAS; a service not named runs once). `env`: added
    to every process's environment but the broker's. `service_env`: more per service (a test's
    short notify lease). Use as a context manager, or `start()` … `stop()`."""

    def __init__(self, cfg: StackConfig, *, replicas: dict[str, int] | None = None, env: dict[str, str],
                 log: Callable[[str], None] = print, service_env: dict[str, dict[str, str]] | None = None,
                 fsync: bool = False) -> None:
        counts = {s: 1 for s in SERVICES} | dict(DEFAULT_REPLICAS if replicas is None else replicas)
        if set(counts) - set(SERVICES) or min(counts.values()) < 1:
            raise ValueError(f"replicas: at least one of each of {SERVICES}, got {replicas}")
        self.cfg = cfg
        self.env = dict(env)
        self.log = log
        # fsync off by default: a simulation whose PostgreSQL is never killed loses nothing by it.
        self.infra = Infrastructure(cfg, fsync=fsync, env=self.env)
        self.sinks: list[HelperProcess] = [make(cfg) for make in (tracesink, smtpsink, httpsink)]
        for sink in self.sinks:
            sink.extra_env = dict(self.env)
        extra = service_env or {}
        self._replicas: dict[str, list[Replica]] = {}
        for service, n in counts.items():
            self._replicas[service] = []
            for i in range(n):
                port = cfg.service_ports[service] if i == 0 else free_port()
                config = dataclasses.replace(cfg, service_ports={**cfg.service_ports, service: port})
                process = ServiceProcess(config, service, {**self.env, **extra.get(service, {})},
                                         log_name=f"{service}-{i}")
                self._replicas[service].append(Replica(service, i, process))
        self._lock = threading.RLock()  # process table changes (chaos thread vs. the driver)
        self._started = False

    # ---- whole stack ----------------------------------------------------------------------------

    def start(self) -> "YearStack":
        """Everything up: infrastructure, sinks, every replica ready, one relay leader per service.
        On any failure whatever was started is stopped again before the error is raised."""
        began = time.monotonic()
        self._started = True
        try:
            self.infra.start()
            for sink in self.sinks:
                sink.start()
            every = self.all_replicas()
            for replica in every:  # all at once (migrations wait for one another's lock)
                replica.process.start(wait=False)
            for replica in every:
                replica.wait_ready()
            self.wait_for_leaders()
        except BaseException:
            self.stop()
            raise
        self.log(f"stack ready in {time.monotonic() - began:.1f}s: "
                 + ", ".join(f"{s}×{len(rs)}" for s, rs in self._replicas.items()))
        return self

    def stop(self) -> None:
        """Services first (SIGTERM to all, SIGKILL after 15 s), then the sinks, then the broker and
        PostgreSQL. Every step is tried whatever the one before raised; safe to call twice."""
        if not self._started:
            return
        with self._lock:
            steps = [lambda: stop_services([r.process for r in self.all_replicas()]),
                     *(sink.stop for sink in reversed(self.sinks)), self.infra.stop]
            for step in steps:
                try:
                    step()
                except Exception as exc:  # go on: nothing may be left running
                    self.log(f"stopping: {type(exc).__name__}: {exc}")
            self._started = False

    def __enter__(self) -> "YearStack":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- replicas -------------------------------------------------------------------------------

    @property
    def services(self) -> list[str]:
        return list(self._replicas)

    def all_replicas(self) -> list[Replica]:
        return [r for rs in self._replicas.values() for r in rs]

    def replicas(self, service: str) -> list[Replica]:
        """Every replica of the service, alive or not (`Replica.alive`, `.url`, `.name`)."""
        return list(self._replicas[service])

    def urls(self, service: str) -> list[str]:
        """Base URLs of the service's replicas whose process is running (a just restarted one may
        still be starting: callers retry transport errors and 503)."""
        return [r.url for r in self._replicas[service] if r.alive]

    def kill(self, service: str, index: int) -> None:
        """SIGKILL: no shutdown hook runs, claims and leases are left as a crash leaves them."""
        with self._lock:
            replica = self._replicas[service][index]
            replica.process.kill()
        self.log(f"killed {replica.name} (SIGKILL)")

    def start_replica(self, service: str, index: int, *, timeout: float = READY_TIMEOUT) -> None:
        """Start the replica again on its port (if it is not running) and wait until it is ready."""
        replica = self._replicas[service][index]
        with self._lock:
            if not replica.alive:
                replica.process.start(wait=False)
        replica.wait_ready(timeout)
        self.log(f"started {replica.name}")

    def restart_broker(self) -> None:
        """Stop and start the broker: the memory broker comes back empty (topics, records,
        consumer-group offsets); the relays notice and publish again (unionops.relay). Returns
        once the broker accepts connections."""
        with self._lock:
            self.infra.stop_broker()
            self.infra.start_broker()
        self.log("broker restarted (its log is gone)")

    # ---- readiness ------------------------------------------------------------------------------

    def leaders(self, service: str) -> list[str]:
        """Names of the service's replicas that say they hold the relay lock."""
        return [r.name for r in self._replicas[service] if r.alive and (ready_state(r.url) or {}).get("relay_leader")]

    def wait_for_leaders(self, timeout: float = 30.0) -> dict[str, str]:
        """Until every service has exactly one relay leader (a standby polls the lock every 2 s);
        returns service -> leader."""
        deadline = time.monotonic() + timeout
        while True:
            found = {s: self.leaders(s) for s in self._replicas}
            if all(len(names) == 1 for names in found.values()):
                return {s: names[0] for s, names in found.items()}
            if time.monotonic() > deadline:
                raise TimeoutError(f"relay leaders after {timeout}s: {found}")
            time.sleep(0.5)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Until every running replica answers ready and reaches the broker."""
        deadline = time.monotonic() + timeout
        while True:
            waiting = [r.name for r in self.all_replicas() if r.alive
                       and not ((ready_state(r.url) or {}).get("checks") or {}).get("broker")]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready with the broker after {timeout}s: {waiting}")
            time.sleep(0.3)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Chaos:
    """Faults while the year runs, from a thread of its own (the stack's calls block; the driver's
    asyncio loop goes on meanwhile): after a random pause (exponential, mean `mean_interval_s`) it
    SIGKILLs a random replica of a random service and restarts it after a random delay
    (`restart_delay_s`), or — with chance `broker_share` until it has done so once — restarts the
    broker. One fault at a time, so every draw of `rng` happens in the same order in every run of
    a seed. `timeline` lists what was done: {at_real, what: "kill"|"broker-restart", target,
    recovered_after_s} (recovery: until the replica is ready again, or until the broker is back and
    every replica reaches it). `real_now` gives the machine's time for `at_real` (the driver may run
    on the simulated clock); durations are measured with time.monotonic."""

    def __init__(self, stack: YearStack, rng: random.Random, log: Callable[[str], None] = print, *,
                 mean_interval_s: float = 30.0, restart_delay_s: tuple[float, float] = (1.0, 5.0),
                 broker_share: float = 0.25, services: list[str] | None = None,
                 real_now: Callable[[], datetime] = _utcnow) -> None:
        self.stack = stack
        self.rng = rng
        self.log = log
        self.mean_interval_s = mean_interval_s
        self.restart_delay_s = restart_delay_s
        self.broker_share = broker_share
        self.services = sorted(services or stack.services)
        self.real_now = real_now
        self.timeline: list[dict] = []
        self.errors: list[str] = []
        self._stopping = threading.Event()
        self._acting = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def broker_restarts(self) -> int:
        return sum(1 for t in self.timeline if t["what"] == "broker-restart")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """No new fault; a fault under way finishes (its replica restarted), and any replica still
        down is started, so the year ends on a whole system."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        with self._acting:
            for replica in self.stack.all_replicas():
                if not replica.alive:
                    self.stack.start_replica(replica.service, replica.index)

    def ensure_broker_restart(self) -> None:
        """Restart the broker now unless chaos has already done so (the year may end before the
        random moment came)."""
        if self.broker_restarts == 0:
            self._restart_broker()

    def _run(self) -> None:
        while not self._stopping.wait(self.rng.expovariate(1.0 / self.mean_interval_s)):
            try:
                if self.broker_restarts == 0 and self.rng.random() < self.broker_share:
                    self._restart_broker()
                else:
                    self._kill_one()
            except Exception as exc:  # recorded for the report; the year's invariants judge the rest
                self.errors.append(f"{type(exc).__name__}: {exc}")
                self.log(f"chaos: {type(exc).__name__}: {exc}")

    def _kill_one(self) -> None:
        service = self.rng.choice(self.services)
        replica = self.rng.choice(self.stack.replicas(service))
        delay = self.rng.uniform(*self.restart_delay_s)
        with self._acting:
            at, began = self.real_now(), time.monotonic()
            self.stack.kill(service, replica.index)
            self._stopping.wait(delay)  # a supervisor's back-off (cut short when chaos stops)
            self.stack.start_replica(service, replica.index)
            self._record(at, "kill", replica.name, time.monotonic() - began, restart_delay_s=round(delay, 2))

    def _restart_broker(self) -> None:
        with self._acting:
            at, began = self.real_now(), time.monotonic()
            self.stack.restart_broker()
            self.stack.wait_ready()
            self._record(at, "broker-restart", "broker", time.monotonic() - began)

    def _record(self, at: datetime, what: str, target: str, recovered_after_s: float, **more: object) -> None:
        entry = {"at_real": at.isoformat(timespec="seconds"), "what": what, "target": target,
                 "recovered_after_s": round(recovered_after_s, 2), **more}
        self.timeline.append(entry)
        self.log(f"chaos: {what} {target}, recovered after {entry['recovered_after_s']}s")
