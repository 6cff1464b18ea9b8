"""The HTTP API of membership, one module per resource; `routers` in the order they are served."""
from membership.api import coverage, imports, members, organisations, personal_data, statistics, transfer_requests

routers = [organisations.router, members.router, transfer_requests.router, coverage.router, imports.router,
           personal_data.router, statistics.router]
