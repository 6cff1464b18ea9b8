from pydantic import Field

from unionops.settings import CommonSettings


class Settings(CommonSettings):
    database_url: str = Field("postgresql://postgres@127.0.0.1:55432/membership", alias="MEMBERSHIP_DATABASE_URL")
    http_port: int = Field(8001, alias="MEMBERSHIP_HTTP_PORT")
    # How many days before today staff may date a status change (会籍保留, 退会, reactivation) or a
    # transfer they enter late; later than today is always refused, a back-dated one is noted in
    # the member file (who, by how many days).
    status_backdate_max_days: int = Field(180, alias="MEMBERSHIP_STATUS_BACKDATE_MAX_DAYS", ge=0)
    coverage_summary_interval_seconds: float = Field(3600.0, alias="COVERAGE_SUMMARY_INTERVAL_SECONDS", gt=0)
    # A receiving union's transfer request not confirmed within this many days expires.
    transfer_request_expiry_days: int = Field(30, alias="TRANSFER_REQUEST_EXPIRY_DAYS", ge=1, le=365)
    transfer_request_sweep_interval_seconds: float = Field(3600.0, alias="TRANSFER_REQUEST_SWEEP_INTERVAL_SECONDS",
                                                           gt=0)
    # How often collective-bargaining deadlines are checked (offers' 20 days, the 15-day review,
    # the renewal window, expiry); each is raised once, so a shorter interval only raises sooner.
    collective_contract_check_seconds: float = Field(3600.0, alias="COLLECTIVE_CONTRACT_CHECK_SECONDS", gt=0)
    # How often employment changes HR announced ahead are checked for having fallen due.
    hr_schedule_interval_seconds: float = Field(600.0, alias="HR_SCHEDULE_INTERVAL_SECONDS", gt=0)
    # How often delegates' proposals unanswered past their due date are looked for (issue 14).
    congress_proposal_sweep_interval_seconds: float = Field(3600.0, alias="CONGRESS_PROPOSAL_SWEEP_INTERVAL_SECONDS",
                                                            gt=0)
