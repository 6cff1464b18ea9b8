"""Notify's background work: the dispatcher (sends due deliveries), the fan-out worker (creates
a campaign's deliveries chunk by chunk), the dead-letter publishing, the start-up jobs and the
gauges computed at scrape time. Each is `async def <job>(runtime)`; work is done in
`UnitOfWork.begin(runtime.pool)`."""
