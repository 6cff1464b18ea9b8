"""The consumers of membership and the only place their handlers are registered.

`membership.hr`: HR systems' EmploymentChanged moves memberships with employment (commands.hr).
Its handler opens the sealed ID number with the service's vault, which `provide_vault` (a
start-up hook, run before the broker starts) puts into `needs` — the one typed object handlers
take their dependencies from."""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from contracts.events import EmploymentChanged
from membership.commands import hr
from unionops.consumer import IdempotentConsumer
from unionops.envelope import Envelope
from unionops.pii import Vault
from unionops.service import Runtime
from unionops.unit_of_work import UnitOfWork


@dataclass
class HandlerNeeds:
    """What handlers need beyond their connection, set once at start-up."""

    _vault: Vault | None = None

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            raise RuntimeError("membership consumers: the vault is provided at start-up (consumers.provide_vault)")
        return self._vault


needs = HandlerNeeds()


async def provide_vault(runtime: Runtime) -> None:
    """Start-up hook: the handlers use the service's vault."""
    needs._vault = runtime.vault


employment = IdempotentConsumer("membership.hr")


@employment.on(EmploymentChanged)
async def employment_changed(conn: asyncpg.Connection, event: EmploymentChanged, env: Envelope) -> None:
    # The consumer's inbox transaction is the unit of work: the move and its events commit with it.
    await hr.apply_employment_change(UnitOfWork(conn), event, env, needs.vault)


consumers = [employment]
