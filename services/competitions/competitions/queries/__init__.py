"""Reads of the competitions service, for the API and the commands: `async def noun(conn, …,
principal)`; what lies outside the caller's scope answers "not found". One module per aggregate."""
