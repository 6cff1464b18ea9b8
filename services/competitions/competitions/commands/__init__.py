"""Commands of the competitions service, one module per aggregate: `async def verb(uow, …, actor)`
reads and writes through `uow.conn` and stages its events with `uow.stage(...)`; the caller
(`unionops.unit_of_work.Commands` for the API) owns the transaction."""
