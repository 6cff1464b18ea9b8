"""Commands of membership, one module per aggregate: `async def verb(uow, …)` reading and writing
through `uow.conn` and staging events on the unit of work (unionops.unit_of_work)."""
