"""Who is told what: the notice rules of issue 6, free of I/O."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest

from contracts.events import (
    AidDisbursed,
    CampaignLaunched,
    CaseAssessed,
    TransferRequestClosed,
    TransferRequested,
    ContestResultsPublished,
    HotlineTicketOverdue,
    MemberTransferred,
    Placing,
    TeamRegistered,
    TeamWaitlisted,
)
from notify.domain import notices as domain
from notify.domain.templates import TemplateRegistry

CITY, DISTRICT, STREET, UNION, OTHER = (uuid.uuid4() for _ in range(5))
PATH = [CITY, DISTRICT, STREET, UNION]


def officer(unit: uuid.UUID, *, email: bool = True, inapp: str | None = None) -> domain.Officer:
    return domain.Officer(id=uuid.uuid4(), org_id=unit, has_email=email, inapp_user_id=inapp)


@pytest.fixture(scope="module")
def registry() -> TemplateRegistry:
    return TemplateRegistry(defaults={"sender": "示例市总工会"})


# ---- officers by role and unit ---------------------------------------------------------------

def test_the_nearest_unit_upward_with_such_an_officer_is_chosen():
    city, district = officer(CITY), officer(DISTRICT)
    assert domain.nearest_holders(PATH, [city, district]) == [district]


def test_every_holder_of_the_role_at_that_unit_is_chosen_and_no_one_above():
    a, b, above = officer(STREET), officer(STREET), officer(DISTRICT)
    assert set(domain.nearest_holders(PATH, [a, b, above])) == {a, b}


def test_officers_off_the_path_are_never_chosen():
    assert domain.nearest_holders(PATH, [officer(OTHER)]) == []


def test_the_approver_of_a_case_sits_above_the_case_union():
    assert domain.approver_search_path(PATH) == [CITY, DISTRICT, STREET]
    own_union = officer(UNION)
    street = officer(STREET)
    assert domain.nearest_holders(domain.approver_search_path(PATH), [own_union, street]) == [street]


def test_officers_get_email_and_inapp_where_their_entry_has_an_address():
    assert domain.officer_channels(officer(UNION, email=True, inapp="staff-1")) == ["email", "inapp"]
    assert domain.officer_channels(officer(UNION, email=False, inapp="staff-1")) == ["inapp"]
    assert domain.officer_channels(officer(UNION, email=False, inapp=None)) == []


# ---- what each event says to whom ------------------------------------------------------------

def transfer(**kw) -> MemberTransferred:
    data = dict(member_id=uuid.uuid4(), from_union_id=UNION, to_union_id=OTHER, to_union_name="新单位工会",
                from_org_path=PATH, to_org_path=[CITY, DISTRICT, OTHER], reason="employment_change",
                initiated_by="to_union", effective_on=date(2025, 7, 1))
    return MemberTransferred(**(data | kw))


def test_a_transfer_is_confirmed_to_the_member_and_to_both_unions_organisation_officers():
    event = transfer()
    member = domain.transfer_confirmed(event, "旧单位工会")
    assert (member.member_id, member.template, member.org_path) == (event.member_id, "member_transferred",
                                                                      [CITY, DISTRICT, OTHER])
    out, into = domain.transfer_officer_notices(event, "旧单位工会")
    assert (out.role, out.search_path, out.context["direction"]) == ("organisation_officer", PATH, "out")
    assert (into.search_path, into.context["direction"]) == ([CITY, DISTRICT, OTHER], "in")
    assert out.subject_member_id == event.member_id


def test_a_transfer_request_is_told_to_the_member_and_is_a_work_item_of_the_sending_unions_officers():
    event = TransferRequested(request_id=uuid.uuid4(), member_id=uuid.uuid4(), from_union_id=UNION,
                              from_org_path=PATH, to_union_id=OTHER, to_union_name="新单位工会",
                              to_org_path=[CITY, DISTRICT, OTHER], new_employer="新单位", expires_on=date(2025, 7, 31))
    member = domain.transfer_requested(event)
    assert (member.member_id, member.template, member.org_path) == (event.member_id, "transfer_requested", PATH)
    work = domain.transfer_request_officer_notice(event)
    assert (work.role, work.search_path, work.template) == ("organisation_officer", PATH, "transfer_requested_officer")
    assert work.subject_member_id == event.member_id


def test_an_expired_transfer_request_is_told_to_the_member_a_declined_one_only_to_the_officers():
    def closed(outcome):
        return TransferRequestClosed(request_id=uuid.uuid4(), member_id=uuid.uuid4(), from_org_path=PATH,
                                     to_union_id=OTHER, to_union_name="新单位工会", outcome=outcome,
                                     closed_on=date(2025, 8, 1))
    assert domain.transfer_request_closed(closed("expired")).template == "transfer_request_closed"
    assert domain.transfer_request_closed(closed("declined")) is None
    officers = domain.transfer_request_closed_officer_notice(closed("declined"))
    assert (officers.search_path, officers.context["outcome"]) == (PATH, "declined")


def test_the_moves_of_a_merge_do_not_flood_the_officers():
    assert domain.transfer_officer_notices(transfer(reason="union_merged"), None) == []


def test_an_assessed_case_becomes_a_work_item_for_the_approver_above():
    event = CaseAssessed(case_id=uuid.uuid4(), member_id=uuid.uuid4(), org_path=PATH, proposed_amount_fen=150050,
                         assessed_on=date(2025, 8, 20))
    item = domain.case_awaiting_approval(event, "示例机械厂工会")
    assert (item.role, item.search_path, item.template) == ("approver", [CITY, DISTRICT, STREET],
                                                            "case_awaiting_approval")
    assert item.org_path == PATH and item.subject_member_id == event.member_id


def aid(**kw) -> AidDisbursed:
    data = dict(case_id=uuid.uuid4(), member_id=uuid.uuid4(), union_id=UNION, org_path=PATH, kind="living",
                amount_fen=150000, fund_id=uuid.uuid4(), ledger_entry_id=uuid.uuid4(), paid_on=date(2026, 1, 20))
    return AidDisbursed(**(data | kw))


def test_a_campaign_payment_names_its_campaign_and_an_individual_payment_does_not(registry):
    campaign = uuid.uuid4()
    notice = domain.aid_paid(aid(campaign_id=campaign))
    assert (notice.template, notice.campaign_id) == ("campaign_payment_made", campaign)
    assert domain.aid_paid(aid()).template == "aid_disbursed"
    rendered = registry.render(notice.template, 1, {**notice.context, "name": "王芳", "campaign_name": "2026年春节送温暖"})
    assert rendered.subject == "2026年春节送温暖：1,500.00元已发放"  # yuan from integer fen


def test_a_visits_gift_asks_the_member_to_check_what_was_handed_over(registry):
    visit = uuid.uuid4()
    notice = domain.aid_paid(aid(case_id=visit, visit_id=visit, amount_fen=50000, paid_on=date(2026, 1, 18)))
    assert notice.template == "visit_gift_paid" and notice.campaign_id is None
    rendered = registry.render(notice.template, 1, {**notice.context, "name": "赵敏"})
    assert rendered.subject == "走访慰问金500.00元已登记发放"
    assert "2026年1月18日" in rendered.body and "请核对" in rendered.body


def test_every_team_member_is_told_once_the_leader_included():
    leader, a, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    common = dict(contest_id=uuid.uuid4(), contest_name="2025年职工技能比赛", team_id=uuid.uuid4(), team_name="一队",
                  union_id=UNION, org_path=PATH, leader_member_id=leader)
    accepted = domain.team_notices(TeamRegistered(member_ids=[leader, a, b, a], **common))
    assert [n.member_id for n in accepted] == [leader, a, b]
    assert {n.template for n in accepted} == {"team_registered"}
    assert [n.context["is_leader"] for n in accepted] == [True, False, False]
    moved_up = domain.team_notices(TeamRegistered(member_ids=[a, b], promoted_from_waiting_list=True, **common))
    assert {n.template for n in moved_up} == {"team_promoted"} and len(moved_up) == 3
    waiting = domain.team_notices(TeamWaitlisted(member_ids=[a], waiting_position=2, **common))
    assert {(n.template, n.context["waiting_position"]) for n in waiting} == {("team_waitlisted", 2)}


def test_each_contestant_gets_one_notice_with_all_their_placings(registry):
    winner, team_mate, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    event = ContestResultsPublished(
        contest_id=uuid.uuid4(), contest_name="2025年职工技能比赛", org_path=PATH, revision=1,
        published_at=datetime(2025, 7, 10, 2, 0, tzinfo=timezone.utc),
        placings=[Placing(rank=3, member_ids=[winner], final_score_centipoints=8800, prize="third"),
                  Placing(rank=1, member_ids=[winner, team_mate], final_score_centipoints=9425, prize="first"),
                  Placing(rank=7, member_ids=[other], final_score_centipoints=7000)])
    notices = {n.member_id: n for n in domain.results_notices(event)}
    assert set(notices) == {winner, team_mate, other}
    assert [p["rank"] for p in notices[winner].context["placings"]] == [1, 3]
    body = registry.render("contest_results", 1, {**notices[winner].context, "name": "王五"}).body
    assert "第1名，最终得分94.25分，荣获一等奖" in body and "第3名，最终得分88分，荣获三等奖" in body
    assert "荣获" not in registry.render("contest_results", 1, {**notices[other].context, "name": "赵六"}).body


def test_a_corrected_result_says_so(registry):
    event = ContestResultsPublished(
        contest_id=uuid.uuid4(), contest_name="安康杯知识竞赛", org_path=PATH, revision=2,
        published_at=datetime(2025, 7, 12, 2, 0, tzinfo=timezone.utc), correction_reason="评分录入错误",
        placings=[Placing(rank=2, member_ids=[uuid.uuid4()], final_score_centipoints=9000, prize="second")])
    [notice] = domain.results_notices(event)
    rendered = registry.render("contest_results", 1, {**notice.context, "name": "王五"})
    assert rendered.subject == "安康杯知识竞赛成绩更正" and "评分录入错误" in rendered.body


def test_an_overdue_ticket_goes_to_its_assignee_first():
    event = HotlineTicketOverdue(ticket_id=uuid.uuid4(), org_id=UNION, org_path=PATH, category="difficult",
                                 assignee="staff-7", due_at=datetime(2025, 9, 5, 1, tzinfo=timezone.utc),
                                 detected_at=datetime(2025, 9, 5, 2, tzinfo=timezone.utc))
    notice = domain.hotline_overdue(event)
    assert (notice.assignee, notice.role, notice.search_path) == ("staff-7", "hotline_officer", PATH)
    assert notice.context["category_label"] == "难点"


def test_a_campaign_start_names_the_campaign_and_its_dates_but_no_amounts(registry):
    event = CampaignLaunched(campaign_id=uuid.uuid4(), name="2026年春节送温暖", kind="spring_festival", org_id=DISTRICT,
                             org_path=[CITY, DISTRICT], fund_id=uuid.uuid4(), budget_fen=50_000_000,
                             per_payment_cap_fen=300_000, per_person_year_cap_fen=600_000,
                             starts_on=date(2026, 1, 5), ends_on=date(2026, 2, 10))
    context = domain.campaign_started_context(event, "示例区总工会")
    assert not any("fen" in k for k in context)
    body = registry.render("campaign_started", 1, {**context, "name": "王芳"}).body
    assert "2026年1月5日至2026年2月10日" in body and "春节送温暖" in body


def test_every_new_template_previews_with_its_sample(registry):
    for spec in registry.list():
        _, rendered = registry.preview(spec.name)
        assert rendered.subject and "{{" not in rendered.body
