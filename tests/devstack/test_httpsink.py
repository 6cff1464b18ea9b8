"""The local HTTP provider sink (SMS API + robot webhooks), run as its own process and spoken
to over HTTP like notify does."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.devstack.test_smtpsink import REPO

sys.path.insert(0, str(REPO / "deploy" / "local"))
from devstack.config import free_port  # noqa: E402
from devstack.httpsink import dingtalk_sign  # noqa: E402

SMS = {"to": "13800138000", "text": "【示例市总工会】张*，欢迎入会"}


@pytest.fixture()
def sink(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "libs"), str(REPO / "deploy/local")])}
    proc = subprocess.Popen([sys.executable, "-m", "devstack.httpsink", "--port", str(port), "--dir", str(tmp_path),
                             "--log-level", "warning", "--webhook-secret", "DEFAULT"], env=env, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        assert proc.poll() is None, "httpsink exited during startup"
        try:
            if httpx.get(url + "/health/ready", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "httpsink did not become ready"
            time.sleep(0.1)
    try:
        with httpx.Client(base_url=url, timeout=5, headers={"Authorization": "Bearer k"}) as c:
            yield c
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def test_a_repeated_idempotency_key_is_one_sms_with_two_receipts(sink):
    first = sink.post("/sms", json=SMS, headers={"Idempotency-Key": "d1"}).json()
    again = sink.post("/sms", json=SMS, headers={"Idempotency-Key": "d1"}).json()
    assert again["message_id"] == first["message_id"] and again["duplicate"]
    listed = sink.get("/sms").json()
    assert listed["count"] == 1 and listed["receipts"] == 2 and listed["sms"][0]["receipts"] == 2


def test_sms_without_api_key_or_with_a_bad_number_is_refused(sink):
    assert httpx.post(str(sink.base_url) + "/sms", json=SMS).status_code == 401
    assert sink.post("/sms", json={**SMS, "to": "12345"}).status_code == 400


def test_webhook_signatures_are_verified_and_recorded(sink):
    sink.post("/control/secrets", json={"token": "bot1", "secret": "SEC"})
    ts = int(time.time() * 1000)
    good = sink.post("/robot/send", params={"access_token": "bot1", "timestamp": ts, "sign": dingtalk_sign("SEC", ts)},
                     json={"msgtype": "text", "text": {"content": "hi"}})
    bad = sink.post("/robot/send", params={"access_token": "bot1", "timestamp": ts, "sign": dingtalk_sign("X", ts)},
                    json={"msgtype": "text", "text": {"content": "hi"}})
    stale = ts - 2 * 3600 * 1000
    old = sink.post("/cgi-bin/webhook/send", params={"key": "other", "timestamp": stale,
                                                     "sign": dingtalk_sign("DEFAULT", stale)}, json={"msgtype": "text"})
    assert good.json()["errcode"] == 0 and bad.json()["errcode"] == 310000 and old.json()["errcode"] == 310000
    hooks = sink.get("/webhooks", params={"all": "true"}).json()["webhooks"]
    assert [h["signature_valid"] for h in reversed(hooks)] == [True, False, False]


def test_fault_switch_fails_then_recovers(sink):
    sink.post("/control/fail", json={"mode": "tempfail", "count": 1, "target": "sms"})
    assert sink.post("/sms", json=SMS).status_code == 503
    sink.post("/control/fail", json={"mode": "permfail", "count": 1})
    assert sink.post("/sms", json=SMS).status_code == 400
    sink.post("/control/fail", json={"mode": "down", "count": 1})
    with pytest.raises(httpx.TransportError):
        sink.post("/sms", json=SMS)
    assert sink.post("/sms", json=SMS).status_code == 200
    assert sink.get("/control/fail").json()["mode"] == "off"


def test_receipts_survive_a_restart_and_delete_clears_one_kind(sink, tmp_path):
    sink.post("/sms", json=SMS, headers={"Idempotency-Key": "k"})
    lines = (tmp_path / "messages.jsonl").read_text().splitlines()
    assert len(lines) == 1 and '"kind": "sms"' in lines[0]
    assert sink.delete("/sms").status_code == 204
    assert sink.get("/sms").json()["count"] == 0
