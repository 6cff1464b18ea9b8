"""What an operator sees of a dead letter, and how `make status` reads a service."""
import json

from unionops.deadletters import masked_headers, masked_payload
from unionops.oncall import ServiceStatus, consumer_lag, table


def test_a_dead_letter_payload_shows_no_personal_data_in_clear_and_sealed_fields_stay_sealed():
    event = {
        "member_id": "6f1c2a4e-58a7-4c0b-9d0e-3b1f2c5e7a90", "name": "欧阳娜娜", "union_name": "机械厂工会",
        "phone": "13912345678", "contact_email": "nana@example.cn", "id_number": "110101199003074514",
        "summary": "丈夫住院，家庭月收入不足两千元", "note_to_officer": "联系 13800138000",
        "email_sealed": "AAECAwQFBgcICQ==", "members": [{"name": "张三", "mobile": "13700001111"}],
        "remark": "", "joined_on": "2026-11-30", "birth_year": 1990,
    }
    shown = masked_payload(json.dumps(event, ensure_ascii=False).encode())
    text = json.dumps(shown, ensure_ascii=False)
    for clear in ("欧阳娜娜", "13912345678", "nana@example.cn", "110101199003074514", "丈夫住院", "13800138000",
                  "张三", "13700001111"):
        assert clear not in text
    assert shown["name"] == "欧**娜" and shown["members"][0]["name"] == "张*"
    assert shown["union_name"] == "机械厂工会" and shown["member_id"] == event["member_id"]
    assert shown["email_sealed"] == event["email_sealed"]  # ciphertext: never opened, left as it is
    assert shown["joined_on"] == "2026-11-30" and shown["birth_year"] == 1990


def test_a_dead_letter_that_is_not_json_is_described_not_shown():
    assert masked_payload(b"\xff\xfe13912345678") == "<13 字节，不是 JSON>"


def test_header_values_are_redacted():
    assert masked_headers([["dlq_error", "duplicate key 13912345678"], ["ce_type", "MemberJoined"]]) == {
        "dlq_error": "duplicate key ***", "ce_type": "MemberJoined"}


def test_status_sums_consumer_lag_over_partitions_from_the_metrics_text():
    text = ('# TYPE unionops_consumer_lag gauge\n'
            'unionops_consumer_lag{consumer="welfare.members",partition="0",topic="membership.member.v1"} 3.0\n'
            'unionops_consumer_lag{consumer="welfare.members",partition="1",topic="membership.member.v1"} 4.0\n'
            'unionops_consumer_events_total{consumer="welfare.members",outcome="applied"} 99.0\n')
    assert consumer_lag(text) == 7


def test_a_service_that_is_not_ready_is_unhealthy_and_says_what_is_down():
    down = ServiceStatus("welfare", "http://x", ready=False, checks={"database": True, "broker": False},
                         problems=["未就绪（broker）"])
    up = ServiceStatus("notify", "http://y", ready=True, checks={"database": True, "broker": True},
                       outbox_backlog=0, dead_letters=2, queues={"deliveries_pending": 5})
    out = table([down, up])
    assert not down.healthy and up.healthy
    assert "DOWN" in out.splitlines()[1] and "未就绪（broker）" in out
    assert "2!" in out.splitlines()[2] and "deliveries_pending=5" in out
