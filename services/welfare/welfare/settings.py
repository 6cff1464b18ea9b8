from datetime import date

from pydantic import Field

from unionops.settings import CommonSettings
from welfare.domain.working_days import WorkingCalendar


class Settings(CommonSettings):
    database_url: str = Field("postgresql://postgres@127.0.0.1:55432/welfare", alias="WELFARE_DATABASE_URL")
    http_port: int = Field(8002, alias="WELFARE_HTTP_PORT")

    # Hardship files (困难职工建档): level thresholds as percentages, re-verification, retention.
    hardship_deep_percent_of_minimum: int = Field(100, alias="HARDSHIP_DEEP_PERCENT_OF_MINIMUM", gt=0)
    hardship_relative_percent_of_minimum: int = Field(200, alias="HARDSHIP_RELATIVE_PERCENT_OF_MINIMUM", gt=0)
    hardship_accident_percent_of_income: int = Field(80, alias="HARDSHIP_ACCIDENT_PERCENT_OF_INCOME", gt=0)
    hardship_review_interval_months: int = Field(12, alias="HARDSHIP_REVIEW_INTERVAL_MONTHS", ge=1)
    hardship_retention_years: int = Field(10, alias="HARDSHIP_RETENTION_YEARS", ge=1)
    # Migrant workers qualify after this many months of membership (one city's rule).
    migrant_worker_min_membership_months: int = Field(12, alias="MIGRANT_WORKER_MIN_MEMBERSHIP_MONTHS", ge=0)
    # How often overdue re-verifications are flagged and files of members who left are closed.
    hardship_sweep_interval_seconds: float = Field(3600, alias="HARDSHIP_SWEEP_INTERVAL_SECONDS", gt=0)

    # ---- case workflow, 金秋助学, 12351 hotline (welfare.commands: cases, golden_autumn, hotline) ----
    # The federation's time zone: "today" and deadlines are Beijing days.
    welfare_timezone: str = Field("Asia/Shanghai", alias="WELFARE_TIMEZONE")
    # Working days: the State Council's holidays (法定节假日) and 调休 working days come from the
    # chinese-calendar package (bump it when the next year's notice is out, every November). A
    # city adds its own rest days and working days (JSON lists of dates); a year the package does
    # not know yet may be typed in whole: list it in WELFARE_CALENDAR_YEARS_IN_SETTINGS and put
    # its holidays and 调休 working days in the two lists. Any other unknown year is refused (422).
    welfare_local_holidays: list[date] = Field(default_factory=list, alias="WELFARE_LOCAL_HOLIDAYS")
    welfare_local_working_days: list[date] = Field(default_factory=list, alias="WELFARE_LOCAL_WORKING_DAYS")
    welfare_calendar_years_in_settings: list[int] = Field(default_factory=list,
                                                          alias="WELFARE_CALENDAR_YEARS_IN_SETTINGS")
    # Back-dating: how many days before today staff may date a payment (a campaign run) or a visit
    # they enter late; later than today is always refused, and every back-dated entry says so.
    payment_backdate_max_days: int = Field(90, alias="WELFARE_PAYMENT_BACKDATE_MAX_DAYS", ge=0)
    visit_backdate_max_days: int = Field(180, alias="WELFARE_VISIT_BACKDATE_MAX_DAYS", ge=0)
    # 金秋助学: the grant per school level, integer fen (JSON object; levels missing here fall
    # back to the defaults in welfare.domain.golden_autumn.DEFAULT_TIERS_FEN).
    golden_autumn_tiers_fen: dict[str, int] = Field(default_factory=dict, alias="WELFARE_GOLDEN_AUTUMN_TIERS_FEN")
    # 公示: how many working days the masked list stays up before the grants may be paid.
    golden_autumn_notice_working_days: int = Field(5, alias="WELFARE_GOLDEN_AUTUMN_NOTICE_WORKING_DAYS", ge=1)
    # 12351 hotline: working days to handle a ticket per category (一般 / 难点 / 特别复杂), and how
    # often the overdue check runs.
    hotline_deadline_working_days: dict[str, int] = Field(
        default_factory=lambda: {"general": 3, "difficult": 7, "complex": 15},
        alias="WELFARE_HOTLINE_DEADLINE_WORKING_DAYS")
    hotline_check_seconds: float = Field(60, alias="WELFARE_HOTLINE_CHECK_SECONDS", gt=0)
    # Labour disputes: how often the 15-day check (劳动争议调解仲裁法 Art. 14) looks for disputes
    # whose worker may now apply for arbitration (each reported once).
    dispute_check_seconds: float = Field(3600, alias="WELFARE_DISPUTE_CHECK_SECONDS", gt=0)

    def working_calendar(self) -> WorkingCalendar:
        return WorkingCalendar.official(self.welfare_local_holidays, self.welfare_local_working_days,
                                        self.welfare_calendar_years_in_settings)
