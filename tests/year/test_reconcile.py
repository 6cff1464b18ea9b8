"""Reconciling the city dashboard with the services' own APIs (devstack.year.reconcile): with
membership and notify running as processes on the real broker and PostgreSQL, the figures the
dashboard built from events equal what the APIs say; an event that the services never made (a
wrong or forged one on a public topic) shows up as a difference line."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devstack.config import REPO, StackConfig, free_port
from devstack.processes import Infrastructure, ServiceProcess, stop_services, wait_http_ready
from devstack.year.reconcile import reconcile
from tests.support.membership import admit, found_district
from tests.support.people import auth, token

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack_config(tmp_path_factory):
    """A broker and PostgreSQL of this module's own: the dashboard reads every topic from its
    beginning, and the suite's shared ones hold other tests' events (forged, erased, rows planted
    behind the services' backs) that no API would reconcile."""
    cfg = StackConfig.ephemeral(tmp_path_factory.mktemp("reconcile-stack"))
    infra = Infrastructure(cfg, fsync=False).start()
    try:
        yield cfg
    finally:
        infra.stop()


@pytest.fixture(scope="module")
def city(stack_config, tmp_path_factory):
    services = [ServiceProcess(stack_config, name) for name in ("membership", "notify")]
    for s in services:
        s.start(wait=False)
    for s in services:
        s.wait_ready()
    port, tmp = free_port(), tmp_path_factory.mktemp("citydash")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(REPO / "deploy" / "local")}
    dash = subprocess.Popen([sys.executable, "-m", "citydash", "--bootstrap", f"127.0.0.1:{stack_config.kafka_port}",
                             "--port", str(port)], env=env, cwd=tmp,
                            stdout=open(tmp / "citydash.log", "ab"), stderr=subprocess.STDOUT)
    try:
        wait_http_ready(f"http://127.0.0.1:{port}/health/ready", proc=dash)
        yield {s.name: s.url for s in services}, f"http://127.0.0.1:{port}"
    finally:
        dash.terminate()
        dash.wait(15)
        stop_services(services)


def settled(urls, dashboard, timeout=60.0) -> list[str]:
    """Reconcile until nothing differs (events still on their way) or the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        lines = asyncio.run(reconcile(urls, token(), dashboard))
        if not lines or time.monotonic() > deadline:
            return lines
        time.sleep(1)


def test_the_dashboard_reconciles_with_membership_and_notify(city):
    urls, dashboard = city
    with httpx.Client(base_url=urls["membership"], headers=auth(), timeout=30) as client:
        east, west = found_district(client, unions=2), found_district(client, unions=1)
        names = iter(["张一", "李二", "王三", "赵四", "钱五"])
        for i, union in enumerate(east.union_ids * 2 + west.union_ids):
            r = admit(client, union, name=next(names), email=f"member{i}@example.test")
            assert r.status_code == 201, r.text
    assert settled(urls, dashboard) == []
    figures = httpx.get(dashboard + "/figures.json", params={"fresh": "true"}).json()
    districts = {d["id"]: d for d in figures["districts"]}
    assert (districts[east.id]["members"], districts[east.id]["unions"]) == (4, 2)
    assert (districts[west.id]["members"], districts[west.id]["unions"]) == (1, 1)


def test_an_event_the_services_never_made_is_a_difference(city, stack_config):
    urls, dashboard = city
    with httpx.Client(base_url=urls["membership"], headers=auth(), timeout=30) as client:
        district = found_district(client, unions=1)
    assert settled(urls, dashboard) == []
    union = district.union_ids[0]
    forged_member = {"member_id": str(uuid.uuid4()), "union_id": union, "union_name": "伪造", "org_path": [],
                     "name": "无此人", "gender": "male", "birth_year": 1980, "joined_on": "2026-01-05"}
    with httpx.Client(base_url=urls["membership"], headers=auth(), timeout=30) as client:
        forged_member["org_path"] = client.get(f"/organisations/{union}").json()["path"]
    forged_delivery = {"notification_id": str(uuid.uuid4()), "source_event_id": str(uuid.uuid4()),
                       "source_event_type": "MemberJoined", "member_id": forged_member["member_id"],
                       "channel": "sms", "template": "member_welcome",
                       "delivered_at": datetime.now(timezone.utc).isoformat()}

    async def publish():
        producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{stack_config.kafka_port}")
        await producer.start()
        try:
            for topic, event_type, key, data in (
                    ("membership.member.v1", "MemberJoined", forged_member["member_id"], forged_member),
                    ("notify.delivery.v1", "NotificationDelivered", forged_delivery["notification_id"],
                     forged_delivery)):
                await producer.send_and_wait(topic, json.dumps(data).encode(), key=key.encode(), headers=[
                    ("ce_specversion", b"1.0"), ("ce_id", str(uuid.uuid4()).encode()),
                    ("ce_type", event_type.encode()), ("ce_source", b"/tests/forged"),
                    ("ce_time", datetime.now(timezone.utc).isoformat().encode())])
        finally:
            await producer.stop()
    asyncio.run(publish())
    deadline, lines = time.monotonic() + 60, []
    while len(lines) < 3 and time.monotonic() < deadline:
        time.sleep(1)
        lines = asyncio.run(reconcile(urls, token(), dashboard))
    text = "\n".join(lines)
    assert "会员数" in text and district.id in text, text
    assert "全市" in text, text
    assert forged_delivery["source_event_id"] in text, text
