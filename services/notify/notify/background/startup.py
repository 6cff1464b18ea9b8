"""Start-up jobs (create_app(startup=[...])), run once before traffic and before the consumers."""
from __future__ import annotations

from notify.commands import sealing
from unionops.unit_of_work import UnitOfWork


async def seal_clear_columns(runtime) -> None:
    """What older migrations kept in clear is sealed once, in one unit of work (commands.sealing)."""
    async with UnitOfWork.begin(runtime.pool) as uow:
        await sealing.seal_clear_columns(uow, runtime.vault)
