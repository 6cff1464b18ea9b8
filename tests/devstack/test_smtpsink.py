"""The local SMTP sink, run as its own process and spoken to with smtplib like notify does."""
from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import httpx
import pytest

from devstack.config import free_port

REPO = Path(__file__).resolve().parents[2]



class Sink:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.smtp_port = free_port()
        self.http_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Sink":
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "libs"), str(REPO / "deploy/local")])}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "devstack.smtpsink", "--smtp-port", str(self.smtp_port),
             "--http-port", str(self.http_port), "--dir", str(self.state_dir), "--log-level", "warning"],
            env=env, cwd=REPO,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "smtpsink exited during startup"
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError("smtpsink did not become ready")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def get(self, path: str, **params) -> dict:
        response = httpx.get(self.url + path, params=params, timeout=5)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="module")
def sink(tmp_path_factory):
    sink = Sink(tmp_path_factory.mktemp("smtpsink")).start()
    yield sink
    sink.stop()


@pytest.fixture(autouse=True)
def empty_sink(sink):
    httpx.delete(f"{sink.url}/messages", timeout=5).raise_for_status()
    httpx.post(f"{sink.url}/control/fail", json={"mode": "off"}, timeout=5).raise_for_status()


def _mail(to: str = "zhang.wei@example.org", message_id: str | None = None, cte: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "市总工会 <notify@unionops.local>"
    msg["To"] = to
    msg["Subject"] = "困难帮扶申请已受理"
    msg["Message-ID"] = message_id or make_msgid(domain="unionops.local")
    msg["X-UnionOps-Delivery-Id"] = "d-1"
    msg.set_content("张伟同志：\n您的困难帮扶申请已受理，我们将在五个工作日内联系您。\n", cte=cte)
    return msg


def _send(sink: Sink, msg: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", sink.smtp_port, timeout=10) as smtp:
        smtp.send_message(msg)


@pytest.mark.parametrize("cte", ["base64", "quoted-printable"])
def test_received_mail_is_listed_with_decoded_chinese_subject_and_body(sink, cte):
    msg = _mail(cte=cte)
    _send(sink, msg)

    listed = sink.get("/messages")
    assert listed["count"] == 1
    m = listed["messages"][0]
    assert m["subject"] == "困难帮扶申请已受理"
    assert "五个工作日内" in m["text"]
    assert m["message_id"] == msg["Message-ID"]
    assert m["rcpt_tos"] == ["zhang.wei@example.org"]
    assert m["mail_from"] == "notify@unionops.local"
    assert m["headers"]["X-UnionOps-Delivery-Id"] == "d-1"
    assert m["receipts"] == 1


def test_same_message_id_twice_is_one_message_with_two_receipts(sink):
    msg = _mail()
    _send(sink, msg)
    _send(sink, msg)
    _send(sink, _mail(to="li.na@example.org"))

    folded = sink.get("/messages")
    assert folded["count"] == 2
    twice = next(m for m in folded["messages"] if m["message_id"] == msg["Message-ID"])
    assert twice["receipts"] == 2
    assert sink.get("/messages", all="true")["count"] == 3
    assert sink.get("/messages/count") == {"messages": 2, "receipts": 3}
    assert [m["rcpt_tos"] for m in sink.get("/messages", to="LI.NA@example.org")["messages"]] == [["li.na@example.org"]]
    assert sink.get("/messages", subject_contains="帮扶")["count"] == 2
    assert sink.get("/messages", subject_contains="竞赛")["count"] == 0


def test_tempfail_at_rcpt_refuses_the_next_message_only(sink):
    httpx.post(f"{sink.url}/control/fail", json={"mode": "tempfail", "count": 1}).raise_for_status()

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _send(sink, _mail())
    assert refused.value.recipients["zhang.wei@example.org"][0] == 451

    _send(sink, _mail())  # the switch has turned itself off
    assert sink.get("/messages/count") == {"messages": 1, "receipts": 1}
    assert sink.get("/control/fail")["mode"] == "off"


def test_permfail_at_data_refuses_until_switched_off(sink):
    httpx.post(f"{sink.url}/control/fail", json={"mode": "permfail", "stage": "data", "count": None}).raise_for_status()

    for _ in range(2):
        with pytest.raises(smtplib.SMTPDataError) as refused:
            _send(sink, _mail())
        assert refused.value.smtp_code == 550
    httpx.post(f"{sink.url}/control/fail", json={"mode": "off"}).raise_for_status()
    _send(sink, _mail())

    assert sink.get("/messages/count") == {"messages": 1, "receipts": 1}


def test_receipts_survive_a_restart_of_the_sink(tmp_path):
    first = Sink(tmp_path).start()
    try:
        msg = _mail()
        _send(first, msg)
        _send(first, msg)
    finally:
        first.stop()
    second = Sink(tmp_path).start()
    try:
        listed = second.get("/messages")
        assert listed["count"] == 1 and listed["messages"][0]["receipts"] == 2
        _send(second, _mail())
        assert max(m["seq"] for m in second.get("/messages", all="true")["messages"]) == 3
    finally:
        second.stop()


def test_list_command_prints_recent_messages(sink):
    _send(sink, _mail())
    out = subprocess.run(
        [sys.executable, "-m", "devstack.smtpsink", "list", "--url", sink.url],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "libs"), str(REPO / "deploy/local")])},
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout
    assert "困难帮扶申请已受理" in out and "zhang.wei@example.org" in out


def test_receipts_name_the_connection_they_came_over(sink):
    with smtplib.SMTP("127.0.0.1", sink.smtp_port, timeout=10) as smtp:
        smtp.send_message(_mail())
        smtp.send_message(_mail())
    _send(sink, _mail())
    first, second, third = sorted(sink.get("/messages", all="true")["messages"], key=lambda m: m["seq"])
    assert first["connection_id"] == second["connection_id"] != third["connection_id"]


def test_mails_on_many_connections_at_once_are_all_kept_once_and_numbered(tmp_path):
    """Receipts arriving together share an fsync (group commit); each is still acknowledged
    only once written, numbered without gaps, and on disk across a restart."""
    from concurrent.futures import ThreadPoolExecutor

    first = Sink(tmp_path).start()
    try:
        def send_many(worker: int) -> None:
            with smtplib.SMTP("127.0.0.1", first.smtp_port, timeout=10) as smtp:
                for i in range(25):
                    smtp.send_message(_mail(to=f"w{worker}.m{i}@example.org"))
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(send_many, range(8)))
        receipts = first.get("/messages", all="true", limit=1000)["messages"]
        assert sorted(m["seq"] for m in receipts) == list(range(1, 201))
        assert len({m["rcpt_tos"][0] for m in receipts}) == 200
    finally:
        first.stop()
    second = Sink(tmp_path).start()
    try:
        assert second.get("/messages/count")["messages"] == 200
    finally:
        second.stop()
