"""The outbox rows commands stage, read back against the contract (contracts.events): each
payload is a valid event of its type with nothing left over, on its type's topic, under its key.
Commands are called directly inside a rolled-back transaction."""
from __future__ import annotations

import pytest

from contracts.events import event_class
from tests.support.inprocess import admit, branch, loopback, merge, move, open_case, staff, staged, staged_event, transfer

pytestmark = pytest.mark.integration


def breaches_of_contract(rows) -> list[str]:
    found = []
    for row in rows:
        cls = event_class(row["event_type"])
        event = staged_event(row)  # raises when the payload is not a valid event of its type
        payload = row["payload"]
        if event.model_dump(mode="json") != payload:
            found.append(f"{row['event_type']}: payload {payload} is not the event's own form")
        if row["topic"] != cls.topic:
            found.append(f"{row['event_type']} staged on {row['topic']}, its contract says {cls.topic}")
        if row["key"] != event.key():
            found.append(f"{row['event_type']} keyed {row['key']}, its contract says {event.key()}")
    return found


async def test_every_event_membership_commands_stage_keeps_its_contract(rolled_back):
    membership = await rolled_back("membership")
    east, west = await branch(membership, "锦江"), await branch(membership, "青羊")
    member = await admit(membership, east[-1], "王秀英", female=True, is_migrant_worker=True)
    await transfer(membership, member, west[-1])
    await merge(membership, east[-1], west[-1])
    await move(membership, west[1], east[0])
    rows = await staged(membership)
    assert {"UnionEstablished", "MemberJoined", "MemberTransferred", "UnionMerged", "UnionMoved"} <= \
        {r["event_type"] for r in rows}
    assert breaches_of_contract(rows) == []


async def test_case_opened_keeps_its_contract_and_carries_no_summary(rolled_back):
    membership, welfare = await rolled_back("membership"), await rolled_back("welfare")
    path = await branch(membership, "锦江")
    member = await admit(membership, path[-1], "王秀英")
    await loopback(membership, "welfare", welfare)
    case = await open_case(welfare, member, staff(path[0]), summary="丈夫重病住院，女儿上学")
    [row] = [r for r in await staged(welfare) if r["event_type"] == "CaseOpened"]
    assert breaches_of_contract([row]) == []
    assert row["key"] == str(case["id"]) and "丈夫重病" not in str(row["payload"])
