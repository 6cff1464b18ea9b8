"""Welfare's own request dependencies, beside those of `unionops.dependencies`."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends

from unionops.clock import local_today
from unionops.dependencies import SettingsDep
from welfare.settings import Settings


def today(settings: SettingsDep[Settings]) -> date:
    """The business day of the request: a Beijing day (WELFARE_TIMEZONE)."""
    return local_today(settings.welfare_timezone)


Today = Annotated[date, Depends(today)]
