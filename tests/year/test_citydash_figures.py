"""The city dashboard's figures, built from sample events that the published JSON Schemas accept
(plain unit tests: no broker; `citydash.store` applies what the feed would read)."""
from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from citydash.contracts import ContractError, load
from citydash.feed import TOPICS, Feed, parse, public_topics
from citydash.store import Store
from tests.year.citydash_events import Sample, uid

CITYDASH = Path(__file__).resolve().parents[2] / "deploy" / "local" / "citydash"


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "dash.sqlite3")
    yield s
    s.close()


def district(figures, name):
    return next(d for d in figures["districts"] if d["name"] == name)


def by_month(figures, name, what="members_by_month"):
    return dict(zip(figures["months"], district(figures, name)[what]))


def test_members_are_counted_in_the_district_their_union_is_in_at_each_month_end(store):
    s = Sample()
    s.city()
    s.join("张三", "甲厂工会", "2026-01-10")
    s.join("李四", "乙厂工会", "2026-01-15")
    s.join("王五", "丙厂工会", "2026-02-03")
    # 东区一街 with 甲厂 and 乙厂 moves to 西区 on 10 March
    s.move("东区一街", ["市总工会", "东区", "东区一街"], ["市总工会", "西区", "东区一街"], "2026-03-10")
    store.apply_many([e.row() for e in s.events])
    f = store.figures()
    assert f["months"] == ["2026-01", "2026-02", "2026-03"]
    assert by_month(f, "东区") == {"2026-01": 2, "2026-02": 2, "2026-03": 0}
    assert by_month(f, "西区") == {"2026-01": 0, "2026-02": 1, "2026-03": 3}
    assert (district(f, "东区")["members"], district(f, "西区")["members"]) == (0, 3)
    assert by_month(f, "东区", "unions_by_month") == {"2026-01": 2, "2026-02": 2, "2026-03": 0}
    assert f["totals"]["members"] == 3 and f["totals"]["unions"] == 3


def test_a_transfer_a_departure_and_a_retirement_count_where_the_member_is_at_each_month_end(store):
    s = Sample()
    s.city()
    s.join("张三", "甲厂工会", "2026-01-10")
    s.join("李四", "甲厂工会", "2026-01-10")
    s.transfer("张三", "甲厂工会", "丙厂工会", "2026-02-20")
    s.leave("李四", "甲厂工会", "2026-03-05")
    s.join("赵六", "丙厂工会", "2026-01-02")
    s.status("赵六", "丙厂工会", "retained", "2026-03-31")  # retained members are still members
    store.apply_many([e.row() for e in s.events])
    f = store.figures()
    assert by_month(f, "东区") == {"2026-01": 2, "2026-02": 1, "2026-03": 0}
    assert by_month(f, "西区") == {"2026-01": 1, "2026-02": 2, "2026-03": 2}
    assert f["totals"]["members"] == 2


def test_a_merged_union_stops_counting_and_its_members_follow_it(store):
    s = Sample()
    s.city()
    s.join("张三", "乙厂工会", "2026-01-10")
    s.merge("乙厂工会", "丙厂工会", 1, "2026-02-01")
    s.transfer("张三", "乙厂工会", "丙厂工会", "2026-02-01", reason="union_merged")
    store.apply_many([e.row() for e in s.events])
    f = store.figures()
    assert by_month(f, "东区", "unions_by_month") == {"2026-01": 2, "2026-02": 1}
    assert by_month(f, "西区") == {"2026-01": 0, "2026-02": 1}
    assert f["totals"]["unions"] == 2


def test_the_figures_do_not_depend_on_the_order_the_partitions_are_read_in(tmp_path):
    s = Sample()
    s.city()
    for i in range(12):
        s.join(f"会员{i}", ("甲厂工会", "乙厂工会", "丙厂工会")[i % 3], f"2026-0{1 + i % 4}-1{i % 9}")
    s.transfer("会员0", "甲厂工会", "丙厂工会", "2026-03-01")
    s.leave("会员1", "乙厂工会", "2026-04-02")
    s.move("东区一街", ["市总工会", "东区", "东区一街"], ["市总工会", "西区", "东区一街"], "2026-03-20")
    in_order = Store(tmp_path / "a.sqlite3")
    in_order.apply_many([e.row() for e in s.events])
    # Each member's own events stay in order (one key, one partition); topics and keys interleave at random.
    shuffled, rng = Store(tmp_path / "b.sqlite3"), random.Random(7)
    org = [e for e in s.events if e.topic == "membership.organisation.v1"]
    members = [e for e in s.events if e.topic == "membership.member.v1"]
    rng.shuffle(org)
    mixed = []
    while org or members:
        source = org if (org and (not members or rng.random() < 0.5)) else members
        mixed.append(source.pop(0))
    shuffled.apply_many([e.row() for e in mixed])
    assert shuffled.figures()["districts"] == in_order.figures()["districts"]


def test_an_event_read_again_with_the_same_id_counts_once_also_after_the_dashboard_restarts(tmp_path):
    s = Sample()
    s.city()
    s.join("张三", "甲厂工会", "2026-01-10")
    s.campaign("送温暖", 500000)
    s.paid("张三", 80000, "送温暖", "p1")
    s.delivered("sms", "2026-01-20T02:00:00+00:00")
    path = tmp_path / "dash.sqlite3"
    first = Store(path)
    assert first.apply_many([e.row() for e in s.events]) == len(s.events)
    assert first.apply_many([e.row() for e in s.events]) == 0
    before = first.figures()
    first.close()
    again = Store(path)  # the process restarted on its state file; the broker sends everything again
    assert again.apply_many([e.row() for e in reversed(s.events)]) == 0
    assert again.figures() == before
    assert before["totals"]["members"] == 1
    assert (before["totals"]["aid_fen"], before["totals"]["notifications"]) == (80000, 1)


def test_aid_paid_per_campaign_is_what_was_paid_less_what_was_reversed(store):
    s = Sample()
    s.campaign("送温暖", 1000000)
    s.paid("张三", 80000, "送温暖", "p1")
    s.paid("李四", 60000, "送温暖", "p2")
    s.reversed("李四", 60000, "送温暖", "p2")
    s.paid("王五", 30000, None, "case")  # a case's aid, not a campaign's
    store.apply_many([e.row() for e in s.events])
    f = store.figures()
    warmth = next(c for c in f["campaigns"] if c["name"] == "送温暖")
    assert warmth == {"campaign_id": uid("送温暖"), "name": "送温暖", "kind": "spring_festival",
                           "budget_fen": 1000000, "paid_fen": 140000, "paid_count": 2, "reversed_fen": 60000,
                           "reversed_count": 1, "net_fen": 80000}
    cases = next(c for c in f["campaigns"] if c["campaign_id"] is None)
    assert (cases["paid_fen"], cases["net_fen"]) == (30000, 30000)
    assert f["totals"]["aid_fen"] == 110000 and f["totals"]["aid_payments"] == 3


def test_contest_results_are_the_latest_revision_published(store):
    s = Sample()
    s.results("数控车工技能大赛", 2, [9000, 9500, 8000])
    s.results("数控车工技能大赛", 1, [9000, 9400, 8000])  # an older publication read late
    store.apply_many([e.row() for e in s.events])
    [contest] = store.figures()["contests"]
    assert contest["revision"] == 2
    assert [(p["rank"], p["prize"], p["final_score_centipoints"]) for p in contest["placings"]] == [
        (1, "first", 9500), (2, "second", 9000), (3, "third", 8000)]


def test_notifications_are_counted_per_channel_and_beijing_month(store):
    s = Sample()
    s.delivered("sms", "2026-01-31T17:00:00+00:00")    # 1 February 01:00 in Beijing
    s.delivered("sms", "2026-01-31T15:59:00+00:00")    # still 31 January in Beijing
    s.delivered("email", "2026-02-10T01:00:00Z")
    s.failed("webhook", "2026-02-10T01:00:00+00:00")
    store.apply_many([e.row() for e in s.events])
    n = store.figures()["notifications"]
    assert n["months"] == ["2026-01", "2026-02"]
    assert {c["channel"]: (c["delivered"], c["failed"], c["delivered_by_month"]) for c in n["channels"]} == {
        "email": (1, 0, [0, 1]), "sms": (2, 0, [1, 1]), "webhook": (0, 1, [0, 0])}
    assert store.deliveries_by_source() == {uid("source"): {"email": 1, "sms": 2}}


def test_coverage_shows_the_latest_summary_of_each_unit_with_its_targets(store):
    s = Sample()
    s.coverage("东区", "district", members=120, target=150, at="2026-02-01T00:00:00+08:00")
    s.coverage("东区", "district", members=90, target=150, at="2026-01-01T00:00:00+08:00")
    s.coverage("市总工会", "city", members=300, target=None, at="2026-02-01T00:00:00+08:00")
    store.apply_many([e.row() for e in s.events])
    cov = {c["org_name"]: c for c in store.figures()["coverage"]}
    assert (cov["东区"]["members_total"], cov["东区"]["members_target"], cov["东区"]["period"]) == (120, 150, "2026-02")
    assert cov["市总工会"]["members_target"] is None
    assert cov["东区"]["rights_rates"][0]["target_percent"] == 80


def test_a_payload_its_published_schema_refuses_is_not_counted(store, tmp_path):
    contracts = load()
    with pytest.raises(ContractError, match="amount_fen"):
        contracts.validate("AidDisbursed", Sample()._payment("张三", 0, None, "x") | {"paid_on": "2026-01-01"})
    feed = Feed("127.0.0.1:9", store, contracts)
    bad = Sample()._payment("张三", 100, None, "x")  # no paid_on
    record = _Record("welfare.case.v1", [("ce_id", b"5b0e2f8e-8c7e-4c1e-9a43-2b1f3c4d5e6f"),
                                         ("ce_type", b"AidDisbursed")], bad)
    assert feed._accept(record) is None
    assert store.figures()["totals"]["rejected"] == 1 and store.figures()["totals"]["aid_fen"] == 0


def test_the_dashboard_never_reads_a_restricted_topic(store):
    contracts = load()
    assert set(public_topics(contracts)) == set(TOPICS)
    assert not set(TOPICS) & contracts.restricted_topics
    assert {"hr.employment.v2", "membership.member-contact.v2", "membership.employer-contact.v1"} \
        <= contracts.restricted_topics
    feed = Feed("127.0.0.1:9", store, contracts)
    record = _Record("membership.member-contact.v2", [("ce_id", b"5b0e2f8e-8c7e-4c1e-9a43-2b1f3c4d5e6f"),
                                                      ("ce_type", b"MemberContactChanged")], {"member_id": uid("x")})
    assert feed._accept(record) is None


def test_the_envelope_is_read_from_the_cloudevents_headers():
    s = Sample()
    e = s.delivered("sms", "2026-01-31T17:00:00+00:00")
    event_id, event_type, moment, data = parse(e.headers(), e.value())
    assert (event_id, event_type, data) == (e.id, "NotificationDelivered", e.data)
    assert moment == e.time and moment.tzinfo is not None


def test_the_dashboard_imports_only_what_other_teams_get():
    forbidden = {"contracts", "unionops", "membership", "welfare", "competitions", "notify"}
    for path in CITYDASH.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"


class _Record:
    def __init__(self, topic, headers, data):
        import json
        self.topic, self.headers, self.value = topic, headers, json.dumps(data).encode()
        self.offset, self.partition, self.key = 0, 0, None



def test_figures_computed_again_include_every_later_event_also_a_back_dated_one(store):
    s = Sample()
    s.city()
    s.join("张三", "甲厂工会", "2026-01-10")
    s.join("李四", "丙厂工会", "2026-03-10")
    store.apply_many([e.row() for e in s.events])
    assert by_month(store.figures(), "东区") == {"2026-01": 1, "2026-02": 1, "2026-03": 1}
    later = Sample(clock=s.clock)
    later.join("王五", "乙厂工会", "2026-01-20")      # entered late, dated back to January
    later.move("东区一街", ["市总工会", "东区", "东区一街"], ["市总工会", "西区", "东区一街"], "2026-02-15")
    store.apply_many([e.row() for e in later.events])
    f = store.figures()
    assert by_month(f, "东区") == {"2026-01": 2, "2026-02": 0, "2026-03": 0}
    assert by_month(f, "西区") == {"2026-01": 0, "2026-02": 2, "2026-03": 3}
    assert f["totals"]["members"] == 3
