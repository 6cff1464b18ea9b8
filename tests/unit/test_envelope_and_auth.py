import uuid
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from unionops.auth import Authenticator, issue_token
from unionops.envelope import Envelope, EnvelopeError, from_record
from unionops.problems import Problem
from unionops.settings import CommonSettings


def _record(headers, value=b'{"a": 1}'):
    return SimpleNamespace(headers=headers, value=value, key=b"k", topic="t", partition=0, offset=5)


def test_cloudevents_attributes_round_trip_through_kafka_headers():
    env = Envelope(id=uuid.uuid4(), type="MemberJoined", source="unionops/membership",
                   time=datetime.now(timezone.utc), data={"a": 1}, subject="s",
                   trace={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})
    back = from_record(_record(env.kafka_headers(), env.value()))
    assert (back.id, back.type, back.source, back.subject, back.data) == (env.id, env.type, env.source, "s", {"a": 1})
    assert back.trace["traceparent"] == env.trace["traceparent"]
    assert dict(env.kafka_headers())["ce_specversion"] == b"1.0"


@pytest.mark.parametrize("headers, value, reason", [
    ([], b"{}", "missing CloudEvents headers"),
    ([("ce_id", b"nope"), ("ce_type", b"X"), ("ce_source", b"s")], b"{}", "UUID"),
    ([("ce_id", str(uuid.uuid4()).encode()), ("ce_type", b"X"), ("ce_source", b"s")], b"{oops", "not JSON"),
    ([("ce_id", str(uuid.uuid4()).encode()), ("ce_type", b"X"), ("ce_source", b"s")], b"[1]", "JSON object"),
])
def test_records_that_are_not_our_cloudevents_are_refused(headers, value, reason):
    with pytest.raises(EnvelopeError, match=reason):
        from_record(_record(headers, value))


def test_tokens_carry_role_and_scope_and_bad_ones_are_401():
    s = CommonSettings()
    org = uuid.uuid4()
    auth = Authenticator(s)
    p = auth.decode(issue_token(s, subject="u1", role="staff", org_id=org))
    assert (p.subject, p.role, p.org_id) == ("u1", "staff", org)
    assert p.covers([uuid.uuid4(), org]) and not p.covers([uuid.uuid4()])
    with pytest.raises(Problem) as exc:
        auth.decode(issue_token(s, subject="u1", role="staff", org_id=org, ttl_seconds=-10))
    assert exc.value.status == 401
    with pytest.raises(Problem) as exc:
        auth.decode(issue_token(s, subject="u1", role="staff", org_id=org) + "x")
    assert exc.value.status == 401


def test_an_auditor_may_read_but_not_write():
    s = CommonSettings()
    p = Authenticator(s).decode(issue_token(s, subject="a", role="auditor", org_id=uuid.uuid4()))
    p.require("read")
    with pytest.raises(Problem) as exc:
        p.require("write")
    assert exc.value.status == 403


def test_a_member_token_reads_only_its_own_records_and_covers_no_subtree():
    s = CommonSettings()
    member, union = uuid.uuid4(), uuid.uuid4()
    p = Authenticator(s).decode(issue_token(s, subject=str(member), role="member", org_id=union))
    assert p.is_member(member) and not p.is_member(uuid.uuid4())
    assert not p.covers([union])
    with pytest.raises(Problem):
        p.require("read")
