"""Notify's writes, one module per aggregate: `async def <verb>(uow, …)` on the unit of work
they are given (a request's, the consumer's transaction, a background round). `deliveries`
creates them from events (`notices` decides per event), `settlement` is the dispatcher's,
`fanouts` a campaign's, plus officers, bots, preferences, the inbox and the start-up sealing."""
