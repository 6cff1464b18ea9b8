"""A date staff enter for something that happened is never in the future, is back-dated within a
bound, and a back-dated action says who back-dated it and by how much."""
from __future__ import annotations

from datetime import date

import pytest

from membership.domain.members import check_joined_on
from unionops.backdating import backdating, check_dated
from unionops.problems import RuleViolation

TODAY = date(2026, 12, 2)


def refused(*args, **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as exc:
        check_dated(*args, **kwargs)
    return exc.value


def test_a_date_after_today_is_refused_naming_the_field_in_chinese():
    r = refused(date(2027, 1, 12), TODAY, field="run_on", what="发放日期", max_backdate_days=90)
    assert (r.status, r.kind, r.field) == (422, "dated-in-the-future", "run_on")
    assert r.message == "发放日期不能晚于今天（2026-12-02）"
    assert r.to_problem().errors == [{"field": "body.run_on", "message": r.message}]


def test_a_refused_query_parameter_is_named_as_a_query_parameter():
    r = refused(date(2027, 1, 1), TODAY, field="query.year", what="统计年度的起始日")
    assert r.to_problem().errors == [{"field": "query.year", "message": r.message}]


def test_backdating_is_bounded_and_today_or_within_the_bound_is_accepted():
    assert check_dated(TODAY, TODAY, field="visited_on", what="走访日期", max_backdate_days=180) == 0
    assert check_dated(date(2026, 6, 5), TODAY, field="visited_on", what="走访日期", max_backdate_days=180) == 180
    r = refused(date(2026, 6, 4), TODAY, field="visited_on", what="走访日期", max_backdate_days=180)
    assert r.kind == "backdated-too-far" and "180天" in r.message and "2026-06-05" in r.message


def test_a_backdated_action_records_who_and_by_how_much():
    assert backdating(TODAY, TODAY, "张出纳") == {}
    assert backdating(date(2026, 11, 22), TODAY, "张出纳") == {"backdated_days": 10, "backdated_by": "张出纳",
                                                              "recorded_on": "2026-12-02"}


def test_a_join_date_is_not_before_1925_nor_before_the_sixteenth_birthday_but_may_be_historic():
    assert check_joined_on(date(1980, 1, 1), date(1960, 1, 1), TODAY) == (TODAY - date(1980, 1, 1)).days
    with pytest.raises(RuleViolation, match="1925-05-01"):
        check_joined_on(date(1925, 4, 30), date(1900, 1, 1), TODAY)
    with pytest.raises(RuleViolation, match="16周岁之日（2016-02-29）"):
        check_joined_on(date(2016, 2, 28), date(2000, 2, 29), TODAY)
    with pytest.raises(RuleViolation, match="不能晚于今天"):
        check_joined_on(date(9999, 12, 31), date(1990, 1, 1), TODAY)
