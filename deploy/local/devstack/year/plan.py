"""The calendar of the year: every phase module's steps, in date order. A step runs on its
simulated Beijing date at 09:00 (the next step's date never lies before it); the driver settles
the system after each."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Awaitable, Callable

PHASE_MODULES = ("membership", "rights", "welfare", "competitions")


@dataclass(frozen=True)
class Step:
    month: int
    day: int
    name: str
    run: Callable[..., Awaitable[None]]
    module: str = ""


def steps(only: set[str] | None = None) -> list[Step]:
    """Every step of the year (of the modules in `only`, if given), in date order; steps of one
    day keep their modules' order (membership first: who is a member that day)."""
    found: list[Step] = []
    for name in PHASE_MODULES:
        if only and name not in only:
            continue
        try:
            module = importlib.import_module(f"devstack.year.phases.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"devstack.year.phases.{name}":
                continue  # a phase module not written yet
            raise
        found += [Step(s.month, s.day, s.name, s.run, name) for s in module.STEPS]
    order = {m: i for i, m in enumerate(PHASE_MODULES)}
    return sorted(found, key=lambda s: (s.month, s.day, order[s.module]))
