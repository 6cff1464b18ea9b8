"""Work membership does on its own: start-up hooks (the city root, sealing old e-mail addresses)
and periodic jobs (coverage summaries, transfer-request expiry, employment changes that fell due,
collective-contract deadlines).
Each is `async def job(runtime)` and opens its work with `UnitOfWork.begin(runtime.pool)`."""
from __future__ import annotations

import logging
from datetime import date

import asyncpg

from membership.commands import collective_contracts, contacts, coverage, hr, organisations, transfer_requests
from unionops import periodic
from unionops.clock import local_today
from unionops.pii import Vault
from unionops.service import Runtime
from unionops.unit_of_work import UnitOfWork

from membership.commands import congresses  # issue 14: delegates' proposals overdue

log = logging.getLogger(__name__)


# ---- start-up ------------------------------------------------------------------------------------

async def ensure_city_root(runtime: Runtime) -> None:
    async with UnitOfWork.begin(runtime.pool) as uow:
        await organisations.ensure_city_root(uow, runtime.settings.city_region_code, runtime.settings.city_name)


async def seal_stored_emails(runtime: Runtime) -> None:
    """E-mail addresses kept in plain text before migration 005 are encrypted once."""
    async with UnitOfWork.begin(runtime.pool) as uow:
        await contacts.seal_stored_emails(uow, runtime.vault)


# ---- periodic ------------------------------------------------------------------------------------

async def coverage_summaries(runtime: Runtime) -> None:
    """The coverage summaries every COVERAGE_SUMMARY_INTERVAL_SECONDS (first run after one interval)."""
    async def round_() -> None:
        async with UnitOfWork.begin(runtime.pool) as uow:
            n = await coverage.publish_summaries(uow)
        log.info("coverage summaries staged", extra={"summaries": n})
    await periodic.every(runtime.settings.coverage_summary_interval_seconds, round_, "coverage summaries",
                         wait_first=True)


async def transfer_request_expiry(runtime: Runtime) -> None:
    """The expiry sweep of transfer requests every TRANSFER_REQUEST_SWEEP_INTERVAL_SECONDS."""
    async def round_() -> None:
        async with UnitOfWork.begin(runtime.pool) as uow:
            n = await transfer_requests.expire_due(uow, local_today())
        if n:
            log.info("transfer requests expired", extra={"requests": n})
    await periodic.every(runtime.settings.transfer_request_sweep_interval_seconds, round_, "transfer request expiry",
                         wait_first=True)


async def congress_proposals_overdue(runtime: Runtime) -> None:
    """Delegates' proposals unanswered past their due date, every
    CONGRESS_PROPOSAL_SWEEP_INTERVAL_SECONDS: CongressProposalOverdue once per proposal."""
    async def round_() -> None:
        async with UnitOfWork.begin(runtime.pool) as uow:
            n = await congresses.raise_overdue(uow, local_today())
        if n:
            log.info("congress proposals overdue", extra={"proposals": n})
    await periodic.every(runtime.settings.congress_proposal_sweep_interval_seconds, round_,
                         "congress proposals overdue")


async def apply_due_changes(pool: asyncpg.Pool, vault: Vault, today: date) -> int:
    """Apply the kept employment changes whose day has come, oldest day first, each in its own
    unit of work. Returns how many were applied."""
    applied = 0
    while True:
        async with UnitOfWork.begin(pool) as uow:
            if not await hr.apply_next_due_change(uow, vault, today):
                return applied
        applied += 1


async def scheduled_employment_changes(runtime: Runtime) -> None:
    """The changes that fell due, at start and every HR_SCHEDULE_INTERVAL_SECONDS (a change for
    tomorrow is applied in the first run after Beijing midnight)."""
    async def round_() -> None:
        n = await apply_due_changes(runtime.pool, runtime.vault, local_today())
        if n:
            log.info("scheduled employment changes applied", extra={"changes": n})
    await periodic.every(runtime.settings.hr_schedule_interval_seconds, round_, "applying scheduled employment changes")


async def collective_contract_deadlines(runtime: Runtime) -> None:
    """Collective-bargaining deadlines every COLLECTIVE_CONTRACT_CHECK_SECONDS: reminders and
    overdue offers, contracts in force, the renewal window, expiry (each raised once)."""
    async def round_() -> None:
        async with UnitOfWork.begin(runtime.pool) as uow:
            raised = await collective_contracts.watch_deadlines(uow, local_today())
        if any(raised.values()):
            log.info("collective contract deadlines raised", extra=raised)
    await periodic.every(runtime.settings.collective_contract_check_seconds, round_, "collective contract deadlines")
