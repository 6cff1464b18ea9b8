"""The terminal commands of the local stack (make traces, make trace, make mail, the HTTP sink's
list) ask the sinks of this stack: the ports of the environment and `.env`, not the defaults."""
from __future__ import annotations

import pytest

from devstack import httpsink, smtpsink, traces


@pytest.fixture()
def other_ports(monkeypatch):
    for name in ("TRACESINK_URL", "SMTPSINK_URL", "HTTPSINK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRACESINK_PORT", "14318")
    monkeypatch.setenv("SMTPSINK_HTTP_PORT", "18025")
    monkeypatch.setenv("HTTPSINK_PORT", "18026")


def test_the_trace_commands_ask_the_trace_sink_on_tracesink_port(other_ports):
    assert traces.build_parser().parse_args(["recent"]).url == "http://127.0.0.1:14318"


def test_the_mail_list_asks_the_smtp_sink_on_its_http_port(other_ports, monkeypatch):
    seen = {}
    monkeypatch.setattr(smtpsink.httpx, "get", lambda url, **kw: seen.setdefault("url", url) and _stop())
    with pytest.raises(_Stop):
        smtpsink._list([])
    assert seen["url"].startswith("http://127.0.0.1:18025/")


def test_the_http_sink_list_asks_the_http_sink_on_httpsink_port(other_ports, monkeypatch):
    seen = {}
    monkeypatch.setattr(httpsink.httpx, "get", lambda url, **kw: seen.setdefault("url", url) and _stop())
    with pytest.raises(_Stop):
        httpsink._list([])
    assert seen["url"].startswith("http://127.0.0.1:18026/")


class _Stop(Exception):
    pass


def _stop():
    raise _Stop
