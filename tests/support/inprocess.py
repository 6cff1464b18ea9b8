"""The in-process test layer: commands and projections called directly on the session's real
PostgreSQL, each service in its own database migrated once per session, every test inside
transactions that are rolled back; and a loopback that hands the outbox rows one service staged
to another service's consumer — the same inbox dedupe and handler dispatch as behind the broker
(IdempotentConsumer.apply) — without a broker or a service process."""
from __future__ import annotations

import json
import uuid
from typing import Awaitable, Callable

import asyncpg

from contracts.events import DomainEvent, event_class
from devstack.config import StackConfig
from tests.support.people import ROOT, SETTINGS, new_resident_id
from tests.support.services import (CONSUMERS, MIGRATIONS, AdmitMember, EstablishUnion, OpenCase, TransferMember,
                                    admit_member, ensure_city_root, establish_union, make_consumers_ready,
                                    merge_union, move_unit, open_case as open_assistance_case, transfer_member)
from unionops.unit_of_work import UnitOfWork
from unionops.clock import local_today
from unionops.pii import Vault
from unionops import db as database
from unionops.auth import Principal
from unionops.envelope import Envelope

SERVICES = tuple(MIGRATIONS)
VAULT = Vault.from_settings(SETTINGS)
make_consumers_ready(SETTINGS, VAULT)
CITY_ADMIN = Principal(subject="test-admin", name="测试管理员", role="federation_admin", org_id=ROOT)


def database_name(service: str) -> str:
    """Apart from the databases the service processes use, so the layers never see each other's rows."""
    return f"inprocess_{service}"


async def migrate_databases(stack: StackConfig) -> dict[str, str]:
    """Each service's database, created and migrated (unionops.migrate); the DSNs by service.
    membership's city root is committed as its start-up commits it."""
    dsns = {}
    for service in SERVICES:
        await database.ensure_database(stack.dsn("postgres"), database_name(service))
        dsns[service] = stack.dsn(database_name(service))
        await database.migrate(dsns[service], MIGRATIONS[service])
    conn = await database.connect(dsns["membership"])
    try:
        async with conn.transaction():
            await ensure_city_root(UnitOfWork(conn), SETTINGS.city_region_code, SETTINGS.city_name)
    finally:
        await conn.close()
    return dsns


RolledBack = Callable[[str], Awaitable[asyncpg.Connection]]


class Transactions:
    """One connection per service for a test, each inside a transaction that `rollback_all`
    rolls back: nothing a test does is ever committed."""

    def __init__(self, dsns: dict[str, str]) -> None:
        self.dsns = dsns
        self.open: dict[str, tuple[asyncpg.Connection, asyncpg.transaction.Transaction]] = {}

    async def __call__(self, service: str) -> asyncpg.Connection:
        if service not in self.open:
            conn = await database.connect(self.dsns[service])
            tx = conn.transaction()
            await tx.start()
            self.open[service] = (conn, tx)
        return self.open[service][0]

    async def rollback_all(self) -> None:
        for conn, tx in self.open.values():
            try:
                await tx.rollback()
            finally:
                await conn.close()
        self.open.clear()


async def staged(conn: asyncpg.Connection, *, after: int = 0) -> list[asyncpg.Record]:
    """The outbox rows staged in this connection's transaction (and any before it), in order."""
    return await conn.fetch("SELECT * FROM outbox WHERE id > $1 ORDER BY id", after)


def envelope(row: asyncpg.Record, source: str) -> Envelope:
    """An outbox row as the consumer receives it from the broker: the relay's CloudEvent."""
    payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])
    return Envelope(id=row["event_id"], type=row["event_type"], source=source, time=row["occurred_at"],
                    data=payload, subject=row["subject"], topic=row["topic"], key=row["key"])


def staged_event(row: asyncpg.Record) -> DomainEvent:
    """An outbox row read back as its contract model: raises when the payload breaks the contract."""
    return event_class(row["event_type"]).model_validate(envelope(row, "test").data)


async def loopback(source: asyncpg.Connection, consumer_service: str, target: asyncpg.Connection,
                   *, source_name: str = "membership") -> int:
    """Hand every outbox row staged in `source` to `consumer_service`'s consumer inside
    `target`'s transaction; returns how many events were fresh there. Rows handed over before
    are handed again and stopped by the inbox, as a redelivery is."""
    envelopes = [envelope(row, source_name) for row in await staged(source)]
    return await CONSUMERS[consumer_service].apply(target, envelopes)



# ---- membership's commands, called directly -------------------------------------------------------

async def found(conn: asyncpg.Connection, parent_id: uuid.UUID, level: str, kind: str, name: str | None = None
                ) -> uuid.UUID:
    """A unit established by the city admin (stages UnionEstablished)."""
    name = name or f"{kind}-{uuid.uuid4().hex[:6]}"
    unit = await establish_union(UnitOfWork(conn), EstablishUnion(parent_id=parent_id, name=name, level=level, kind=kind,
                                                      region_code="510104", established_on=local_today()), CITY_ADMIN)
    return uuid.UUID(str(unit["id"]))


async def branch(conn: asyncpg.Connection, label: str) -> list[uuid.UUID]:
    """district → street → grassroots under the city root; their ids, root side first."""
    suffix = uuid.uuid4().hex[:6]
    district = await found(conn, ROOT, "district", "district_federation", f"{label}区总工会{suffix}")
    street = await found(conn, district, "street", "street_union", f"{label}街道工会{suffix}")
    return [district, street, await found(conn, street, "grassroots", "enterprise_union", f"{label}机械厂工会{suffix}")]


async def admit(conn: asyncpg.Connection, union_id: uuid.UUID, name: str = "王秀英", *, female: bool | None = None,
                **extra) -> uuid.UUID:
    """A member admitted (stages MemberJoined and the contact event)."""
    cmd = AdmitMember(**{"union_id": union_id, "name": name, "id_number": new_resident_id(female=female), "phone": None,
                         "email": None, "employer": None, "is_migrant_worker": False, "joined_on": local_today()}
                      | extra)
    member = await admit_member(UnitOfWork(conn), cmd, CITY_ADMIN, VAULT)
    return uuid.UUID(str(member["id"]))


async def transfer(conn: asyncpg.Connection, member_id: uuid.UUID, to_union_id: uuid.UUID) -> None:
    """The member transferred to another union, effective today (stages MemberTransferred)."""
    await transfer_member(UnitOfWork(conn), TransferMember(member_id=member_id, to_union_id=to_union_id, new_employer="新单位有限公司",
                                               new_employer_credit_code=None, residence_region_code=None,
                                               effective_on=local_today()), CITY_ADMIN)


async def move(conn: asyncpg.Connection, org_id: uuid.UUID, new_parent_id: uuid.UUID) -> None:
    """A unit moved with its subtree under another parent (stages UnionMoved)."""
    await move_unit(UnitOfWork(conn), org_id, new_parent_id, CITY_ADMIN, local_today())


async def merge(conn: asyncpg.Connection, union_id: uuid.UUID, into_id: uuid.UUID) -> None:
    """A union merged into another: its members are transferred (MemberTransferred, union_merged)."""
    await merge_union(UnitOfWork(conn), union_id, into_id, CITY_ADMIN, local_today())


def staff(org_id: uuid.UUID, subject: str = "区总工会干事") -> Principal:
    return Principal(subject=subject, name=subject, role="staff", org_id=org_id)


# ---- welfare's commands -----------------------------------------------------------------------------

async def open_case(conn: asyncpg.Connection, member_id: uuid.UUID, actor: Principal, *, kind: str = "living",
                    summary: str = "家庭困难") -> dict:
    """An assistance case opened by `actor` (stages CaseOpened); RuleViolation as an unknown member
    when the member is outside the actor's subtree."""
    return await open_assistance_case(UnitOfWork(conn), OpenCase(member_id=member_id, kind=kind, source="application",
                                                     summary=summary, today=local_today()), actor, VAULT)
