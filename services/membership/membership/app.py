"""Wiring of the membership service: its routers, the events it publishes, its consumer, start-up
hooks and background jobs (the layout is described in docs/architecture.md)."""
from membership import background, consumers
from membership.api import routers
from membership.settings import Settings
from unionops.service import create_app

settings = Settings()

app = create_app(
    name="membership",
    description="组织与会员：组织树、实名入会、会员档案。",
    settings=settings,
    routers=routers,
    # HR systems' EmploymentChanged moves memberships with employment (consumers.py, commands/hr.py).
    consumers=consumers.consumers,
    startup=[background.ensure_city_root, background.seal_stored_emails],
    background=[background.coverage_summaries, background.transfer_request_expiry,
                background.scheduled_employment_changes, background.collective_contract_deadlines,
                background.congress_proposals_overdue],
)
