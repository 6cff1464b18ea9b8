"""What a phase of the year gets: `Year` — the city, the clock, the random generator, tokens, HTTP
calls to the services' replicas (retried safely), HR events, settling, and the counts the report
shows. The interface is described for phase authors in docs/benchmarks.md ("The year of the city")."""
from __future__ import annotations

import asyncio
import hashlib
import contextlib
import itertools
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable

import httpx
from aiokafka import AIOKafkaProducer

from devstack.year.clock import SimulatedClock
from unionops.auth import issue_token
from unionops.envelope import Envelope
from unionops.pii import Vault
from unionops.settings import CommonSettings


class YearFailed(Exception):
    """The year cannot go on: a request was refused that the plan needed, or a self-check failed."""


@dataclass
class Unit:
    id: str
    name: str
    level: str
    kind: str
    region_code: str
    parent_id: str | None
    district_id: str | None = None


@dataclass
class Employer:
    id: str
    name: str
    credit_code: str
    org_id: str
    union_id: str | None
    headcount: int
    ownership: str
    above_designated_size: bool


@dataclass
class Person:
    member_id: str
    name: str
    id_number: str
    union_id: str
    employer: str
    female: bool
    birth_date: date
    email: str
    phone: str
    status: str = "active"
    migrant_worker: bool = False   # 农民工 (the register's 是否农民工)


@dataclass
class City:
    root_id: str
    districts: list[Unit] = field(default_factory=list)
    streets: list[Unit] = field(default_factory=list)
    unions: list[Unit] = field(default_factory=list)
    employers: list[Employer] = field(default_factory=list)
    members: dict[str, Person] = field(default_factory=dict)
    merged_into: dict[str, str] = field(default_factory=dict)  # a union merged away → the one it went into

    def successor(self, unit_id: str) -> str:
        """The unit that now stands for `unit_id`: itself, or what it was merged into (a case opened
        before a merger is decided after it by the street of the union its members went to)."""
        unit_id = str(unit_id)
        while unit_id in self.merged_into:
            unit_id = self.merged_into[unit_id]
        return unit_id

    def unit(self, unit_id: str) -> Unit:
        for u in itertools.chain(self.districts, self.streets, self.unions):
            if u.id == unit_id:
                return u
        raise KeyError(unit_id)

    def active(self, union_id: str | None = None) -> list[Person]:
        return [p for p in self.members.values()
                if p.status == "active" and (union_id is None or p.union_id == union_id)]

    def sample_active(self, rng: random.Random, k: int) -> list[Person]:
        people = self.active()
        return rng.sample(people, min(k, len(people)))

    def unions_of(self, district_id: str) -> list[Unit]:
        return [u for u in self.unions if u.district_id == district_id]

    def district_of(self, unit_id: str) -> Unit:
        unit = self.unit(unit_id)
        return self.unit(unit.district_id) if unit.district_id else unit


@dataclass
class Scale:
    """The volumes of a city of `members` (the assumptions: docs/benchmarks.md)."""
    members: int

    def per_thousand(self, rate: float) -> int:
        """`rate` per 1,000 members, at least 1."""
        return max(1, round(self.members * rate / 1000))

    def share(self, fraction: float) -> int:
        return max(1, round(self.members * fraction))


@dataclass
class PhaseStats:
    name: str
    day: date
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0
    settle_seconds: float = 0.0
    requests: int = 0
    counts: Counter = field(default_factory=Counter)


RETRIED_STATUS = {502, 503, 504}


class Year:
    def __init__(self, *, clock: SimulatedClock, rng: random.Random, scale: Scale, urls: Callable[[str], list[str]],
                 bootstrap: str, settle: Callable[[], Any], year: int, membership_db: Any):
        self.clock = clock
        self.rng = rng
        self.scale = scale
        self.year = year
        self.city: City | None = None
        self.settings = CommonSettings()
        self._urls = urls
        self._bootstrap = bootstrap
        self._settle = settle
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(120, connect=5),
                                       limits=httpx.Limits(max_connections=64))
        self._turn = itertools.count()
        self._producer: AIOKafkaProducer | None = None
        self._hr_unconfirmed: dict[uuid.UUID, tuple] = {}  # HR events sent, not yet in membership's inbox
        self._vault = Vault.from_settings(self.settings)
        self._membership_db = membership_db
        self.people = None  # devstack.year.city.People, once the register is loaded
        self.phases: list[PhaseStats] = []
        self.closing: list[PhaseStats] = []  # the end of the year: settling, the checks, reconciling
        self.phase: PhaseStats | None = None
        self.trace_samples: list[tuple[str, str, tuple[str, ...]]] = []
        self.statuses: dict[str, Counter] = defaultdict(Counter)

    @contextlib.asynccontextmanager
    async def closing_step(self, name: str):
        """Times one step of the year's end for the report (its requests counted like a phase's)."""
        stats = PhaseStats(name, self.clock.today())
        self.phase, t0 = stats, time.monotonic()
        try:
            yield stats
        finally:
            stats.seconds = time.monotonic() - t0
            self.closing.append(stats)

    # ---- who acts ----------------------------------------------------------------------------
    def token(self, role: str, org_id: str, subject: str | None = None) -> str:
        """A staff JWT for `org_id`'s subtree, minted on the simulated clock."""
        return issue_token(self.settings, subject=subject or f"year-{role}-{org_id[:8]}", role=role,
                           name="年度演练", org_id=org_id)

    def admin_token(self) -> str:
        return self.token("federation_admin", self.city.root_id if self.city else str(self._root()), "year-admin")

    def _root(self):
        from unionops.auth import root_org_id
        return root_org_id(self.settings.city_region_code)

    def member_token(self, member_id: str) -> str:
        return issue_token(self.settings, subject=member_id, role="member", org_id=self.city.members[member_id].union_id)

    # ---- requests ----------------------------------------------------------------------------
    async def call(self, service: str, method: str, path: str, *, token: str, json: Any = None,
                   params: dict | None = None, files: Any = None, data: dict | None = None, key: str | None = None,
                   expect: tuple[int, ...] = (200, 201), trace: tuple[str, ...] | None = None,
                   headers: dict | None = None) -> httpx.Response:
        """One request to one of `service`'s replicas; a transport error or 502/503/504 (a replica
        killed, the broker away) is retried on the next replica with the same Idempotency-Key."""
        hdrs = {"Authorization": f"Bearer {token}", **(headers or {})}
        if key:
            # A header is ASCII: a key derived from a Chinese name (an employer's) goes as its digest.
            hdrs["Idempotency-Key"] = key if key.isascii() else "year-" + hashlib.sha256(key.encode()).hexdigest()
        delay = 0.2
        deadline = time.monotonic() + 180
        while True:
            urls = self._urls(service)
            if urls:
                base = urls[next(self._turn) % len(urls)]
                try:
                    r = await self._http.request(method, base + path, json=json, params=params, files=files,
                                                 data=data, headers=hdrs)
                except httpx.TransportError as exc:
                    r, error = None, repr(exc)
                else:
                    error = f"{r.status_code} {r.text[:300]}"
                if r is not None and r.status_code not in RETRIED_STATUS:
                    if self.phase:
                        self.phase.requests += 1
                    self.statuses[service][r.status_code] += 1
                    if r.status_code not in expect:
                        raise YearFailed(f"{method} {service}{path}: {r.status_code} {r.text[:500]}")
                    if trace and r.headers.get("X-Trace-Id"):
                        self.trace_samples.append((f"{method} {service}{path}", r.headers["X-Trace-Id"], trace))
                    return r
            else:
                error = "no replica running"
            if time.monotonic() > deadline:
                raise YearFailed(f"{method} {service}{path}: gave up after retries: {error}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3)

    async def get(self, service: str, path: str, *, token: str | None = None, params: dict | None = None) -> Any:
        return (await self.call(service, "GET", path, token=token or self.admin_token(), params=params)).json()

    async def member_ids(self, id_numbers: list[str]) -> list[str]:
        """The member ids of people just admitted or imported, in the order given: looked up in the
        register by ID number as an office clerk would (read-only, by membership's keyed hash — the
        import's answer is a summary, not a list of ids)."""
        hashes = [self._vault.lookup_hash("id_number", n) for n in id_numbers]
        rows = await self._membership_db.fetch(
            "SELECT h.hash, m.id::text AS id FROM unnest($1::text[]) h(hash) JOIN members m ON m.id_number_hash = h.hash",
            hashes)
        found = {r["hash"]: r["id"] for r in rows}
        missing = [i for i, h in enumerate(hashes) if h not in found]
        if missing:
            raise YearFailed(f"{len(missing)} of {len(hashes)} people are not in the register")
        return [found[h] for h in hashes]

    async def database_today(self) -> date:
        """The Beijing day of PostgreSQL's now()."""
        return await self._membership_db.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")

    # ---- HR systems --------------------------------------------------------------------------
    async def publish_hr(self, event) -> uuid.UUID:
        """An HR system's event on its restricted topic (hr.employment.v2), as such a system sends
        it: again until the broker takes it, and again after settling until membership has it in its
        inbox (a memory broker that restarts forgets what it had taken; membership's inbox dedupes)."""
        envelope = Envelope(id=uuid.uuid4(), type=event.event_type(), source="hr/year-payroll",
                            time=datetime.now(timezone.utc), data=event.model_dump(mode="json"), subject=event.key())
        message = (event.topic, envelope.value(), event.key().encode(), envelope.kafka_headers())
        self._hr_unconfirmed[envelope.id] = message
        await self._send_hr(*message)
        return envelope.id

    async def _send_hr(self, topic: str, value: bytes, key: bytes, headers) -> None:
        deadline = time.monotonic() + 120
        while True:
            try:
                if self._producer is None:
                    producer = AIOKafkaProducer(bootstrap_servers=self._bootstrap, acks="all",
                                                enable_idempotence=False)
                    try:
                        await producer.start()
                    except Exception:
                        await producer.stop()
                        raise
                    self._producer = producer
                await self._producer.send_and_wait(topic, value, key=key, headers=headers)
                return
            except Exception:  # the broker restarting under chaos: send again
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1)

    async def _confirm_hr(self) -> bool:
        """True when membership holds every HR event sent; those it lacks are sent again."""
        if not self._hr_unconfirmed:
            return True
        held = await self._membership_db.fetch("SELECT DISTINCT event_id FROM inbox WHERE event_id = ANY($1::uuid[])",
                                               list(self._hr_unconfirmed))
        for row in held:
            self._hr_unconfirmed.pop(row["event_id"], None)
        for message in list(self._hr_unconfirmed.values()):
            await self._send_hr(*message)
        return not self._hr_unconfirmed

    # ---- progress ----------------------------------------------------------------------------
    def count(self, what: str, n: int = 1) -> None:
        if self.phase:
            self.phase.counts[what] += n

    async def settle(self) -> None:
        await self._settle()
        while not await self._confirm_hr():
            await self._settle()

    async def close(self) -> None:
        await self._http.aclose()
        if self._producer is not None:
            await self._producer.stop()
