"""The consumers of membership and the only place their handlers are registered.

`membership.hr`: HR systems' EmploymentChanged moves memberships with employment (commands.hr).
Its handler opens the sealed ID number with the service's vault: `employment.runtime.vault`
(create_app wires every consumer into the running service's Runtime)."""
from __future__ import annotations

import asyncpg

from contracts.events import EmploymentChanged
from membership.commands import hr
from unionops.consumer import IdempotentConsumer
from unionops.envelope import Envelope
from unionops.unit_of_work import UnitOfWork


employment = IdempotentConsumer("membership.hr")


@employment.on(EmploymentChanged)
async def employment_changed(conn: asyncpg.Connection, event: EmploymentChanged, env: Envelope) -> None:
    # The consumer's inbox transaction is the unit of work: the move and its events commit with it.
    await hr.apply_employment_change(UnitOfWork(conn), event, env, employment.runtime.vault)


# issue 14 · training

consumers = [
    employment,
    # issue 14 · training
]
