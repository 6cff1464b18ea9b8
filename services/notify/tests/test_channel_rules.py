"""Rules of the channels, free of I/O: which channels a member gets, quiet hours, rate limits,
masking, signing and per-channel / per-language templates."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, time, timezone

import pytest

from notify.adapters import robot_signature
from notify.domain.templates import ChannelRenderer, mask_name
from notify.domain.preferences import BEIJING, QuietHours, default_channels
from notify.domain.ratelimit import RateLimits, TokenBucket
from notify.domain.templates import TemplateRegistry


def _channels(kind="member_joined", *, sms=None, email=None, inapp=None):
    return default_channels(kind, sms_opt_in=sms, email_opt_in=email, inapp_opt_in=inapp)


def test_default_is_email_and_inapp_without_sms():
    assert _channels() == ["email", "inapp"]


def test_sms_needs_an_opt_in_or_an_urgent_notice():
    assert "sms" in _channels(sms=True)
    assert "sms" in _channels("case_approved")


def test_opt_out_wins_even_for_urgent_notices():
    assert _channels("case_approved", sms=False, email=False, inapp=False) == []


def test_quiet_hours_wrap_midnight_in_beijing_time():
    q = QuietHours.parse("21:00-08:00")
    assert q.contains(datetime(2025, 6, 1, 22, 0, tzinfo=BEIJING))
    assert q.contains(datetime(2025, 6, 1, 7, 59, tzinfo=BEIJING))
    assert not q.contains(datetime(2025, 6, 1, 8, 0, tzinfo=BEIJING))
    assert not q.contains(datetime(2025, 6, 1, 12, 0, tzinfo=BEIJING))


def test_sms_due_at_night_waits_until_the_morning():
    q = QuietHours.parse("21:00-08:00")
    night = datetime(2025, 6, 1, 23, 30, tzinfo=BEIJING)
    assert q.ends_after(night) == datetime(2025, 6, 2, 8, 0, tzinfo=BEIJING)
    early = datetime(2025, 6, 2, 6, 0, tzinfo=BEIJING)
    assert q.ends_after(early) == datetime(2025, 6, 2, 8, 0, tzinfo=BEIJING)
    noon = datetime(2025, 6, 2, 4, 0, tzinfo=timezone.utc)  # 12:00 in Beijing
    assert q.ends_after(noon) == noon


def test_quiet_hours_can_be_switched_off():
    assert not QuietHours.parse("off").contains(datetime(2025, 6, 1, 23, 0, tzinfo=BEIJING))
    assert str(QuietHours(time(22), time(7, 30))) == "22:00-07:30"


def test_token_bucket_spreads_sends_at_its_rate():
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=2, clock=lambda: now[0])
    assert bucket.try_take() == 0 and bucket.try_take() == 0
    assert bucket.try_take() == pytest.approx(0.5)
    now[0] = 0.5
    assert bucket.try_take() == 0


def test_webhook_rate_limit_is_per_bot():
    now = [0.0]
    limits = RateLimits({"webhook": (20 / 60, 1)}, per_key={"webhook"}, clock=lambda: now[0])
    assert limits.try_take("webhook", "bot-a") == 0
    assert limits.try_take("webhook", "bot-a") == pytest.approx(3.0)
    assert limits.try_take("webhook", "bot-b") == 0
    assert limits.try_take("email") == 0  # no limit configured


def test_names_are_masked_for_group_chats():
    assert mask_name("张三") == "张*"
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("欧阳娜娜") == "欧**娜"


def test_robot_signature_is_dingtalks():
    expected = base64.b64encode(hmac.new(b"SEC", b"1700000000000\nSEC", hashlib.sha256).digest()).decode()
    assert robot_signature("SEC", 1700000000000) == expected


@pytest.fixture(scope="module")
def renderer():
    return ChannelRenderer(TemplateRegistry(defaults={"sender": "示例市总工会"}))


SAMPLE = {"name": "张三丰", "union_name": "示例公司工会", "joined_on": "2025-06-08"}


def test_sms_text_is_one_short_line_with_the_name_masked(renderer):
    sms = renderer.render("member_joined", 1, "sms", SAMPLE).body
    assert "\n" not in sms and len(sms) <= 70 and "张*丰" in sms and "张三丰" not in sms


def test_missing_language_falls_back_to_chinese(renderer):
    assert "Welcome" in renderer.render("member_joined", 1, "sms", SAMPLE, "en").body
    assert "受理" in renderer.render("case_opened", 1, "sms", {
        "name": "李四", "case_ref": "3F2A", "case_kind_label": "医疗帮扶", "source_label": "本人申请",
        "opened_on": "2025-08-15", "union_name": None}, "en").body


def test_webhook_body_is_markdown_titled_by_the_subject(renderer):
    r = renderer.render("member_joined", 1, "webhook", {**SAMPLE, "name": "张*丰"})
    assert r.subject == "欢迎加入示例公司工会" and r.body.startswith("####") and "张三丰" not in r.body


def test_inapp_uses_the_mail_texts(renderer):
    r = renderer.render("member_joined", 1, "inapp", SAMPLE)
    assert r.subject == "欢迎加入示例公司工会" and "张三丰同志" in r.body
