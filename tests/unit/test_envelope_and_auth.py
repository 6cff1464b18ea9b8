import time
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
        auth.decode(issue_token(s, subject="u1", role="staff", org_id=org, ttl_seconds=-3600))
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


def _signed(s: CommonSettings, **claims) -> str:
    import jwt

    base = {"sub": "u1", "role": "staff", "org": str(uuid.uuid4()), "iss": s.jwt_issuer, "aud": s.jwt_audience}
    return jwt.encode({k: v for k, v in (base | claims).items() if v is not None}, s.jwt_secret, algorithm="HS256")


def _refused(s: CommonSettings, token: str) -> Problem:
    with pytest.raises(Problem) as exc:
        Authenticator(s).decode(token)
    assert exc.value.status == 401
    return exc.value


def test_a_token_without_exp_or_iat_is_refused():
    s, now = CommonSettings(), int(time.time())
    assert "exp" in _refused(s, _signed(s, iat=now)).detail
    assert "iat" in _refused(s, _signed(s, exp=now + 600)).detail
    assert Authenticator(s).decode(_signed(s, iat=now, exp=now + 600)).role == "staff"


def test_a_token_living_longer_than_its_role_allows_is_refused():
    s, now = CommonSettings(), int(time.time())
    staff_max, service_max = s.jwt_staff_max_lifetime_seconds, s.jwt_service_max_lifetime_seconds
    assert service_max > staff_max
    _refused(s, _signed(s, iat=now, exp=now + staff_max + 1))
    for role in ("staff", "federation_admin", "auditor", "member"):
        _refused(s, issue_token(s, subject="u", role=role, org_id=uuid.uuid4(), ttl_seconds=staff_max + 1))
    assert Authenticator(s).decode(_signed(s, role="service", iat=now, exp=now + service_max)).role == "service"
    _refused(s, _signed(s, role="service", iat=now, exp=now + service_max + 1))
    shorter = CommonSettings(JWT_SERVICE_MAX_LIFETIME_SECONDS=600)
    _refused(shorter, _signed(shorter, role="service", iat=now, exp=now + 601))


def test_clocks_a_little_apart_are_allowed_but_not_more():
    s, now = CommonSettings(), int(time.time())
    skew = s.jwt_clock_skew_seconds
    auth = Authenticator(s)
    assert auth.decode(_signed(s, iat=now + skew // 2, exp=now + 600)).role == "staff"  # issuer's clock ahead
    assert auth.decode(_signed(s, iat=now - 600, exp=now - skew // 2)).role == "staff"  # just expired
    _refused(s, _signed(s, iat=now - 600, exp=now - skew - 5))
    _refused(s, _signed(s, iat=now + skew + 120, exp=now + skew + 600))  # issued in the future


def test_outside_development_mode_published_or_empty_secrets_refuse_to_start():
    from unionops.settings import DEVELOPMENT_SECRETS, InsecureConfiguration

    CommonSettings(UNIONOPS_DEVELOPMENT_MODE=True).refuse_development_secrets()  # a developer's machine
    with pytest.raises(InsecureConfiguration,
                       match="JWT_SECRET.*PII_ENCRYPTION_KEY.*PII_HASH_KEY.*PII_CONTACT_KEYS.*PII_HR_KEYS"):
        CommonSettings(UNIONOPS_DEVELOPMENT_MODE=False).refuse_development_secrets()
    real = {"JWT_SECRET": "s" * 40, "PII_ENCRYPTION_KEY": "a" * 44, "PII_HASH_KEY": "b" * 44,
            "PII_CONTACT_KEYS": "k2:" + "c" * 44, "PII_HR_KEYS": "h2:" + "d" * 44}
    CommonSettings(UNIONOPS_DEVELOPMENT_MODE=False, **real).refuse_development_secrets()
    for name in real:
        for value in ("", "  ", DEVELOPMENT_SECRETS[name.lower()]):
            with pytest.raises(InsecureConfiguration, match=name):
                CommonSettings(UNIONOPS_DEVELOPMENT_MODE=False, **(real | {name: value})).refuse_development_secrets()
    # A ring that still holds a published key, even as an older one, is refused too.
    with pytest.raises(InsecureConfiguration, match="PII_CONTACT_KEYS"):
        CommonSettings(UNIONOPS_DEVELOPMENT_MODE=False, **(real | {
            "PII_CONTACT_KEYS": "k2:" + "c" * 44 + "," + DEVELOPMENT_SECRETS["pii_contact_keys"]})).refuse_development_secrets()
    # With an identity provider's JWKS, JWT_SECRET is not used.
    CommonSettings(UNIONOPS_DEVELOPMENT_MODE=False, JWT_JWKS_URL="https://idp.example/jwks",
                   **(real | {"JWT_SECRET": ""})).refuse_development_secrets()
