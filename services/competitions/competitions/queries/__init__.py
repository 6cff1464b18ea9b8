"""Reads of the competitions service, for the API and the commands: `async def noun(conn, …,
principal)`; what lies outside the caller's scope answers "not found". One module per aggregate.
`conn` is a command's `uow.conn`, or the pool for the API's reads (PoolDep: nothing is acquired
before the request's parameters are validated, and no read holds a transaction)."""
