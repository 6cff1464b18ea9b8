"""Team notices from registration to the member's mailbox: a unit registers a team with
competitions over HTTP, notify tells its members over the real SMTP sink — registered, waiting,
moved up — and the team's name is used once, as the unit gave it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.test_notify_service import admit_member, new_address
from tests.integration.test_notify_subscriptions import mails
from tests.support.membership import found_district
from tests.support.people import auth
from tests.support.rows import projected

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "competitions", "notify", sinks=("smtpsink",),
                                   env={"notify": {"NOTIFY_POLL_INTERVAL_SECONDS": "0.5"}}, subject="competitions")]


async def test_team_notices_use_the_team_name_once(client, http, db, sink):
    district = found_district(client, unions=2)
    first, second = district.union_ids
    addresses = {union: new_address() for union in (first, second)}
    leaders = {union: admit_member(client, union, "许婷", email=addresses[union], female=True)
               for union in (first, second)}
    await projected(db, members=leaders.values(), units=[district.id, first, second])
    organiser = auth("staff", district.id, "文体委员")
    now = datetime.now(timezone.utc)
    r = await http.post("/contests", headers=organiser, json={
        "name": "职工趣味运动会", "kind": "fun", "org_id": district.id, "min_team_size": 1, "min_women": 0,
        "team_cap": 1, "opens_at": (now - timedelta(hours=1)).isoformat(),
        "closes_at": (now + timedelta(days=1)).isoformat()})
    assert r.status_code == 201, r.text
    contest = r.json()["id"]
    assert (await http.post(f"/contests/{contest}/status", json={"status": "open"}, headers=organiser)).status_code \
        == 200
    names = {first: "金牛第4代表队", second: "金牛第5代表队"}
    teams = {}
    for union in (first, second):
        r = await http.post(f"/contests/{contest}/teams", headers=organiser, json={
            "union_id": union, "name": names[union], "members": [{"member_id": leaders[union], "leader": True}]})
        assert r.status_code == 201, r.text
        teams[union] = r.json()["id"]
    r = await http.post(f"/contests/{contest}/teams/{teams[first]}/withdraw", headers=organiser)
    assert r.status_code == 200, r.text

    notices = [m for m in await mails(sink, addresses[first], 2) if "报名成功" in m["subject"]]
    notices += [m for m in await mails(sink, addresses[second], 3) if "候补" in m["subject"]]
    assert sorted(m["subject"] for m in notices) == [
        "职工趣味运动会：候补递补成功", "职工趣味运动会：已进入候补名单", "职工趣味运动会：报名成功"]
    for m in notices:
        [name] = {n for n in names.values() if n in m["text"]}
        assert m["text"].count(name) == 1 and f"“{name}”" in m["text"], m["text"]
        assert "代表队”代表队" not in m["text"] and f"{name}代表队" not in m["text"]
