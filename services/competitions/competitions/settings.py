from pydantic import Field, field_validator

from unionops.settings import CommonSettings


class Settings(CommonSettings):
    database_url: str = Field("postgresql://postgres@127.0.0.1:55432/competitions", alias="COMPETITIONS_DATABASE_URL")
    http_port: int = Field(8003, alias="COMPETITIONS_HTTP_PORT")

    # ---- awards and rationalisation proposals (competitions.domain.awards, competitions.domain.proposals) ----
    # "Today" and deadlines are the federation's days (Beijing), whatever the server's zone.
    competitions_timezone: str = Field("Asia/Shanghai", alias="COMPETITIONS_TIMEZONE")
    # 安康杯: a year's checklist totals this many points; its threshold must lie in [min, max];
    # a unit that won the title cannot win it again within this many years.
    ankang_full_marks_points: int = Field(100, alias="COMPETITIONS_ANKANG_FULL_MARKS_POINTS", gt=0)
    ankang_threshold_min_points: int = Field(90, alias="COMPETITIONS_ANKANG_THRESHOLD_MIN_POINTS", gt=0)
    ankang_threshold_max_points: int = Field(95, alias="COMPETITIONS_ANKANG_THRESHOLD_MAX_POINTS", gt=0)
    ankang_no_repeat_years: int = Field(5, alias="COMPETITIONS_ANKANG_NO_REPEAT_YEARS", ge=1)
    # Nomination quotas per award (JSON): {award: {attribute: {"min": percent} | {"max": percent}}},
    # attributes front_line, migrant_worker, unit_head, woman. Awards missing here use the
    # defaults in competitions.domain.awards.DEFAULT_QUOTAS.
    nomination_quotas: dict[str, dict[str, dict[str, int]]] = Field(default_factory=dict,
                                                                    alias="COMPETITIONS_NOMINATION_QUOTAS")
    # 合理化建议: months to answer (1–2), months for major proposals, reward per grade in fen
    # (JSON; grades missing here use competitions.domain.proposals.DEFAULT_REWARDS_FEN).
    proposal_answer_months: int = Field(1, alias="COMPETITIONS_PROPOSAL_ANSWER_MONTHS", ge=1, le=2)
    proposal_major_answer_months: int = Field(3, alias="COMPETITIONS_PROPOSAL_MAJOR_ANSWER_MONTHS", ge=1)
    proposal_rewards_fen: dict[str, int] = Field(default_factory=dict, alias="COMPETITIONS_PROPOSAL_REWARDS_FEN")
    # How far back staff may date a proposal collected on paper (征集箱, 座谈会) and entered later.
    proposal_backdate_days: int = Field(183, alias="COMPETITIONS_PROPOSAL_BACKDATE_DAYS", ge=0)

    # ---- judging and results (competitions.commands.judging, competitions.commands.results) ----
    # Defaults a contest's judging rules start from; each contest may set its own.
    # Theory (理论) weighs at most this share of a skill event's criteria (basis points).
    judging_theory_cap_bp: int = Field(3000, alias="COMPETITIONS_JUDGING_THEORY_CAP_BP", ge=0, le=10000)
    # From this many judges on, the highest and the lowest total are dropped (去掉最高分和最低分).
    judging_trim_min_judges: int = Field(5, alias="COMPETITIONS_JUDGING_TRIM_MIN_JUDGES", ge=3)
    # Judges "disagree widely" when their totals (100-point scale) differ by more than this.
    judging_spread_flag_centipoints: int = Field(1500, alias="COMPETITIONS_JUDGING_SPREAD_FLAG_CENTIPOINTS", ge=0)

    @field_validator("nomination_quotas")
    @classmethod
    def _known_awards_and_quotas(cls, value: dict) -> dict:
        from competitions.domain.awards import AWARDS, check_quota_config

        for award, quotas in value.items():
            if award not in AWARDS:
                raise ValueError(f"unknown award {award!r}; one of {sorted(AWARDS)}")
            check_quota_config(quotas)
        return value

    @field_validator("proposal_rewards_fen")
    @classmethod
    def _known_grades(cls, value: dict) -> dict:
        from competitions.domain.proposals import GRADES

        if set(value) - set(GRADES) or any(v < 0 for v in value.values()):
            raise ValueError(f"grades are {sorted(GRADES)}, amounts non-negative integer fen")
        return value
