"""The one place tests import service code from. The services' module layout is being
reshaped (issue 12); when a path moves, fix it here and nowhere else."""
from __future__ import annotations

from welfare.working_days import CalendarUnknown, WorkingCalendar

__all__ = ["CalendarUnknown", "WorkingCalendar"]
