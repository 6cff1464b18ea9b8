"""The HTTP API of membership, one module per resource; `routers` in the order they are served."""
from membership.api import (
    collective_contracts, congresses, coverage, imports, members, openness_and_mediation, organisations, personal_data,
    rights, statistics, transfer_requests,
)

routers = [
    organisations.router, members.router, transfer_requests.router, coverage.router, imports.router,
    personal_data.router, statistics.router, rights.router, collective_contracts.router, congresses.router,
    openness_and_mediation.router,
]
