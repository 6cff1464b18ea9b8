"""The one place the support package and the in-process tests import service code from. The
services' module layout is being reshaped (issue 12); when a path moves, fix it here. (Older
integration and unit modules still import a few service modules of their own.)"""
from __future__ import annotations

from pathlib import Path

import competitions
import membership
import notify
import welfare
from competitions.app import members as competitions_consumer
from competitions.proposals import add_months as proposal_add_months
from membership import hr as membership_hr
from membership.domain import check_joined_on
from membership.members import AdmitMember, admit_member
from membership.organisations import EstablishUnion, ensure_city_root, establish_union, merge_union, move_unit
from membership.settings import Settings as MembershipSettings
from membership.transfers import TransferMember, transfer_member
from notify import contacts as notify_contacts
from notify import deliveries as notify_deliveries
from notify import domain as notify_domain
from notify import preferences as notify_preferences
from notify.app import consumer as notify_consumer
from notify.templates import TemplateRegistry
from welfare import funds as welfare_funds
from welfare import hotline as welfare_hotline
from welfare import ledger as welfare_ledger
from welfare.app import members as welfare_consumer
from welfare.hardship_rules import add_months as hardship_add_months
from welfare.money import InsufficientFunds
from welfare.settings import Settings as WelfareSettings
from welfare.handlers import OpenCase, open_assistance_case
from welfare.working_days import CalendarUnknown, WorkingCalendar

# Each service's own migrations (unionops.migrate applies the plumbing first).
MIGRATIONS = {package.__name__: Path(package.__file__).parent / "migrations"
              for package in (membership, welfare, competitions, notify)}

# Each service's consumer of other services' events, handlers registered as in production.
CONSUMERS = {"welfare": welfare_consumer, "competitions": competitions_consumer, "notify": notify_consumer}

__all__ = ["admit_member", "AdmitMember", "CalendarUnknown", "check_joined_on", "CONSUMERS", "ensure_city_root",
           "establish_union", "EstablishUnion", "hardship_add_months", "InsufficientFunds", "membership_hr",
           "MembershipSettings", "merge_union", "MIGRATIONS", "move_unit", "notify_contacts", "notify_deliveries",
           "notify_domain", "notify_preferences", "open_assistance_case", "OpenCase", "proposal_add_months",
           "TemplateRegistry", "transfer_member", "TransferMember", "welfare_funds", "welfare_hotline",
           "welfare_ledger", "WelfareSettings", "WorkingCalendar"]
