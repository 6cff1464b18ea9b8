"""Standings from the judges' scores, without I/O (competitions.domain.results.rank_contest):
what is ranked, what is still missing, and who steps aside."""
from __future__ import annotations

import uuid

from competitions.domain.results import rank_contest
from competitions.domain.scoring import Criterion

PRACTICE = Criterion("p", "实操", "practical", 10000, 10000)
UNIT_A, UNIT_B, UNIT_C = (uuid.uuid4() for _ in range(3))
RULES = {"trim_min_judges": 5, "spread_flag_centipoints": 1500, "team_score": "sum", "prize_basis": "count",
         "prize_first": 1, "prize_second": 1, "prize_third": 0, "prize_excellence": 0}
JUDGES = {None: {"j1": {"judge_id": "j1", "union_id": UNIT_C}, "j2": {"judge_id": "j2", "union_id": UNIT_B}}}


def entry(name: str, union_id: uuid.UUID, team_id: uuid.UUID | None = None) -> dict:
    return {"id": uuid.uuid4(), "member_id": uuid.uuid4(), "member_name": name, "union_id": union_id,
            "union_name": "工会", "event_id": None, "team_id": team_id}


def standings(entries, sheets, *, team_based=False, teams=()):
    return rank_contest(team_based=team_based, rules=RULES, criteria={None: [PRACTICE]}, judges=JUDGES, events={},
                        entries=entries, sheets=sheets, times={}, teams=list(teams))


def test_an_entry_a_judge_has_not_scored_is_listed_as_missing_and_not_ranked():
    done, waiting = entry("王芳", UNIT_A), entry("李强", UNIT_A)
    s = standings([done, waiting], {done["id"]: {"j1": {"p": 9000}, "j2": {"p": 8000}},
                                    waiting["id"]: {"j1": {"p": 7000}}})
    [ranking] = s.rankings
    assert [p["entry_id"] for p in ranking["placings"]] == [done["id"]]
    assert ranking["placings"][0]["final_score"] == "85.00" and ranking["placings"][0]["prize"] == "first"
    assert s.missing_total == 1
    assert (s.missing[0]["entry_id"], s.missing[0]["judge_id"], s.missing[0]["reason"]) == (
        waiting["id"], "j2", "not-scored")


def test_a_judge_of_the_entrants_own_unit_steps_aside_and_owes_no_score():
    from_b = entry("张伟", UNIT_B)
    s = standings([from_b], {from_b["id"]: {"j1": {"p": 8800}}})
    assert s.missing_total == 0
    assert s.rankings[0]["placings"][0]["final_score"] == "88.00"
    assert s.rankings[0]["placings"][0]["judges_counted"] == ["j1"]


def test_a_team_is_ranked_on_the_sum_of_its_members_final_scores_and_only_when_all_are_scored():
    full, partial = uuid.uuid4(), uuid.uuid4()
    a1, a2, b1, b2 = entry("甲", UNIT_A, full), entry("乙", UNIT_A, full), entry("丙", UNIT_A, partial), \
        entry("丁", UNIT_A, partial)
    both = {"j1": {"p": 8000}, "j2": {"p": 9000}}
    s = standings([a1, a2, b1, b2], {a1["id"]: both, a2["id"]: both, b1["id"]: both, b2["id"]: {"j1": {"p": 5000}}},
                  team_based=True, teams=[{"id": full, "name": "一队", "union_id": UNIT_A, "union_name": "工会"},
                                          {"id": partial, "name": "二队", "union_id": UNIT_A, "union_name": "工会"}])
    [ranking] = s.rankings
    assert [(p["team_id"], p["final_score"]) for p in ranking["placings"]] == [(full, "170.00")]
    assert [m["entry_id"] for m in s.missing] == [b2["id"]]
