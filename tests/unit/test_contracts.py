import json
import uuid

from contracts import generate
from contracts.events import EVENT_TYPES, TOPICS, EmployerContactChanged, EmploymentChanged, MemberContactChanged, MemberJoined
from unionops.clock import local_today


def test_committed_schemas_match_the_models():
    """A model changed without `make contracts` fails here (and in `make test`'s check)."""
    rendered = generate.render()
    stale = [str(p) for p, text in rendered.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    assert stale == []


def test_only_optional_fields_may_be_added_within_a_major_version():
    old = MemberJoined.model_json_schema()
    added_optional = json.loads(json.dumps(old))
    added_optional["properties"]["nickname"] = {"type": "string"}
    assert generate.incompatibilities(old, added_optional) == []
    added_required = json.loads(json.dumps(added_optional))
    added_required["required"].append("nickname")
    assert generate.incompatibilities(old, added_required) == ["field 'nickname' became required"]
    removed = json.loads(json.dumps(old))
    del removed["properties"]["union_name"]
    assert "field 'union_name' removed" in generate.incompatibilities(old, removed)


def test_no_event_carries_an_id_number_phone_or_email_in_clear():
    restricted = {name for name, cls in EVENT_TYPES.items() if cls.restricted}
    # contact details (sealed) and their erasure for notify; HR's employment changes, for membership
    assert restricted == {"MemberContactChanged", "MemberPersonalDataErased", "EmploymentChanged",
                          "EmployerContactChanged"}
    for name, cls in EVENT_TYPES.items():
        assert not {"id_number", "phone", "email"} & set(cls.model_fields), name
    assert {"email_sealed", "phone_sealed", "data_key", "data_key_id"} <= set(MemberContactChanged.model_fields)
    assert MemberContactChanged.topic == "membership.member-contact.v2"
    assert "email_sealed" in EmployerContactChanged.model_fields  # an employer side's address, sealed too
    assert EmploymentChanged.topic == "hr.employment.v2" and "id_number_sealed" in EmploymentChanged.model_fields


def test_a_new_major_version_may_change_field_types():
    """Sealing the contact fields changed their meaning: refused within v1, the honest way is v2."""
    assert not (generate.ROOT / "broker" / "membership.member-contact.v1.json").exists()
    assert not (generate.ROOT / "broker" / "hr.employment.v1.json").exists()
    assert generate.main(["--check"]) == 0


def test_every_topic_is_per_aggregate_and_major_version():
    for topic in TOPICS:
        assert topic.rsplit(".", 1)[-1].startswith("v"), topic


def test_event_key_is_the_aggregate_id():
    mid = uuid.uuid4()
    e = MemberJoined(member_id=mid, union_id=uuid.uuid4(), union_name="工会", org_path=[], name="张三",
                     gender="male", birth_year=1990, joined_on=local_today())
    assert e.key() == str(mid)


def test_every_event_is_published_by_the_one_service_that_owns_its_topic():
    from contracts.events import EVENT_TYPES, published_by

    owners = {"membership", "welfare", "competitions", "notify"}
    by_service = {name: set(published_by(name)) for name in owners}
    external = {cls for cls in EVENT_TYPES.values() if cls.topic.startswith("hr.")}  # the HR systems publish these
    assert set().union(*by_service.values()) | external == set(EVENT_TYPES.values())
    assert sum(len(v) for v in by_service.values()) == len(EVENT_TYPES) - len(external)
    assert {c.__name__ for c in by_service["notify"]} == {"NotificationDelivered", "NotificationFailed"}
