"""Reads of welfare for the API and the commands, one module per topic: `async def <noun>(conn,
…, principal)`; what lies outside the caller's subtree answers as "not found". `conn` is a
command's `uow.conn` or, from the API, the pool (`PoolDep`): each read is single statements
outside a transaction, which asyncpg's Pool answers as a connection does (an audit report, which
needs one snapshot, takes a connection of its own)."""
