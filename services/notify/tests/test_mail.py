"""The e-mail as written on the wire (notify.mail): read back exactly by the stdlib's MIME
parser, headers folded within limits, addresses that could inject headers refused."""
from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes, policy

import pytest
from hypothesis import given, strategies as st

from notify.adapters import mail


def _parse(raw: bytes):
    return message_from_bytes(raw, policy=policy.default)


def _compose(subject: str, body: str, name: str = "张三", address: str = "zhang@example.cn") -> bytes:
    return mail.compose(message_id="<1@unionops.local>", sender=mail.mailbox("市总工会", "noreply@unionops.local"),
                        to=mail.mailbox(name, mail.check_address(address)), subject=subject, body=body,
                        date=datetime(2026, 1, 20, 8, 30, tzinfo=timezone.utc))


def test_a_chinese_notice_reads_back_exactly():
    raw = _compose("春节送温暖慰问金已发放（1,500.00元）", "张三同志：\n您好！慰问金已发放。\n\n市总工会\n")
    parsed = _parse(raw)
    assert str(parsed["Subject"]) == "春节送温暖慰问金已发放（1,500.00元）"
    assert str(parsed["From"]) == "市总工会 <noreply@unionops.local>"
    assert str(parsed["To"]) == "张三 <zhang@example.cn>"
    assert parsed["To"].addresses[0].addr_spec == "zhang@example.cn"
    assert parsed["Date"].datetime == datetime(2026, 1, 20, 8, 30, tzinfo=timezone.utc)
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_content_type() == "text/plain" and parsed.get_content_charset() == "utf-8"
    # MIME text in canonical form: CRLF line breaks inside the base64 too (RFC 2046 4.1.1)
    assert parsed.get_content() == "张三同志：\r\n您好！慰问金已发放。\r\n\r\n市总工会\r\n"
    assert not parsed.defects


def test_every_line_is_crlf_ascii_and_short():
    raw = _compose("关于" + "全市职工职业技能大赛" * 8 + "的通知", "正文" * 500, name="欧阳" * 30)
    raw.decode("ascii")
    head, _, _ = raw.partition(b"\r\n\r\n")
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 78 for line in lines)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert str(_parse(raw)["Subject"]) == "关于" + "全市职工职业技能大赛" * 8 + "的通知"
    assert _parse(raw)["To"].addresses[0].addr_spec == "zhang@example.cn"
    assert head.count(b"Subject:") == 1


def test_an_ascii_name_with_quotes_is_quoted_not_broken():
    parsed = _parse(_compose("Hello", "body\n", name='Li "Lei" \\ Han'))
    assert parsed["To"].addresses[0].display_name == 'Li "Lei" \\ Han'
    assert parsed["To"].addresses[0].addr_spec == "zhang@example.cn"
    assert str(parsed["Subject"]) == "Hello"


@pytest.mark.parametrize("bad", [
    "not an address", "zhang@example.cn\r\nBcc: x@y.cn", "zhang@@example.cn", "zhang@localhost",
    "a b@example.cn", ".zhang@example.cn", "zhang.@example.cn", "zhang@-example.cn", "张三@example.cn",
    "x" * 65 + "@example.cn", "", "@example.cn", "zhang@",
])
def test_addresses_that_are_not_plain_local_at_domain_are_refused(bad):
    with pytest.raises(mail.AddressError):
        mail.check_address(bad)


def test_a_unicode_domain_goes_out_idna_encoded():
    wire = mail.check_address("li@工会.中国")
    assert wire.startswith("li@xn--") and wire.isascii()
    assert wire.partition("@")[2].encode("ascii").decode("idna") == "工会.中国"
    assert mail.check_address("o'brien+union@mail.example.cn") == "o'brien+union@mail.example.cn"


@given(subject=st.text(min_size=1, max_size=200).filter(lambda s: s.strip()),
       body=st.text(max_size=2000), name=st.text(max_size=40).filter(lambda n: len(n.encode("utf-8", "surrogatepass")) <= 45))
def test_any_text_round_trips(subject, body, name):
    parsed = _parse(_compose(subject, body, name=name))
    assert str(parsed["Subject"]) == " ".join(subject.split())
    assert parsed["To"].addresses[0].addr_spec == "zhang@example.cn"
    assert parsed["To"].addresses[0].display_name == " ".join(name.split())
    assert parsed.get_content().replace("\r\n", "\n") == body.replace("\r\n", "\n")
