"""The HTTP API of membership, one module per resource; `routers` in the order they are served."""
from membership.api import coverage, imports, members, organisations, personal_data, rights, statistics, transfer_requests

# issue 14 · contracts: its imports
from membership.api import collective_contracts
# issue 14 · congresses: its imports
from membership.api import congresses, openness_and_mediation

routers = [
    organisations.router, members.router, transfer_requests.router, coverage.router, imports.router,
    personal_data.router, statistics.router, rights.router,
    # issue 14 · contracts
    collective_contracts.router,
    # issue 14 · congresses
    congresses.router, openness_and_mediation.router,
]
