"""Rules of the group-chat robots, free of I/O: which addresses are accepted, how they are shown,
which notice kinds a bot may subscribe to, and what a request body may carry."""
from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from notify.api.bots import BotIn, BotPatch
from notify.domain.bots import check_url, mask_url, webhook_kinds
from notify.domain.templates import TemplateRegistry

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("url", [
    f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
    f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN}",
    "http://127.0.0.1:8026/robot/send?access_token=t",
    "http://localhost:8026/robot/send",
    "http://[::1]:8026/robot/send",
])
def test_https_anywhere_and_http_only_on_this_machine_are_accepted(url):
    assert check_url(url) == url


@pytest.mark.parametrize("url", [
    "http://oapi.dingtalk.com/robot/send?access_token=t",   # plain http off the machine
    "http://10.0.0.8/robot/send",
    "ftp://example.cn/robot",
    "/robot/send?access_token=t",                            # not absolute
    "https:///robot/send",
    "https://user:pw@example.cn/robot/send",                 # credentials in the address
    "https://example.cn:99999/robot/send",
])
def test_other_addresses_are_refused_without_repeating_them(url):
    with pytest.raises(ValueError) as refused:
        check_url(url)
    assert url not in str(refused.value)


def test_the_access_token_is_masked_but_the_endpoint_stays_recognisable():
    shown = mask_url(f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}&x=1")
    assert shown == "https://oapi.dingtalk.com/robot/send?access_token=****cdef&x=****"
    assert TOKEN not in shown


def test_only_templates_with_a_group_chat_variant_can_be_subscribed():
    kinds = webhook_kinds(TemplateRegistry())
    assert {"member_joined", "case_opened"} <= set(kinds)
    assert "contest_scored" not in kinds  # a judge's score is never posted to a group chat
    assert "case_approved" not in kinds  # e-mail and SMS only


def test_a_bot_subscribes_to_nothing_unless_told():
    bot = BotIn(name="区总工会群", org_unit_id=uuid.uuid4(),
                url=f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}")
    assert bot.notice_kinds == [] and bot.flavour == "dingtalk" and bot.secret is None


def test_the_secret_does_not_show_in_the_body_model():
    bot = BotIn(name="群", org_unit_id=uuid.uuid4(), url="https://example.cn/robot", secret="SEC-very-secret")
    assert "SEC-very-secret" not in repr(bot) and "SEC-very-secret" not in str(bot.model_dump(mode="json"))


def test_a_patch_cannot_blank_a_required_field_but_can_drop_the_secret():
    with pytest.raises(ValidationError):
        BotPatch(url=None)
    with pytest.raises(ValidationError):
        BotPatch(enabled=None)
    assert BotPatch(secret=None).model_fields_set == {"secret"}
    with pytest.raises(ValidationError):
        BotPatch(org_unit_id=str(uuid.uuid4()))  # a bot does not move between units
