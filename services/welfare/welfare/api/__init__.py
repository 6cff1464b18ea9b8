"""Welfare's HTTP API, one module per resource (`router` each); bodies several modules share are in
`bodies`, welfare's own request dependencies in `dependencies`. No SQL here: writes are commands
run through `CommandsDep`, reads are welfare.queries on a `PoolDep`."""
from welfare.api import campaigns, cases, disputes, funds, golden_autumn, hardship, hotline, reversals, summaries, visits

routers = [cases.router, hardship.router, visits.router, funds.router, campaigns.router, golden_autumn.router,
           hotline.router, reversals.router, summaries.router, disputes.router]
