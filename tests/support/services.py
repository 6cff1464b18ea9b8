"""The one place tests import service code from. The services' module layout is being
reshaped (issue 12); when a path moves, fix it here and nowhere else."""
from __future__ import annotations

from pathlib import Path

import competitions
import membership
import notify
import welfare
from competitions.app import members as competitions_consumer
from membership.members import AdmitMember, admit_member
from membership.organisations import EstablishUnion, ensure_city_root, establish_union, merge_union, move_unit
from membership.transfers import TransferMember, transfer_member
from notify.app import consumer as notify_consumer
from welfare.app import members as welfare_consumer
from welfare.handlers import OpenCase, open_assistance_case
from welfare.working_days import CalendarUnknown, WorkingCalendar

# Each service's own migrations (unionops.migrate applies the plumbing first).
MIGRATIONS = {package.__name__: Path(package.__file__).parent / "migrations"
              for package in (membership, welfare, competitions, notify)}

# Each service's consumer of other services' events, handlers registered as in production.
CONSUMERS = {"welfare": welfare_consumer, "competitions": competitions_consumer, "notify": notify_consumer}

__all__ = ["AdmitMember", "CONSUMERS", "CalendarUnknown", "EstablishUnion", "MIGRATIONS", "OpenCase",
           "TransferMember", "WorkingCalendar", "admit_member", "ensure_city_root", "establish_union", "merge_union",
           "move_unit",
           "open_assistance_case", "transfer_member"]
