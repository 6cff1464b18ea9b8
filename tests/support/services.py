"""What the support package needs of the services themselves: their migrations, their consumers
(handlers registered as in production) and the commands the in-process helpers call. Tests that
check one service's own modules import them directly, by their paths in the one service shape."""
from __future__ import annotations

from pathlib import Path

import competitions
import membership
import notify
import welfare
from competitions.consumers import members as competitions_consumer
from membership.commands.members import AdmitMember, admit_member
from membership.commands.organisations import EstablishUnion, ensure_city_root, establish_union, merge_union, move_unit
from membership.commands.transfers import TransferMember, transfer_member
from notify.consumers import consumer as notify_consumer
from notify.domain.templates import TemplateRegistry
from welfare.commands.cases import OpenCase, open_case
from welfare.consumers import members as welfare_consumer

# Each service's own migrations (unionops.migrate applies the plumbing first).
MIGRATIONS = {package.__name__: Path(package.__file__).parent / "migrations"
              for package in (membership, welfare, competitions, notify)}

# Each service's consumer of other services' events, handlers registered as in production.
CONSUMERS = {"welfare": welfare_consumer, "competitions": competitions_consumer, "notify": notify_consumer}


def make_consumers_ready(settings, vault) -> None:
    """Wire the consumers into a runtime as create_app does: what their handlers take from it
    (the vault, notify's templates)."""
    from unionops.auth import Authenticator
    from unionops.service import Runtime

    for name, consumer in CONSUMERS.items():
        consumer.provide(Runtime(name=name, settings=settings, database_url="", authenticator=Authenticator(settings),
                                 vault=vault, components={TemplateRegistry: TemplateRegistry()}))


__all__ = ["admit_member", "AdmitMember", "CONSUMERS", "ensure_city_root", "establish_union", "EstablishUnion",
           "make_consumers_ready", "merge_union", "MIGRATIONS", "move_unit", "open_case", "OpenCase",
           "transfer_member", "TransferMember"]
