from datetime import date, timedelta

from pydantic import Field

from unionops.settings import CommonSettings


def _dates(*isos: str) -> tuple[date, ...]:
    return tuple(date.fromisoformat(d) for d in isos)


def _span(first: str, last: str) -> tuple[date, ...]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return tuple(start + timedelta(days=i) for i in range((end - start).days + 1))


# 国务院办公厅关于2026年部分节假日安排的通知.
_HOLIDAYS_2026 = (
    _span("2026-01-01", "2026-01-03") + _span("2026-02-15", "2026-02-23") + _span("2026-04-04", "2026-04-06")
    + _span("2026-05-01", "2026-05-05") + _span("2026-06-19", "2026-06-21") + _span("2026-09-25", "2026-09-27")
    + _span("2026-10-01", "2026-10-07"))
_WORKING_WEEKENDS_2026 = _dates("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10")


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

    # ---- case workflow, 金秋助学, 12351 hotline (welfare.cases, golden_autumn, hotline) ----
    # The federation's time zone: "today" and deadlines are Beijing days.
    welfare_timezone: str = Field("Asia/Shanghai", alias="WELFARE_TIMEZONE")
    # Public holidays (法定节假日) and weekend days moved into the working week (调休上班), as
    # JSON lists of dates. Defaults: the State Council's 2026 arrangement; set each year's.
    welfare_holidays: list[date] = Field(default_factory=lambda: list(_HOLIDAYS_2026), alias="WELFARE_HOLIDAYS")
    welfare_working_weekends: list[date] = Field(default_factory=lambda: list(_WORKING_WEEKENDS_2026),
                                                 alias="WELFARE_WORKING_WEEKENDS")
    # 金秋助学: the grant per school level, integer fen (JSON object; levels missing here fall
    # back to the defaults in welfare.golden_autumn.DEFAULT_TIERS_FEN).
    golden_autumn_tiers_fen: dict[str, int] = Field(default_factory=dict, alias="WELFARE_GOLDEN_AUTUMN_TIERS_FEN")
    # 公示: how many working days the masked list stays up before the grants may be paid.
    golden_autumn_notice_working_days: int = Field(5, alias="WELFARE_GOLDEN_AUTUMN_NOTICE_WORKING_DAYS", ge=1)
    # 12351 hotline: working days to handle a ticket per category (一般 / 难点 / 特别复杂), and how
    # often the overdue check runs.
    hotline_deadline_working_days: dict[str, int] = Field(
        default_factory=lambda: {"general": 3, "difficult": 7, "complex": 15},
        alias="WELFARE_HOTLINE_DEADLINE_WORKING_DAYS")
    hotline_check_seconds: float = Field(60, alias="WELFARE_HOTLINE_CHECK_SECONDS", gt=0)

