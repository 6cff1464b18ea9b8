"""Notify's HTTP API, one module per resource; `routers` in the order of the OpenAPI paths."""
from notify.api import bots, deliveries, fanouts, inbox, notice_defaults, officers, preferences, templates

routers = [templates.router, deliveries.router, inbox.router, preferences.router, notice_defaults.router,
           officers.router, bots.router, fanouts.router]
