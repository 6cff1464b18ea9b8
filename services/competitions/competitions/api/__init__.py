"""HTTP API of the competitions service, one module per resource; `routers` in the order their
paths appear in the OpenAPI document."""
from competitions.api import awards, contests, judging, nominations, proposals, registration, results, training

routers = [contests.router, registration.router, judging.router, results.router, awards.router,
           nominations.router, proposals.router, training.router]
