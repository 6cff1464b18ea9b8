"""Rules of the notify service that need no broker or database: what each event says to whom,
how templates render in Chinese, when to retry, and which SMTP answers are final."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from email import message_from_bytes, policy

import pytest
from aiosmtplib import errors as smtp_errors

from contracts.events import CaseOpened, ContestScored, MemberJoined
from notify.domain import notices as domain
from notify.adapters import EmailChannel, OutgoingMessage, SendFailure, classify_smtp_error, message_id
from notify.domain.templates import ADDED_WHEN_KNOWN, TEMPLATES, TemplateError, TemplateRegistry, cn_date, cn_datetime, points, yuan

ROOT, DISTRICT, UNION = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


@pytest.fixture
def registry() -> TemplateRegistry:
    return TemplateRegistry(defaults={"sender": "示例市总工会"})


def joined(**kw) -> MemberJoined:
    data = dict(member_id=uuid.uuid4(), union_id=UNION, union_name="示例科技有限公司工会", org_path=[ROOT, DISTRICT, UNION],
                name="欧阳娜娜", gender="female", birth_year=1990, joined_on=date(2025, 6, 8))
    return MemberJoined(**(data | kw))


# ---- what to tell whom -----------------------------------------------------------------------

def test_a_member_who_joins_is_welcomed_with_their_union_scope():
    event = joined()
    notice = domain.welcome(event)
    assert notice.member_id == event.member_id
    assert notice.template == "member_joined"
    assert notice.org_path == [ROOT, DISTRICT, UNION]
    assert notice.channels is None  # the member's preferences decide (preferences.channels_for)


def test_notification_context_carries_no_personal_identifiers():
    notice = domain.welcome(joined())
    assert set(notice.context) == {"union_name", "joined_on"}  # the name comes from the contact when sent


def test_a_case_opened_notice_names_the_kind_of_aid_in_chinese():
    event = CaseOpened(case_id=uuid.uuid4(), member_id=uuid.uuid4(), union_id=UNION, org_path=[ROOT, UNION],
                       kind="medical", source="hotline", opened_on=date(2025, 8, 15))
    notice = domain.case_opened(event, "示例工会")
    assert notice.context["case_kind_label"] == "医疗帮扶"
    assert notice.context["source_label"] == "12351职工服务热线"
    assert notice.context["case_ref"] == str(event.case_id)[:8].upper()


def test_before_publication_a_contestant_hears_only_that_scoring_is_under_way(registry):
    entry = uuid.uuid4()
    scores = [ContestScored(contest_id=uuid.uuid4(), contest_name="技能比赛", entry_id=entry, member_id=uuid.uuid4(),
                            judge_id=f"judge-{j}", criterion=c, score_centipoints=8750 + j, max_centipoints=10000,
                            scored_at=datetime(2025, 6, 21, 6, 30, tzinfo=timezone.utc))
              for j in range(3) for c in ("实操", "理论")]
    notices = [domain.score_recorded(s, None) for s in scores]
    assert all(n.context == {"contest_name": "技能比赛"} and n.org_path is None for n in notices)
    # One notice per entry: every judge's and criterion's score shares its source id.
    assert {domain.scoring_notice_id(s.entry_id) for s in scores} == {domain.scoring_notice_id(entry)}
    assert domain.scoring_notice_id(entry) != domain.scoring_notice_id(uuid.uuid4())
    spec = registry.current("contest_scored")
    rendered = registry.render(spec.name, spec.version, {"name": "王五"} | notices[0].context)
    assert "评分" in rendered.subject and not any(ch.isdigit() for ch in rendered.subject + rendered.body)
    assert "judge" not in rendered.body and "实操" not in rendered.body


# ---- templates -------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", TEMPLATES, ids=lambda s: f"{s.name}.v{s.version}")
def test_every_template_renders_its_sample_in_chinese(registry, spec):
    _, rendered = registry.preview(spec.name, spec.version)
    assert rendered.subject and "\n" not in rendered.subject
    assert spec.sample["name"] + "同志" in rendered.body
    assert "示例市总工会" in rendered.body


@pytest.mark.parametrize("spec", [s for s in TEMPLATES if ADDED_WHEN_KNOWN & s.sample.keys()],
                         ids=lambda s: f"{s.name}.v{s.version}")
def test_every_template_renders_without_what_is_added_only_when_known(registry, spec):
    """A non-member's dispute has no member name to add: the work item is still sent (it once
    failed in the year of the city: 'member_name' is undefined)."""
    context = {k: v for k, v in spec.sample.items() if k not in ADDED_WHEN_KNOWN}
    rendered = registry.render(spec.name, spec.version, context)
    assert rendered.subject and spec.sample["name"] + "同志" in rendered.body
    assert not any(str(spec.sample[k]) in rendered.body + rendered.subject for k in ADDED_WHEN_KNOWN & spec.sample.keys())


def test_every_event_type_with_a_notice_has_a_template(registry):
    assert {s.event_type for s in registry.list()} >= {
        "MemberJoined", "MemberTransferred", "CaseOpened", "CaseAssessed", "CaseApproved", "AidDisbursed",
        "CampaignLaunched", "ContestScored", "TeamRegistered", "TeamWaitlisted", "ContestResultsPublished",
        "ProposalAnswered", "HotlineTicketOverdue"}


def test_the_welcome_names_the_member_as_is_and_dates_the_chinese_way(registry):
    spec = registry.current("member_joined")
    rendered = registry.render(spec.name, spec.version, {"name": "欧阳娜娜", "union_name": "示例工会",
                                                          "joined_on": "2025-06-08"})
    assert rendered.subject == "欢迎加入示例工会"
    assert "欧阳娜娜同志" in rendered.body  # a private channel: the name is not masked
    assert "2025年6月8日" in rendered.body


def test_text_mail_is_not_html_escaped(registry):
    _, rendered = registry.preview("member_joined", overrides={"union_name": "A&B <联合> 工会"})
    assert "A&B <联合> 工会" in rendered.body


def test_a_missing_template_variable_fails_the_render_instead_of_sending_a_gap(registry):
    spec = registry.current("member_joined")
    with pytest.raises(TemplateError):
        registry.render(spec.name, spec.version, {"name": "张三"})


def test_newlines_in_data_cannot_add_mail_headers(registry):
    _, rendered = registry.preview("contest_scored", overrides={"contest_name": "比赛\nBcc: x@example.com"})
    assert "\n" not in rendered.subject


def test_unknown_templates_and_versions_are_refused(registry):
    with pytest.raises(TemplateError):
        registry.current("nope")
    with pytest.raises(TemplateError):
        registry.get("member_joined", 99)


def test_amounts_are_integer_fen_shown_as_yuan():
    assert yuan(123450) == "1,234.50元"
    assert yuan(5) == "0.05元"
    assert yuan(300000) == "3,000.00元"
    with pytest.raises(TemplateError):
        yuan(12.5)


def test_dates_and_times_are_written_chinese_style_in_beijing_time():
    assert cn_date("2025-03-05") == "2025年3月5日"
    assert cn_date(date(2025, 12, 31)) == "2025年12月31日"
    assert cn_datetime("2025-06-21T16:30:00+00:00") == "2025年6月22日 00:30"


def test_scores_drop_trailing_zeros():
    assert points(8750) == "87.5"
    assert points(9000) == "90"
    assert points(8725) == "87.25"


# ---- retries ---------------------------------------------------------------------------------

def test_backoff_doubles_per_attempt_within_its_jitter_band():
    for attempts, step in [(1, 2), (2, 4), (3, 8), (4, 16)]:
        assert domain.retry_delay(attempts, base=2, cap=1000, rand=lambda: 0.0) == step / 2
        assert domain.retry_delay(attempts, base=2, cap=1000, rand=lambda: 1.0) == step


def test_backoff_is_capped():
    assert domain.retry_delay(30, base=2, cap=60, rand=lambda: 1.0) == 60


def test_backoff_is_jittered():
    delays = {domain.retry_delay(3, base=2, cap=60) for _ in range(50)}
    assert len(delays) > 1 and all(4 <= d <= 8 for d in delays)


def test_temporary_failures_are_retried_until_the_attempts_are_used_up():
    assert domain.after_temporary_failure(1, 5) == "retry"
    assert domain.after_temporary_failure(4, 5) == "retry"
    assert domain.after_temporary_failure(5, 5) == "fail"


# ---- SMTP answers ----------------------------------------------------------------------------

def refused(code: int) -> smtp_errors.SMTPRecipientsRefused:
    return smtp_errors.SMTPRecipientsRefused([smtp_errors.SMTPRecipientRefused(code, "no", "a@b.cn")])


@pytest.mark.parametrize("exc", [
    refused(451),
    smtp_errors.SMTPDataError(452, "insufficient storage"),
    smtp_errors.SMTPServerDisconnected("gone"),
    smtp_errors.SMTPConnectError("refused"),
    smtp_errors.SMTPTimeoutError("slow"),
    smtp_errors.SMTPAuthenticationError(535, "bad credentials"),
    ConnectionRefusedError(111, "refused"),
    TimeoutError(),
], ids=lambda e: type(e).__name__)
def test_busy_servers_lost_connections_and_our_configuration_are_temporary(exc):
    assert classify_smtp_error(exc).permanent is False


@pytest.mark.parametrize("exc", [
    refused(550),
    smtp_errors.SMTPRecipientRefused(553, "mailbox name not allowed", "a@b.cn"),
    smtp_errors.SMTPDataError(554, "rejected as spam"),
    smtp_errors.SMTPSenderRefused(550, "sender refused", "noreply@unionops.local"),
], ids=lambda e: type(e).__name__)
def test_a_5xx_answer_to_the_mail_transaction_is_permanent(exc):
    failure = classify_smtp_error(exc)
    assert failure.permanent is True and failure.reason == domain.REJECTED


# ---- the e-mail itself -----------------------------------------------------------------------

def test_the_delivery_id_is_the_message_id_of_the_mail():
    channel = EmailChannel(host="127.0.0.1", port=2525, sender="市总工会 <noreply@unionops.local>")
    delivery_id = uuid.uuid4()
    raw = channel.build(OutgoingMessage(delivery_id, "张三", "zhang@example.cn", "欢迎加入示例工会", "张三同志：\n您好！\n"))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Message-ID"] == message_id(delivery_id) == f"<{delivery_id}@unionops.local>"
    assert str(parsed["Subject"]) == "欢迎加入示例工会"
    assert str(parsed["From"]) == "市总工会 <noreply@unionops.local>"
    assert str(parsed["To"]) == "张三 <zhang@example.cn>"
    assert parsed.get_content() == "张三同志：\r\n您好！\r\n"
    assert not parsed.defects


def test_an_unusable_address_is_a_permanent_failure():
    channel = EmailChannel(host="127.0.0.1", port=2525, sender="市总工会 <noreply@unionops.local>")
    with pytest.raises(SendFailure) as info:
        channel.build(OutgoingMessage(uuid.uuid4(), "张三", "not an address\r\nBcc: x@y.cn", "s", "b"))
    assert info.value.permanent and info.value.reason == domain.INVALID_ADDRESS
