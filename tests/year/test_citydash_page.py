"""The city dashboard as it runs in the year: the real broker (devstack.broker, memory only, the
contracts' schemas as its registry), real-shaped events published on the public topics, `python -m
citydash` as a process, and its page loaded in a real headless Chromium (Debian's /usr/bin/chromium).
The broker is restarted (it forgets its log) and the same events are published again: nothing is
counted twice, and what is new after the restart is counted."""
from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from citydash.feed import TOPICS
from devstack import broker
from devstack.config import REPO, free_port
from devstack.processes import wait_http_ready
from tests.year.citydash_events import Sample

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
KEYS = ("member_id", "org_id", "campaign_id", "case_id", "contest_id", "notification_id")


def the_year_so_far() -> Sample:
    """A handful of events of every kind the dashboard shows."""
    s = Sample()
    s.city()
    s.join("张三", "甲厂工会", "2026-01-10")
    s.join("李四", "乙厂工会", "2026-01-12")
    s.join("王五", "丙厂工会", "2026-02-03")
    s.leave("李四", "乙厂工会", "2026-02-20")
    s.coverage("东区", "district", members=1, target=5, at="2026-02-28T00:00:00+08:00")
    s.campaign("送温暖", 1000000)
    s.paid("张三", 80000, "送温暖", "p1")
    s.paid("王五", 50000, "送温暖", "p2")
    s.reversed("王五", 50000, "送温暖", "p2")
    s.paid("张三", 30000, None, "case-1")
    s.results("数控车工技能大赛", 1, [9300, 8800, 8100])
    s.delivered("sms", "2026-01-10T02:00:00+00:00")
    s.delivered("email", "2026-01-10T02:00:01+00:00")
    s.delivered("inapp", "2026-02-03T02:00:00+00:00")
    return s


class Dashboard:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.kafka_port, self.web_port = free_port(), free_port()
        self.bootstrap = f"127.0.0.1:{self.kafka_port}"
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.broker: subprocess.Popen | None = None
        self.process: subprocess.Popen | None = None

    def start_broker(self) -> None:
        self.broker = broker.start(self.tmp / "broker", self.kafka_port, log_file=self.tmp / "broker.log")
        broker.wait_ready(self.kafka_port, proc=self.broker)
        # As the services do at start and after a restart (ensure_topics). One partition each, so a
        # reader that kept its old positions after a restart would skip what is first in the new log.
        asyncio.run(self._create_topics())

    async def _create_topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(t, 1, 1) for t in TOPICS])
        finally:
            await admin.close()

    def start(self) -> None:
        self.start_broker()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        # deploy/local only: the dashboard needs neither libs/ (contracts, unionops) nor a service.
        env["PYTHONPATH"] = str(REPO / "deploy" / "local")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "citydash", "--bootstrap", self.bootstrap, "--port", str(self.web_port),
             "--state", str(self.tmp / "citydash.sqlite3")],
            env=env, cwd=self.tmp, stdout=open(self.tmp / "citydash.log", "ab"), stderr=subprocess.STDOUT)
        wait_http_ready(self.url + "/health/ready", proc=self.process)

    def publish(self, events) -> None:
        async def send():
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
            await producer.start()
            try:
                for e in events:
                    key = next(str(e.data[k]) for k in KEYS if e.data.get(k))
                    await producer.send_and_wait(e.topic, e.value(), key=key.encode(), headers=e.headers())
            finally:
                await producer.stop()
        asyncio.run(send())

    def figures(self) -> dict:
        return httpx.get(self.url + "/figures.json", params={"fresh": "true"}, timeout=30).json()

    def wait_for(self, events: int, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            f = self.figures()
            if f["totals"]["events"] >= events or time.monotonic() > deadline:
                return f
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.broker is not None:
            broker.stop(self.broker)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    d = Dashboard(tmp_path_factory.mktemp("citydash"))
    try:
        d.start()
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="module")
def published(dashboard) -> Sample:
    s = the_year_so_far()
    dashboard.publish(s.events)
    f = dashboard.wait_for(len(s.events))
    assert f["totals"]["events"] == len(s.events), (dashboard.tmp / "citydash.log").read_text()[-3000:]
    return s


def test_the_page_and_its_chart_library_are_served_by_the_dashboard_itself(dashboard):
    page = httpx.get(dashboard.url + "/").text
    assert '<script src="/static/plotly.min.js"></script>' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "nothing may come from another host (no CDN)"
    js = httpx.get(dashboard.url + "/static/plotly.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert len(js.content) > 1_000_000 and b"plotly" in js.content[:2000].lower()


def test_the_figures_equal_the_events_published(dashboard, published):
    t = dashboard.figures()["totals"]
    assert (t["members"], t["unions"], t["aid_fen"], t["notifications"], t["contests_published"]) == (
        2, 3, 80000 + 30000, 3, 1)


def chromium_dom(url: str, profile: Path) -> str:
    out = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium; "
                                                  ".ci/run installs it): the page cannot be loaded in a browser")
def test_the_page_loads_in_chromium_draws_its_charts_and_shows_the_totals_published(dashboard, published, tmp_path):
    dom = chromium_dom(dashboard.url + "/", tmp_path / "profile")
    assert 'data-loaded="yes"' in dom, dom[-2000:]

    def shown(element_id: str) -> str:
        m = re.search(rf'id="{element_id}">([^<]*)<', dom)
        assert m, f"#{element_id} missing"
        return m.group(1)

    assert shown("total-members") == "2"
    assert shown("total-unions") == "3"
    assert shown("total-aid-fen") == "110000"
    assert shown("total-notifications") == "3"
    for chart in ("members", "unions", "coverage", "aid", "notifications", "contests"):
        block = dom.split(f'id="chart-{chart}"', 1)[1].split('class="chart"', 1)[0]
        assert 'class="main-svg"' in block, f"chart {chart} was not drawn"
    assert dom.count('class="trace bars"') + dom.count('class="trace scatter"') >= 6
    assert "数控车工技能大赛" in dom and "一等奖" in dom


def test_a_broker_restart_and_the_same_events_published_again_count_once(dashboard, published):
    before = dashboard.figures()
    broker.stop(dashboard.broker)
    dashboard.start_broker()  # empty: no log, no group offsets
    later = Sample(clock=published.clock)
    later.join("赵六", "丙厂工会", "2026-03-02")
    later.delivered("webhook", "2026-03-02T03:00:00+00:00")
    # What is new comes first in the new log, then everything again with the same ids (the outbox replay).
    dashboard.publish(later.events + published.events)
    f = dashboard.wait_for(before["totals"]["events"] + len(later.events))
    t, b = f["totals"], before["totals"]
    assert t["events"] == b["events"] + 2
    assert (t["members"], t["notifications"], t["aid_fen"], t["unions"]) == (
        b["members"] + 1, b["notifications"] + 1, b["aid_fen"], b["unions"])
    deadline = time.monotonic() + 30
    while f["feed"]["broker_restarts_seen"] < 1 and time.monotonic() < deadline:
        time.sleep(0.5)
        f = dashboard.figures()
    assert f["feed"]["broker_restarts_seen"] >= 1
    time.sleep(3)  # read again from the beginning: still nothing counted twice
    assert dashboard.figures()["totals"] == t
