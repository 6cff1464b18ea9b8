"""The consumers of membership and the only place their handlers are registered.

`membership.hr`: HR systems' EmploymentChanged moves memberships with employment (commands.hr).
`membership.training`: competitions' TrainingCompleted goes into the member file (commands.training).
The HR handler opens the sealed ID number with the service's vault: `employment.runtime.vault`
(create_app wires every consumer into the running service's Runtime)."""
from __future__ import annotations

import asyncpg

from contracts.events import EmploymentChanged, TrainingCompleted
from membership.commands import hr
from membership.commands import training as training_file
from unionops.consumer import IdempotentConsumer, Received
from unionops.envelope import Envelope
from unionops.unit_of_work import UnitOfWork

employment = IdempotentConsumer("membership.hr")


@employment.on(EmploymentChanged)
async def employment_changed(conn: asyncpg.Connection, event: EmploymentChanged, env: Envelope) -> None:
    # The consumer's inbox transaction is the unit of work: the move and its events commit with it.
    await hr.apply_employment_change(UnitOfWork(conn), event, env, employment.runtime.vault)


# `membership.training`: competitions' TrainingCompleted (结业, its certificate) becomes a
# `training_completed` entry of the member file (commands.training), one INSERT per batch.
training = IdempotentConsumer("membership.training")


@training.on_batch(TrainingCompleted)
async def trainings_completed(conn: asyncpg.Connection, batch: list[Received]) -> None:
    await training_file.record_completions(UnitOfWork(conn), batch)


consumers = [employment, training]
