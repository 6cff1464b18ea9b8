"""Welfare's commands, one module per aggregate: `async def <verb>(uow, …, actor, today)` reads and
writes through `uow.conn` and stages its events with `uow.stage` / `uow.stage_select`; the unit
of work (its transaction) is opened by the caller (`CommandsDep` in the API, `UnitOfWork.begin` in
welfare.background). `ledger` holds the fund ledger's movements, steps of the other commands."""
