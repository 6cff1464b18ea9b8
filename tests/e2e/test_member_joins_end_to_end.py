"""One admission followed through all four services."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.support.membership import admit, found_district
from tests.support.people import new_resident_id
from tests.support.rows import query
from tests.support.sinks import messages_to
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


async def test_a_member_join_travels_through_all_four_services_as_one_trace(system, membership_client, sink,
                                                                            stack_config):
    district = found_district(membership_client)
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.cn"
    id_number = new_resident_id()
    response = admit(membership_client, district.union_ids[0], name="周杰", email=email, id_number=id_number,
                     phone="13700001111")
    assert response.status_code == 201, response.text
    member_id = uuid.UUID(response.json()["id"])
    trace_id = response.headers["X-Trace-Id"]

    # welfare and competitions now hold the member in their own projections
    for service in ("welfare", "competitions"):
        async def held(service=service):
            return (await query(stack_config.dsn(service), "SELECT count(*) FROM members WHERE member_id = $1",
                                member_id))[0][0]
        deadline = time.monotonic() + 60
        while not await held() and time.monotonic() < deadline:
            time.sleep(0.3)
        assert await held() == 1, f"{service} does not hold the member"

    # exactly one welcome e-mail reached the SMTP sink
    welcome = eventually_sync(lambda: messages_to(sink, email), "the welcome e-mail")
    time.sleep(1.0)  # a duplicate, if any, would arrive right after
    receipts = messages_to(sink, email, raw=True)
    assert len(receipts) == 1, receipts
    assert "欢迎" in welcome[0]["subject"] and "周杰" in welcome[0]["text"]

    # the spans of all services for this admission share one trace id
    with httpx.Client(base_url=stack_config.tracesink_url, timeout=10) as traces:
        def all_services_in_trace():
            r = traces.get(f"/api/traces/{trace_id}")
            return r.status_code == 200 and {"membership", "welfare", "competitions", "notify"} <= set(r.json()["services"])

        eventually_sync(all_services_in_trace, "spans of all four services in one trace")
        spans = traces.get(f"/api/traces/{trace_id}").json()["spans"]
    names = {(s["service"], s["name"]) for s in spans}
    assert any(svc == "membership" and "POST /members" in name for svc, name in names), names
    assert ("notify", "process MemberJoined") in names
    everything = str(spans)  # personal data never in span attributes or names
    assert id_number not in everything and "13700001111" not in everything
