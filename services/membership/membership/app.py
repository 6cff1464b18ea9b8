"""Wiring of the membership service."""
from pathlib import Path

from contracts.events import (
    CoverageSummaryPublished,
    MemberContactChanged,
    MemberPersonalDataErased,
    MemberJoined,
    MemberLeft,
    MemberProfileChanged,
    MemberStatusChanged,
    MemberTransferred,
    TransferRequestClosed,
    TransferRequested,
    UnionDissolved,
    UnionEstablished,
    UnionMerged,
    UnionMoved,
)
from membership import api_coverage, api_members, api_organisations, contacts, coverage, hr, organisations, transfer_requests
from membership import api_personal_data
from membership import api_imports
from membership.settings import Settings
from unionops.pii import Vault
from unionops.service import Runtime, create_app

settings = Settings()


async def ensure_city_root(runtime: Runtime) -> None:
    async with runtime.pool.acquire() as conn:
        await organisations.ensure_city_root(conn, settings.city_region_code, settings.city_name)


async def seal_stored_emails(runtime: Runtime) -> None:
    """Start-up: e-mail addresses kept in plain text before migration 005 are encrypted once."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        await contacts.seal_stored_emails(conn, runtime.vault)


async def coverage_summaries(runtime: Runtime) -> None:
    await coverage.run_periodically(lambda: runtime.pool, settings.coverage_summary_interval_seconds)


async def scheduled_employment_changes(runtime: Runtime) -> None:
    await hr.run_periodically(lambda: runtime.pool, hr_vault, settings.hr_schedule_interval_seconds)


async def transfer_request_expiry(runtime: Runtime) -> None:
    await transfer_requests.run_periodically(lambda: runtime.pool, settings.transfer_request_sweep_interval_seconds)


hr_vault = Vault.from_settings(settings)

app = create_app(
    name="membership",
    title="UnionOps membership",
    description="组织与会员：组织树、实名入会、会员档案。",
    settings=settings,
    database_url=settings.database_url,
    migrations=Path(__file__).parent / "migrations",
    routers=[api_organisations.router, api_members.router, api_coverage.router, api_imports.router,
             api_personal_data.router],
    publishes=[UnionEstablished, UnionMerged, UnionDissolved, UnionMoved, CoverageSummaryPublished, MemberJoined,
               MemberContactChanged, MemberPersonalDataErased, MemberTransferred, MemberStatusChanged, MemberLeft,
               MemberProfileChanged, TransferRequested, TransferRequestClosed],
    # HR systems' EmploymentChanged moves memberships with employment (membership.hr).
    consumers=[hr.employment_consumer(hr_vault)],
    startup=[ensure_city_root, seal_stored_emails],
    background=[coverage_summaries, transfer_request_expiry, scheduled_employment_changes],
)
