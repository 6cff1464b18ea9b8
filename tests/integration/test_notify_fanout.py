"""Campaign fan-out: a CampaignLaunched tells every household of the campaign unit's subtree with an
open hardship file of a level the campaign pays, in chunks (keyset over the files' members, one
INSERT … SELECT each), with progress visible, and a redelivered event creates nothing new. Bounded memory is by design (at most one chunk of member ids in the
process) and measured by `python -m devstack.bench_notify`."""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date

import httpx
import pytest

from contracts.events import CampaignLaunched
from devstack.bench_membership import write_csv
from devstack.bench_notify import generate_members
from tests.support.membership import found_district
from tests.support.people import ROOT, auth
from tests.integration.test_notify_service import db_fetch, publish

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "notify", sinks=("smtpsink",), env={"notify": {
                  "NOTIFY_FANOUT_CHUNK_SIZE": "300", "NOTIFY_DISPATCH_BATCH_SIZE": "200", "NOTIFY_SEND_CONCURRENCY": "16"}})]

MEMBERS = 2000
HOUSEHOLDS = 1500  # of the members, those with an open file of a level the campaign pays


async def test_a_campaign_reaches_every_household_it_concerns_once_with_progress(stack, tmp_path):
    with httpx.Client(base_url=stack.url("membership"), headers=auth(), timeout=120) as membership:
        district = found_district(membership, name=f"群发测试区总工会{uuid.uuid4().hex[:4]}", unions=2)
        outside = found_district(membership, name=f"群发对照区总工会{uuid.uuid4().hex[:4]}")
        names = membership.get(f"/organisations/{district.union_ids[0]}").json()["name"], \
            membership.get(f"/organisations/{district.union_ids[1]}").json()["name"]
        sheet = tmp_path / "members.csv"
        tag = uuid.uuid4().hex[:6]
        write_csv(sheet, generate_members(MEMBERS, list(names), tag=tag, area="510121"))
        with sheet.open("rb") as fh:
            r = membership.post("/imports/members", files={"file": (sheet.name, fh, "text/csv")})
        assert r.status_code in (200, 201), r.text
        assert r.json()["imported"] == MEMBERS
        r = membership.post("/members", json={"union_id": outside.union_ids[0], "name": "区外会员",
                                               "id_number": "11010519491231002X", "email": f"outside-{tag}@example.cn"})
        assert r.status_code in (201, 409), r.text

    district_id = uuid.UUID(district.id)
    deadline = time.monotonic() + 90
    while (await db_fetch(stack, "SELECT count(*) AS n FROM members m JOIN contacts c USING (member_id)"
                          " WHERE m.org_path @> ARRAY[$1]::uuid[]", district_id))[0]["n"] < MEMBERS:
        assert time.monotonic() < deadline, "notify never saw the imported members"
        await asyncio.sleep(0.5)

    # Hardship files as welfare's HardshipFileOpened leave them in notify's projection: 1,500 of a
    # level the campaign pays, 300 of another, 200 members without a file; one member's file is
    # closed and they have a new one, another has two open files (told once).
    await db_fetch(stack, "INSERT INTO hardship_files (file_id, member_id, org_path, level, open)"
                          " SELECT gen_random_uuid(), member_id, org_path,"
                          " CASE WHEN n <= $2 THEN (ARRAY['deep', 'relative'])[n % 2 + 1] ELSE 'accident' END, true"
                          " FROM (SELECT member_id, org_path, row_number() OVER (ORDER BY member_id) AS n FROM members"
                          "       WHERE org_path @> ARRAY[$1]::uuid[]) m WHERE n <= $3",
                   district_id, HOUSEHOLDS, HOUSEHOLDS + 300)
    [closed] = await db_fetch(stack, "UPDATE hardship_files SET open = false WHERE file_id = (SELECT file_id FROM"
                                     " hardship_files WHERE level = 'deep' AND org_path @> ARRAY[$1]::uuid[] LIMIT 1)"
                                     " RETURNING member_id, org_path", district_id)
    await db_fetch(stack, "INSERT INTO hardship_files (file_id, member_id, org_path, level) VALUES"
                          " (gen_random_uuid(), $1, $2, 'relative'),"
                          " (gen_random_uuid(), (SELECT member_id FROM hardship_files WHERE open AND level = 'relative'"
                          "   AND org_path @> ARRAY[$3]::uuid[] AND member_id <> $1 LIMIT 1), $2, 'deep')",
                   closed["member_id"], closed["org_path"], district_id)

    launched = CampaignLaunched(
        campaign_id=uuid.uuid4(), name=f"金秋助学{tag}", kind="golden_autumn", org_id=district_id,
        org_path=[ROOT, district_id], fund_id=uuid.uuid4(), budget_fen=50_000_000, per_payment_cap_fen=300_000,
        per_person_year_cap_fen=600_000, starts_on=date(2025, 8, 1), ends_on=date(2025, 8, 31),
        levels=["deep", "relative"])
    event_id = await publish(stack, launched, times=2)  # redelivered at once

    with httpx.Client(base_url=stack.url("notify"), timeout=10) as notify:
        deadline = time.monotonic() + 120
        while True:
            r = notify.get(f"/fanouts/{event_id}", headers=auth("auditor"))
            if r.status_code == 200:
                progress = r.json()
                if progress["status"] == "done" and progress["pending"] + progress["sending"] == 0:
                    break
            assert time.monotonic() < deadline, f"fan-out not finished: {r.text}"
            await asyncio.sleep(0.2)
        assert (progress["total"], progress["members_done"]) == (HOUSEHOLDS, HOUSEHOLDS)
        assert progress["created"] == progress["delivered"] + progress["failed"]
        assert progress["created"] >= HOUSEHOLDS and progress["failed"] == 0
        assert notify.get(f"/fanouts/{event_id}", headers=auth("staff", found_district_id(outside))).status_code == 404
        assert notify.get(f"/fanouts/{uuid.uuid4()}", headers=auth()).status_code == 404

    rows = await db_fetch(stack, "SELECT channel, count(*) AS n, count(DISTINCT member_id) AS members FROM deliveries"
                          " WHERE source_event_id = $1 GROUP BY channel", event_id)
    email = next(r for r in rows if r["channel"] == "email")
    assert email["n"] == email["members"] == HOUSEHOLDS  # exactly once each
    with httpx.Client(base_url=stack.smtpsink_url, timeout=30) as sink:
        counted = sink.get("/messages/count", params={"subject_contains": f"金秋助学{tag}"}).json()
    assert counted == {"messages": HOUSEHOLDS, "receipts": HOUSEHOLDS}
    [fanouts] = await db_fetch(stack, "SELECT count(*) AS n FROM fanouts WHERE source_event_id = $1", event_id)
    assert fanouts["n"] == 1

    # The same event once more, after it finished: nothing new.
    before = sum(r["n"] for r in rows)
    await publish(stack, launched, event_id=event_id)  # under its id, as a relay replaying its outbox
    await asyncio.sleep(2.0)
    [after] = await db_fetch(stack, "SELECT count(*) AS n FROM deliveries WHERE source_event_id = $1", event_id)
    assert after["n"] == before


def found_district_id(district) -> str:
    return district.id
