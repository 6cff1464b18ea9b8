"""Notify's HTTP API, one module per resource; `routers` in the order of the OpenAPI paths."""
from notify.api import bots, deliveries, fanouts, inbox, officers, preferences, templates

routers = [templates.router, deliveries.router, inbox.router, preferences.router, officers.router, bots.router,
           fanouts.router]
