"""Welfare's periodic jobs, each `async def <job>(runtime)` run by `create_app(background=…)` for
the life of the service; each round is one unit of work (`UnitOfWork.begin(runtime.pool)`)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from unionops import periodic
from unionops.clock import local_today
from unionops.unit_of_work import UnitOfWork
from welfare.commands import disputes, hardship, hotline

log = logging.getLogger(__name__)

OVERDUE_BATCH = 500


async def hardship_sweeps(runtime) -> None:
    """Every HARDSHIP_SWEEP_INTERVAL_SECONDS, one replica at a time: re-verifications overdue are
    flagged, files of members who left are closed (welfare.commands.hardship.sweep)."""
    settings = runtime.settings

    async def round_() -> None:
        async with UnitOfWork.begin(runtime.pool) as uow:
            if await uow.conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('welfare.hardship-sweep'))"):
                flagged, closed = await hardship.sweep(uow, local_today(), runtime.vault, settings)
                if flagged or closed:
                    log.info("hardship sweep", extra={"flagged": flagged, "closed": closed})
    await periodic.every(settings.hardship_sweep_interval_seconds, round_, "hardship sweep")


async def hotline_overdue_watch(runtime) -> None:
    """Every WELFARE_HOTLINE_CHECK_SECONDS: 12351 tickets past their deadline are marked and
    reported once (HotlineTicketOverdue), in batches until none is left."""
    async def round_() -> None:
        while True:
            async with UnitOfWork.begin(runtime.pool) as uow:
                marked = await hotline.mark_overdue(uow, datetime.now(timezone.utc), limit=OVERDUE_BATCH)
            if marked:
                log.info("hotline tickets overdue", extra={"count": len(marked)})
            if len(marked) < OVERDUE_BATCH:
                return
    await periodic.every(runtime.settings.hotline_check_seconds, round_, "hotline overdue check")


async def dispute_arbitration_watch(runtime) -> None:
    """Every WELFARE_DISPUTE_CHECK_SECONDS: disputes 15 days past their application without
    agreement are marked and DisputeArbitrationOpen staged once each, in batches until none is left."""
    async def round_() -> None:
        while True:
            async with UnitOfWork.begin(runtime.pool) as uow:
                raised = await disputes.raise_arbitration_open(
                    uow, local_today(runtime.settings.welfare_timezone), limit=OVERDUE_BATCH)
            if raised:
                log.info("disputes open for arbitration", extra={"count": raised})
            if raised < OVERDUE_BATCH:
                return
    await periodic.every(runtime.settings.dispute_check_seconds, round_, "dispute arbitration check")
