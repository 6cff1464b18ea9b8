"""One request, one trace: whatever came before on a keep-alive connection, a request starts a
trace of its own (or joins the caller's `traceparent`).

Seen on main: after a request whose body was large enough for the server to pause reading the
socket (uvicorn pauses above 64 KiB and resumes from inside the request), every later request
on that connection ran inside the first request's trace context and carried its X-Trace-Id."""
from __future__ import annotations

import httpx
import pytest

from tests.support.people import auth


# A route of each service that reads a JSON body, and one that reads none.
POSTS = {"membership": "/organisations", "welfare": "/visits", "competitions": "/contests", "notify": "/officers"}
SERVICES = tuple(POSTS)

pytestmark = [pytest.mark.integration,
              pytest.mark.services(*SERVICES)]

# A JSON body the server must read whole to refuse (an unknown field): bigger than uvicorn's
# 64 KiB read buffer, smaller than any route's size limit.
BIG_BODY = '{"padding": "' + "x" * 200_000 + '"}'
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize("service", SERVICES)
def test_each_request_on_a_keep_alive_connection_is_its_own_trace(services, service):
    with httpx.Client(base_url=services[service].url, timeout=10, headers=auth()) as client:
        def big() -> httpx.Response:
            r = client.post(POSTS[service], content=BIG_BODY, headers={"Content-Type": "application/json"})
            assert 400 <= r.status_code < 500, r.text[:200]
            return r

        first = big().headers.get("X-Trace-Id")
        later = [client.get("/no-such-page").headers.get("X-Trace-Id") for _ in range(5)]
        later += [big().headers.get("X-Trace-Id") for _ in range(3)]
        joined = client.get("/no-such-page", headers={"traceparent": TRACEPARENT}).headers.get("X-Trace-Id")
    ids = [first, *later]
    assert all(ids), ids
    assert len(set(ids)) == len(ids), f"requests shared a trace: {ids}"
    assert joined == TRACEPARENT.split("-")[1]
