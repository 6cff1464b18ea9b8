"""Competitions' own request helpers, beside those of `unionops.dependencies`."""
from __future__ import annotations

from datetime import date

from competitions.settings import Settings
from unionops.clock import local_today


def business_day(settings: Settings) -> date:
    """The business day of a request: a Beijing day (COMPETITIONS_TIMEZONE)."""
    return local_today(settings.competitions_timezone)
