"""Rules of the statistical report (工会组织和会员统计), without a database."""
from __future__ import annotations

from datetime import date

import pytest

from membership.domain.statistics import AGE_BAND_LABELS, member_breakdown, reporting_date
from unionops.problems import RuleViolation


def test_the_reporting_date_is_the_last_day_of_the_year_or_today_in_the_current_one():
    today = date(2026, 12, 2)
    assert reporting_date(2025, today) == date(2025, 12, 31)
    assert reporting_date(2026, today) == today
    with pytest.raises(RuleViolation) as refused:
        reporting_date(2027, today)
    assert refused.value.field == "query.year" and refused.value.kind == "dated-in-the-future"


def test_every_member_falls_in_one_gender_one_age_band_and_one_ownership():
    cells = [{"gender": "female", "age_band": 0, "migrant": True, "ownership": "non_public", "members": 5},
             {"gender": "male", "age_band": 3, "migrant": False, "ownership": "state_owned", "members": 2},
             {"gender": "male", "age_band": 1, "migrant": False, "ownership": "unknown", "members": 1}]
    m = member_breakdown(cells)
    assert m["total"] == 8 and m["by_gender"] == {"male": 3, "female": 5} and m["migrant_workers"] == 5
    assert [b["members"] for b in m["by_age_band"]] == [5, 1, 0, 2] and len(AGE_BAND_LABELS) == 4
    assert sum(o["members"] for o in m["by_employer_ownership"]) == 8 and m["public_sector"] == 2
