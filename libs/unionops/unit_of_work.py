"""One way to run a command: a unit of work is one connection, one transaction, the
Idempotency-Key claim (for creating requests) and the events the command stages, committed
together or not at all.

Every write of every service goes through `Commands.run` or `Commands.create` (API) or
`UnitOfWork.begin` (background work and tools); the consumer's inbox transaction
(unionops.consumer) is the one other place a transaction begins. A command is a plain
`async def command(uow, …)` in the service's `commands/` package: it reads and writes through
`uow.conn` and stages its events with `uow.stage(...)` / `uow.stage_select(...)`.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence, TypeVar

import asyncpg

from contracts.events import DomainEvent
from unionops import idempotency, outbox

T = TypeVar("T")


@dataclass
class UnitOfWork:
    """The transaction a command runs in. `conn` is inside the transaction; events staged here
    are written to the outbox in it (and published by the relay after the commit)."""

    conn: asyncpg.Connection

    async def stage(self, *events: DomainEvent, subject: str | None = None,
                    trace_headers: Sequence[dict[str, str]] | None = None) -> list:
        """Stage events raised by this command (one statement for all of them)."""
        return await outbox.record_many(self.conn, events, subject=subject, trace_headers=trace_headers)

    async def stage_select(self, event: type[DomainEvent], select: str, *args: Any,
                           order_by: Sequence[str] = ()) -> int:
        """Stage one `event` per row of `select` (set-based; see `outbox.record_select`)."""
        return await outbox.record_select(self.conn, event, select, *args, order_by=order_by)

    @classmethod
    @contextlib.asynccontextmanager
    async def begin(cls, pool: asyncpg.Pool) -> AsyncIterator["UnitOfWork"]:
        """A unit of work on a connection of `pool`: committed when the block ends, rolled back
        (nothing written, nothing staged) when it raises."""
        async with pool.acquire() as conn, conn.transaction():
            yield cls(conn)

    @classmethod
    @contextlib.asynccontextmanager
    async def within(cls, conn: asyncpg.Connection) -> AsyncIterator["UnitOfWork"]:
        """A unit of work on a connection the caller holds (a long import, a test): a
        transaction of its own, or a savepoint when one is already open."""
        async with conn.transaction():
            yield cls(conn)


Command = Callable[[UnitOfWork], Awaitable[T]]


class Commands:
    """The command entry of a request (FastAPI dependency `unionops.dependencies.CommandsDep`)."""

    def __init__(self, pool: asyncpg.Pool, method: str, path: str) -> None:
        self.pool = pool
        self.method = method
        self.path = path

    async def run(self, command: Command[T]) -> T:
        """Run `command` in one transaction; its result is returned after the commit."""
        async with UnitOfWork.begin(self.pool) as uow:
            return await command(uow)

    async def on_connection(self, job: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run a job that manages its own units of work on one held connection
        (`UnitOfWork.within(conn)`): the member import rolls a dry run back and then records
        the attempt, and answers 200 or 201 itself."""
        async with self.pool.acquire() as conn:
            return await job(conn)

    def idempotency_scope(self, subject: str) -> str:
        return f"{subject}:{self.method}:{self.path}"

    async def create(self, command: Command[Any], *, subject: str, key: str | None, payload: Any,
                     status_code: int = 201):
        """Run a creating command with its `Idempotency-Key` claimed in the same transaction.

        The response (`status_code`, the command's result as JSON) is stored under the key and
        replayed with `Idempotent-Replayed: true` when the same caller sends the same request
        again; the same key with another body is refused (422). `payload` is what identifies
        the request — with keyed hashes in place of personal data, since it is stored."""
        from fastapi.encoders import jsonable_encoder
        from fastapi.responses import JSONResponse

        key = idempotency.validate_key(key)
        scope = self.idempotency_scope(subject)
        async with UnitOfWork.begin(self.pool) as uow:
            replay = await idempotency.claim(uow.conn, scope, key, payload)
            if replay is not None:
                return JSONResponse(replay.body, status_code=replay.status_code,
                                    headers={"Idempotent-Replayed": "true"})
            body = jsonable_encoder(await command(uow))
            await idempotency.complete(uow.conn, scope, key, status_code, body)
        return JSONResponse(body, status_code=status_code)


@contextlib.asynccontextmanager
async def refusing_duplicates(conn: asyncpg.Connection, refusal: Exception) -> AsyncIterator[None]:
    """Writes a unique constraint may refuse, in a savepoint: a violation becomes `refusal`
    (a RuleViolation with its 409 and Chinese message) while the command's transaction stays
    usable, instead of failing the whole unit of work with a database error."""
    try:
        async with conn.transaction():
            yield
    except asyncpg.UniqueViolationError:
        raise refusal from None
