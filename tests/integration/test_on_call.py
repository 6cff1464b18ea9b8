"""The tools for the people on call, against the four services as processes on the real broker and
PostgreSQL: `make status` (devstack.status), dead letters (list, inspect with personal data
masked, replay after the cause is fixed — exactly once —, discard with a reason, all audited),
an outbox replay the consumers dedupe, and the admin API refused to anyone but a city admin."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta

import httpx
import pytest

from devstack.config import REPO
from unionops.clock import local_now

from tests.support.people import ROOT, auth
from tests.support.processes import database_fixture
from tests.support.rows import projected
from tests.support.waiting import eventually

SERVICES = ("membership", "welfare", "competitions", "notify")

pytestmark = [pytest.mark.integration,
              pytest.mark.services(*SERVICES, subject="welfare")]
PHONE = "13912345678"
# A check in welfare's database that refuses some members — the "cause" an operator fixes — and
# a log of every write to welfare's members, to count how often an event took effect.
POISON = f"""
CREATE TABLE IF NOT EXISTS poison (name text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS member_writes (member_id uuid NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM poison WHERE name = NEW.name) THEN
        RAISE EXCEPTION 'member refused by a local check, call {PHONE}';
    END IF;
    INSERT INTO member_writes (member_id) VALUES (NEW.member_id);
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS refuse_poison ON members;
CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON members FOR EACH ROW EXECUTE FUNCTION refuse_poison();
"""


@pytest.fixture(scope="module")
def world(membership):
    yield {"branch": membership.branch("武侯"), "membership": membership}


membership_db = database_fixture("membership")


@pytest.fixture
async def welfare(services):
    async with httpx.AsyncClient(base_url=services["welfare"].url, timeout=30, headers=auth()) as client:
        yield client


def status_command(stack_config, *args: str) -> subprocess.CompletedProcess:
    """`make status` as an operator runs it: the stack's ports from the environment (as `.env`)."""
    env = dict(os.environ, PYTHONPATH=stack_config.pythonpath(), **{
        f"{s.upper()}_HTTP_PORT": str(stack_config.service_ports[s]) for s in SERVICES})
    return subprocess.run([sys.executable, "-m", "devstack.status", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def line_of(output: str, service: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(service))


async def pending_dead_letters(welfare) -> list[dict]:
    r = await welfare.get("/admin/dead-letters", params={"consumer": "welfare.members", "status": "pending"})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_make_status_shows_every_service_healthy(services, stack_config):
    done = status_command(stack_config)
    assert done.returncode == 0, done.stdout + done.stderr
    for service in SERVICES:
        line = line_of(done.stdout, service)
        assert re.search(rf"^{service}\s+yes\s+ok\s+ok\s+", line), line
    assert "deliveries_pending=" in line_of(done.stdout, "notify")
    assert "全部健康" in done.stdout


async def test_a_poisoned_event_is_dead_lettered_inspected_masked_replayed_once_after_the_fix(
        world, welfare, db, stack_config):
    await db.execute(POISON)
    names = {"replay": "司马相如", "discard": "欧阳修文"}
    await db.executemany("INSERT INTO poison (name) VALUES ($1) ON CONFLICT DO NOTHING", [(n,) for n in names.values()])
    membership = world["membership"]
    ids = {k: membership.admit(world["branch"].grassroots, n) for k, n in names.items()}

    async def both_dead_lettered():
        items = await pending_dead_letters(welfare)
        found = {i["event_id"]: i for i in items if i["event_type"] == "MemberJoined"}
        events = await membership_events(stack_config, ids.values())
        return {k: found[str(events[m])] for k, m in ids.items()} if all(
            str(events.get(m)) in found for m in ids.values()) else None

    dead = await eventually(both_dead_lettered, "both admissions in welfare's dead letters", timeout=60)
    # Listed and inspected, without a name or the phone in clear; the member's id is there to act on.
    listing = (await welfare.get("/admin/dead-letters")).text
    one = await welfare.get(f"/admin/dead-letters/{dead['replay']['id']}")
    assert one.status_code == 200, one.text
    for text in (listing, one.text):
        assert not any(n in text for n in names.values()) and PHONE not in text
    detail = one.json()
    assert detail["payload"]["name"] == "司**如" and detail["payload"]["member_id"] == str(ids["replay"])
    assert detail["headers"]["ce_type"] == "MemberJoined" and detail["consumer"] == "welfare.members"
    assert "member refused by a local check" in detail["error"] and detail["topic"] == "membership.member.v1"
    assert await db.fetchval("SELECT count(*) FROM members WHERE member_id = ANY($1::uuid[])", list(ids.values())) == 0

    # Replayed before the cause is fixed: refused, nothing changed, the attempt audited.
    again = await welfare.post(f"/admin/dead-letters/{dead['replay']['id']}/replay", json={"reason": "先试一次"})
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    assert PHONE not in again.text
    assert await db.fetchval("SELECT status FROM inbox WHERE consumer = 'welfare.members' AND event_id = $1",
                             uuid.UUID(dead["replay"]["event_id"])) == "dead_lettered"

    # Fixed, replayed: the member is there, written once; a second replay changes nothing.
    await db.execute("DELETE FROM poison WHERE name = $1", names["replay"])
    replayed = await welfare.post(f"/admin/dead-letters/{dead['replay']['id']}/replay", json={"reason": "检查已修正"})
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == {"id": dead["replay"]["id"], "status": "replayed", "outcome": "replayed", "error": None}
    twice = await welfare.post(f"/admin/dead-letters/{dead['replay']['id']}/replay")
    assert twice.json()["outcome"] == "already_replayed"
    assert await db.fetchval("SELECT count(*) FROM member_writes WHERE member_id = $1", ids["replay"]) == 1
    assert await db.fetchval("SELECT status FROM inbox WHERE consumer = 'welfare.members' AND event_id = $1",
                             uuid.UUID(dead["replay"]["event_id"])) == "applied"

    # The other one is discarded — only with a reason — and can no longer be replayed.
    no_reason = await welfare.post(f"/admin/dead-letters/{dead['discard']['id']}/discard", json={})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    discarded = await welfare.post(f"/admin/dead-letters/{dead['discard']['id']}/discard",
                                   json={"reason": "测试数据，已在会员系统删除"})
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    refused = await welfare.post(f"/admin/dead-letters/{dead['discard']['id']}/replay")
    assert refused.status_code == 409
    assert (await welfare.get("/admin/dead-letters", params={"status": "pending"})).json()["total"] == 0

    # All audited: who, when, what, why, how it ended.
    actions = (await welfare.get("/admin/actions")).json()
    mine = [(a["action"], a["target"], a["outcome"], a["reason"], a["actor"]) for a in reversed(actions)
            if a["target"] in {f"dead_letter:{d['id']}" for d in dead.values()}]
    assert mine == [
        ("dead_letter.replay", f"dead_letter:{dead['replay']['id']}", "failed", "先试一次", "test-admin"),
        ("dead_letter.replay", f"dead_letter:{dead['replay']['id']}", "replayed", "检查已修正", "test-admin"),
        ("dead_letter.discard", f"dead_letter:{dead['discard']['id']}", "discarded", "测试数据，已在会员系统删除",
         "test-admin"),
    ]
    assert all(a["at"] for a in actions)


async def membership_events(stack_config, member_ids) -> dict:
    """The event id of each member's MemberJoined in membership's outbox."""
    from unionops import db as database

    conn = await database.connect(stack_config.dsn("membership"))
    try:
        rows = await conn.fetch("SELECT key, event_id FROM outbox WHERE event_type = 'MemberJoined'"
                                " AND key = ANY($1::text[])", [str(m) for m in member_ids])
    finally:
        await conn.close()
    return {uuid.UUID(r["key"]): r["event_id"] for r in rows}


def duplicates(metrics_text: str, consumer: str) -> float:
    return sum(float(v) for v in re.findall(
        rf'^unionops_consumer_events_total\{{[^}}]*consumer="{re.escape(consumer)}"[^}}]*outcome="duplicate"[^}}]*\}}'
        r"\s+([0-9.eE+-]+)$", metrics_text, re.M) + re.findall(
        rf'^unionops_consumer_events_total\{{[^}}]*outcome="duplicate"[^}}]*consumer="{re.escape(consumer)}"[^}}]*\}}'
        r"\s+([0-9.eE+-]+)$", metrics_text, re.M))


async def test_an_outbox_replay_republishes_and_the_consumer_applies_nothing_twice(
        world, services, welfare, db, membership_db):
    await db.execute(POISON)
    membership = world["membership"]
    since = local_now() - timedelta(seconds=5)
    member = membership.admit(world["branch"].grassroots, "诸葛明远")
    await projected(db, members=[member])
    until = local_now() + timedelta(seconds=5)
    writes_before = await db.fetchval("SELECT count(*) FROM member_writes")
    async with httpx.AsyncClient(base_url=services["membership"].url, timeout=30, headers=auth()) as http:
        body = {"topic": "membership.member.v1", "since": since.isoformat(), "until": until.isoformat()}
        counted = await http.post("/admin/outbox/replay", json=body)
        assert counted.status_code == 200, counted.text
        n = counted.json()["events"]
        assert counted.json()["dry_run"] is True and n >= 1
        assert await membership_db.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        handled = await membership_db.fetchval(  # the replayed events welfare handles (others it ignores)
            "SELECT count(*) FROM outbox WHERE topic = 'membership.member.v1' AND occurred_at >= $1"
            " AND occurred_at < $2 AND event_type = ANY($3::text[])", since, until,
            ["MemberJoined", "MemberTransferred", "MemberStatusChanged", "MemberLeft"])
        refused = await http.post("/admin/outbox/replay", json=body | {"dry_run": False})
        assert refused.status_code == 422 and "reason" in refused.json()["detail"]
        metrics_before = duplicates((await welfare.get("/metrics")).text, "welfare.members")
        done = await http.post("/admin/outbox/replay", json=body | {"dry_run": False, "reason": "福利库从备份恢复"})
        assert done.status_code == 200 and done.json()["events"] == n
        actions = (await http.get("/admin/actions", params={"action": "outbox.replay"})).json()
        assert actions[0]["reason"] == "福利库从备份恢复" and actions[0]["detail"]["events"] == n

    async def republished():
        return await membership_db.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0

    await eventually(republished, "the relay to publish the replayed rows again")

    async def welfare_saw_them_again():
        return duplicates((await welfare.get("/metrics")).text, "welfare.members") >= metrics_before + handled

    await eventually(welfare_saw_them_again, "welfare to receive the replayed events (as duplicates)", timeout=60)
    assert await db.fetchval("SELECT count(*) FROM member_writes") == writes_before


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/admin/status", None), ("GET", "/admin/dead-letters", None), ("GET", "/admin/dead-letters/1", None),
    ("POST", "/admin/dead-letters/1/replay", {}), ("POST", "/admin/dead-letters/replay", {}),
    ("POST", "/admin/dead-letters/1/discard", {"reason": "不需要"}), ("GET", "/admin/actions", None),
    ("POST", "/admin/outbox/replay", {"since": "2026-01-01T00:00:00+08:00", "until": "2026-01-02T00:00:00+08:00"}),
])
def test_only_a_city_federation_admin_may_use_the_on_call_api(services, world, method, path, body):
    district = world["branch"].district
    callers = {401: {}, 403: auth("staff", ROOT, "city-staff")}
    with httpx.Client(base_url=services["welfare"].url, timeout=10) as http:
        for status, headers in callers.items():
            r = http.request(method, path, json=body, headers=headers)
            assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json")
        # a federation admin of one district does not see the whole city's dead letters
        r = http.request(method, path, json=body, headers=auth("federation_admin", district, "district-admin"))
        assert r.status_code == 403


def test_make_status_turns_unhealthy_when_a_service_is_stopped(services, stack_config):
    services["competitions"].stop()
    done = status_command(stack_config)
    assert done.returncode == 1
    assert re.search(r"^competitions\s+NO\s", line_of(done.stdout, "competitions"))
    assert "不健康：competitions" in done.stdout
    assert re.search(r"^welfare\s+yes\s", line_of(done.stdout, "welfare"))
