"""Labour-dispute mediation (劳动争议调解) and legal aid (法律援助) through welfare's HTTP API, with
membership, welfare and notify running on the real broker and PostgreSQL: the 15 days of
劳动争议调解仲裁法 Art. 14 after which the worker may apply for arbitration (and is told, once),
a failure opening it at once, collective disputes flagged to the district, the referral that opens
a legal assistance case with its own outcome, the lists and the year's figures, scope, bad input,
and the claim never in clear in a table or an event."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.integration.test_notify_service import db_fetch
from tests.support.broker import read_topic
from tests.support.people import auth
from tests.support.processes import client_fixture
from tests.support.rows import projected, staged
from tests.support.waiting import eventually
from unionops import db as database
from unionops.clock import local_today
from unionops.pii import mask_name

pytestmark = [pytest.mark.integration,
              # As test_notices_that_concern's for membership and notify (kept between the modules);
              # welfare runs the 15-day check every second.
              pytest.mark.services(
                  "membership", "welfare", "notify", sinks=("smtpsink", "httpsink"), subject="welfare",
                  env={"notify": {"NOTIFY_POLL_INTERVAL_SECONDS": "0.3", "NOTIFY_QUIET_HOURS": "off",
                                  "NOTIFY_RETRY_BASE_SECONDS": "0.3"},
                       "welfare": {"WELFARE_DISPUTE_CHECK_SECONDS": "1"}})]

TODAY = local_today()
MEDIATOR = "街道调解员-王"  # the token subject of the street union's mediator, also her in-app account

notify = client_fixture(lambda stack: stack.url("notify"))


@pytest.fixture(scope="module")
async def desk(membership, notify, stack):
    """A district with a street union's mediation committee, its members, and the rights officers
    of the district and of the street in notify's directory."""
    branch, other = membership.branch("维权"), membership.branch("他区")
    people = {n: membership.admit(branch.grassroots, n) for n in ("刘欠薪", "陈工伤", "赵解除", "孙集体")}
    outsider = membership.admit(other.grassroots, "外区人")
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM org_units WHERE org_id = ANY($1) HAVING count(*) = 2",
                                      [branch.district, branch.street]), what="the units in notify")
    officers = {}
    for key, org, name, account in (("district", branch.district, "何维权", "区总-维权"),
                                    ("street", branch.street, "王调解", MEDIATOR)):
        r = notify.post("/officers", headers=auth(), json={
            "name": name, "org_id": str(org), "roles": ["rights_officer"], "inapp_user_id": account,
            "email": f"{uuid.uuid4().hex[:8]}@example.cn"})
        assert r.status_code == 201, r.text
        officers[key] = uuid.UUID(r.json()["id"])
    return {"branch": branch, "other": other, "people": people, "outsider": outsider, "officers": officers,
            "staff": auth("staff", branch.street, MEDIATOR), "district_staff": auth("staff", branch.district, "区总-维权"),
            "other_staff": auth("staff", other.district, "他区-维权")}


@pytest.fixture
async def ready(desk, db):
    b = desk["branch"]
    await projected(db, members=[*desk["people"].values(), desk["outsider"]],
                    units=[b.district, b.street, b.grassroots, desk["other"].grassroots])
    return desk


def dispute_body(desk, *, member=None, **changes) -> dict:
    body = {"unit_id": str(desk["branch"].street), "application_form": "written", "employer_name": "示例建筑劳务有限公司",
            "kind": "pay", "workers_concerned": 1, "claim": "拖欠工资三个月共计一万二千元"}
    if member is not None:
        body["member_id"] = str(member)
    return body | changes


async def register(http, desk, **changes) -> dict:
    r = await http.post("/disputes", headers=desk["staff"], json=dispute_body(desk, **changes))
    assert r.status_code == 201, r.text
    return r.json()


async def told(stack, template: str, recipient) -> list:
    """The deliveries of `template` to a member or officer, once notify made them."""
    async def found():
        return await db_fetch(stack, "SELECT * FROM deliveries WHERE template = $1 AND recipient_id = $2",
                              template, recipient) or None
    return await eventually(found, what=f"{template} for {recipient}", timeout=30)


async def test_after_15_days_without_agreement_the_worker_may_apply_for_arbitration_and_is_told(ready, http, db,
                                                                                                stack):
    worker = ready["people"]["刘欠薪"]
    # Agreed before its 15 days had passed: arbitration never opens for it, whenever the check runs.
    agreed = await register(http, ready, member=worker, applied_on=str(TODAY - timedelta(days=5)))
    r = await http.post(f"/disputes/{agreed['id']}/agreement", headers=ready["staff"], json={
        "agreed_on": str(TODAY), "terms": "公司于月底前一次付清拖欠工资", "amount_fen": 1_200_000})
    assert r.status_code == 200, r.text
    assert r.json()["arbitration_open"] is False and r.json()["arbitration_open_from"] is None
    await db.execute("UPDATE labour_disputes SET applied_on = $2 WHERE id = $1", uuid.UUID(agreed["id"]),
                     TODAY - timedelta(days=25))  # as if long ago

    on_day_15 = await register(http, ready, member=worker, applied_on=str(TODAY - timedelta(days=15)))
    assert on_day_15["arbitration_open"] is False  # the 15th day is still mediation
    assert on_day_15["arbitration_open_from"] == str(TODAY + timedelta(days=1))
    passed = await register(http, ready, member=worker, applied_on=str(TODAY - timedelta(days=16)),
                            application_form="oral")
    assert passed["arbitration_open"] is True and passed["arbitration_open_from"] == str(TODAY)
    assert passed["oral_recorded_by"] == MEDIATOR and passed["oral_recorded_at"]

    # The worker is told, urgently, and the officer who registered it is reminded.
    mine = await told(stack, "dispute_arbitration_open", worker)
    assert {d["channel"] for d in mine} >= {"inapp", "sms"}  # urgent: SMS without an opt-in
    assert mine[0]["context"]["open_from"] == str(TODAY)
    officer = await told(stack, "dispute_arbitration_open_officer", ready["officers"]["street"])
    assert {d["source_event_id"] for d in officer} == {d["source_event_id"] for d in mine}
    # Once per dispute, and never for the one agreed nor the one on its 15th day.
    assert len(await staged(db, "DisputeArbitrationOpen", passed["id"])) == 1
    assert await staged(db, "DisputeArbitrationOpen", agreed["id"]) == []
    assert await staged(db, "DisputeArbitrationOpen", on_day_15["id"]) == []
    assert len(await db_fetch(stack, "SELECT DISTINCT source_event_id FROM deliveries"
                                     " WHERE template = 'dispute_arbitration_open' AND recipient_id = $1", worker)) == 1

    r = await http.get("/disputes", headers=ready["staff"], params={"arbitration_open": "true", "limit": 500})
    ids = {d["id"] for d in r.json()["items"]}
    assert passed["id"] in ids and on_day_15["id"] not in ids and agreed["id"] not in ids
    shown = (await http.get(f"/disputes/{passed['id']}", headers=ready["staff"])).json()
    assert shown["arbitration_open"] is True and shown["claim"] == "拖欠工资三个月共计一万二千元"


async def test_a_failed_mediation_opens_arbitration_at_once_and_the_worker_hears_both(ready, http, db, stack):
    worker = ready["people"]["赵解除"]
    d = await register(http, ready, member=worker, kind="dismissal")
    r = await http.post(f"/disputes/{d['id']}/sessions", headers=ready["staff"], json={
        "held_on": str(TODAY), "mediator": "王调解", "note": "公司代表拒绝支付经济补偿"})
    assert r.status_code == 200, r.text
    r = await http.post(f"/disputes/{d['id']}/failure", headers=ready["staff"],
                        json={"failed_on": str(TODAY), "reason": "party_refused"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "failed" and body["arbitration_open"] is True
    assert body["arbitration_open_from"] == str(TODAY) and body["failure"]["reason_label"] == "一方拒绝调解"
    assert [s["note"] for s in body["sessions"]] == ["公司代表拒绝支付经济补偿"]
    [opened] = await staged(db, "DisputeArbitrationOpen", d["id"])
    assert opened["cause"] == "mediation_failed"
    await told(stack, "dispute_failed", worker)
    await told(stack, "dispute_arbitration_open", worker)
    # A concluded dispute takes no further step.
    r = await http.post(f"/disputes/{d['id']}/agreement", headers=ready["staff"],
                        json={"agreed_on": str(TODAY), "terms": "补签"})
    assert r.status_code == 409, r.text


async def test_a_collective_dispute_is_flagged_to_the_district_at_once(ready, http, db, stack):
    collective = await register(http, ready, member=ready["people"]["孙集体"], workers_concerned=23,
                                employer_name="示例制衣有限公司")
    single = await register(http, ready, member=ready["people"]["孙集体"], workers_concerned=9)
    assert collective["collective"] is True and single["collective"] is False
    [opened] = await staged(db, "DisputeOpened", collective["id"])
    assert opened["collective"] is True and opened["workers_concerned"] == 23
    assert "claim" not in opened
    items = await told(stack, "collective_dispute_flagged", ready["officers"]["district"])
    assert items[0]["context"]["workers_concerned"] == 23
    assert items[0]["context"]["employer_name"] == "示例制衣有限公司"
    # The district's officer, not the street's; the 9-worker dispute flags nobody.
    rows = await db_fetch(stack, "SELECT recipient_id FROM deliveries WHERE template = 'collective_dispute_flagged'")
    assert ready["officers"]["street"] not in {r["recipient_id"] for r in rows}
    single_ref = single["id"][:8].upper()
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM deliveries WHERE template = 'dispute_registered'"
                                             " AND context->>'dispute_ref' = $1", single_ref),
                     what="the 9-worker dispute in notify")
    assert not await db_fetch(stack, "SELECT 1 FROM deliveries WHERE template = 'collective_dispute_flagged'"
                                     " AND context->>'dispute_ref' = $1", single_ref)
    r = await http.get("/disputes", headers=ready["district_staff"],
                       params={"collective": "true", "unit": str(ready["branch"].street)})
    assert collective["id"] in {d["id"] for d in r.json()["items"]}
    assert single["id"] not in {d["id"] for d in r.json()["items"]}


async def test_a_referral_to_legal_aid_opens_a_legal_assistance_case_with_its_own_outcome(ready, http, db, stack):
    worker = ready["people"]["陈工伤"]
    assert not await db.fetchval("SELECT count(*) FROM hardship_files WHERE member_id = $1", worker)
    d = await register(http, ready, member=worker, kind="injury", claim="工伤后被要求自行承担医疗费")
    await http.post(f"/disputes/{d['id']}/failure", headers=ready["staff"],
                    json={"failed_on": str(TODAY), "reason": "no_agreement"})
    r = await http.post(f"/disputes/{d['id']}/legal-aid", headers=ready["staff"])
    assert r.status_code == 200, r.text
    case_id = r.json()["legal_aid"]["case_id"]
    case = (await http.get(f"/cases/{case_id}", headers=ready["staff"])).json()
    assert case["kind"] == "legal" and case["member_id"] == str(worker) and case["dispute_id"] == d["id"]
    assert case["summary"] == "工伤后被要求自行承担医疗费"  # the claim, sealed again as the case's summary
    [referred] = await staged(db, "DisputeReferred", d["id"])
    assert referred["case_id"] == case_id
    await told(stack, "dispute_referred", worker)
    # Told once, by the referral: the legal-aid case's CaseOpened names its dispute and notify,
    # having consumed it, sent no second "case opened" notice.
    [opened] = await staged(db, "CaseOpened", case_id)
    assert opened["dispute_id"] == d["id"]
    event_id = await db.fetchval("SELECT event_id FROM outbox WHERE event_type = 'CaseOpened' AND key = $1", case_id)
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM inbox WHERE event_id = $1", event_id),
                     what="notify consumed the legal-aid case's CaseOpened")
    assert not await db_fetch(stack, "SELECT 1 FROM deliveries WHERE template = 'case_opened'"
                                     " AND recipient_id = $1", worker)
    # Once per dispute.
    assert (await http.post(f"/disputes/{d['id']}/legal-aid", headers=ready["staff"])).status_code == 409

    # Its own outcome: represented in arbitration, won — no hardship file, no fund, no payment.
    r = await http.post(f"/cases/{case_id}/legal-aid-outcome", headers=ready["staff"], json={"form": "arbitration"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.result"
    r = await http.post(f"/cases/{case_id}/legal-aid-outcome", headers=ready["staff"],
                        json={"form": "arbitration", "result": "won"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed" and r.json()["form_label"] == "代理劳动仲裁"
    shown = (await http.get(f"/disputes/{d['id']}", headers=ready["staff"])).json()["legal_aid"]
    assert shown["case_status"] == "closed" and shown["form"] == "arbitration" and shown["result"] == "won"
    [closed] = await staged(db, "CaseClosed", case_id)
    assert closed["outcome"] == "referred"
    assert not await db.fetchval("SELECT count(*) FROM ledger_entries WHERE case_id = $1", uuid.UUID(case_id))

    # A money case keeps its own rules: no legal aid outcome on it.
    r = await http.post("/cases", headers=ready["staff"], json={
        "member_id": str(worker), "kind": "living", "source": "application", "summary": "生活困难"})
    living = r.json()["id"]
    r = await http.post(f"/cases/{living}/legal-aid-outcome", headers=ready["staff"], json={"form": "advice"})
    assert r.status_code == 409, r.text
    # A non-member worker is mediated, but legal aid as a case is for members.
    stranger = await register(http, ready, worker_name="马临时")
    assert stranger["is_member"] is False and stranger["worker_name"] == "马临时"
    r = await http.post(f"/disputes/{stranger['id']}/legal-aid", headers=ready["staff"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.member_id"


async def test_a_registration_sent_twice_with_one_idempotency_key_registers_one_dispute(ready, http, db):
    key = {"Idempotency-Key": f"dispute-{uuid.uuid4()}"}
    body = dispute_body(ready, member=ready["people"]["刘欠薪"], kind="contract")
    first = await http.post("/disputes", headers=ready["staff"] | key, json=body)
    again = await http.post("/disputes", headers=ready["staff"] | key, json=body)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert len(await staged(db, "DisputeOpened", first.json()["id"])) == 1
    assert await db.fetchval("SELECT count(*) FROM labour_disputes WHERE id = $1", uuid.UUID(first.json()["id"])) == 1


def bare(response) -> dict:
    """A refusal without its `instance` (the path asked for)."""
    return {k: v for k, v in response.json().items() if k != "instance"}


async def test_outside_the_subtree_a_dispute_is_not_found_like_a_nonexistent_one(ready, http):
    d = await register(http, ready, member=ready["people"]["刘欠薪"])
    other = ready["other_staff"]
    unknown = await http.get(f"/disputes/{uuid.uuid4()}", headers=other)
    hidden = await http.get(f"/disputes/{d['id']}", headers=other)
    assert hidden.status_code == unknown.status_code == 404 and bare(hidden) == bare(unknown)
    for step, body in (("sessions", {"held_on": str(TODAY), "mediator": "某某", "note": "记录"}),
                       ("failure", {"failed_on": str(TODAY), "reason": "other"}), ("legal-aid", None)):
        r = await http.post(f"/disputes/{d['id']}/{step}", headers=other, json=body)
        assert r.status_code == 404 and bare(r) == bare(unknown), r.text
    r = await http.get("/disputes", headers=other, params={"unit": str(ready["branch"].street)})
    assert r.json()["items"] == [] and r.json()["total"] == 0
    # Registering at a unit or for a member out of scope is refused as for unknown ones.
    r = await http.post("/disputes", headers=other, json=dispute_body(ready, member=ready["outsider"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.unit_id"
    r = await http.post("/disputes", headers=ready["staff"], json=dispute_body(ready, member=ready["outsider"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.member_id"


async def test_bad_input_is_refused_in_chinese_naming_the_field_and_nothing_is_written(ready, http, db):
    before = await db.fetchval("SELECT (SELECT count(*) FROM labour_disputes) + (SELECT count(*) FROM outbox)")
    member = ready["people"]["刘欠薪"]
    cases = [
        ({"claim": ""}, "body.claim"),
        ({"workers_concerned": "12"}, "body.workers_concerned"),
        ({"workers_concerned": 0}, "body.workers_concerned"),
        ({"kind": "salary"}, "body.kind"),
        ({"worker_name": "马临时"}, "body.member_id"),  # both a member and a name
        ({"applied_on": str(TODAY + timedelta(days=1))}, "body.applied_on"),
        ({"applied_on": str(TODAY - timedelta(days=40))}, "body.applied_on"),
        ({"unit_id": str(ready["branch"].district)}, "body.unit_id"),  # not a mediation committee's level
        ({"employer_credit_code": "91110000600037341A"}, "body.employer_credit_code"),
    ]
    for changes, field in cases:
        r = await http.post("/disputes", headers=ready["staff"], json=dispute_body(ready, member=member, **changes))
        assert r.status_code == 422, (changes, r.text)
        error = next(e for e in r.json()["errors"] if e["field"] == field)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    r = await http.post("/disputes", headers=ready["staff"], json=dispute_body(ready))  # neither member nor name
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.member_id"
    assert await db.fetchval("SELECT (SELECT count(*) FROM labour_disputes) + (SELECT count(*) FROM outbox)") == before


async def test_the_years_figures_count_disputes_by_kind_outcome_collective_and_legal_aid(membership, http, db):
    branch = membership.branch("调解统计")
    worker = membership.admit(branch.grassroots, "统计人")
    await projected(db, members=[worker], units=[branch.street, branch.grassroots])
    staff = auth("staff", branch.street, "统计-调解员")
    desk = {"branch": branch, "staff": staff}
    agreed = await register(http, desk, member=worker)
    await http.post(f"/disputes/{agreed['id']}/agreement", headers=staff, json={"agreed_on": str(TODAY), "terms": "付清"})
    failed = await register(http, desk, member=worker, kind="injury", unit_id=str(branch.grassroots))
    await http.post(f"/disputes/{failed['id']}/failure", headers=staff, json={"failed_on": str(TODAY), "reason": "other"})
    assert (await http.post(f"/disputes/{failed['id']}/legal-aid", headers=staff)).status_code == 200
    await register(http, desk, worker_name="马集体", workers_concerned=15)

    r = await http.get(f"/summaries/disputes/{branch.district}", headers=auth("auditor", branch.district, "审计"),
                       params={"year": TODAY.year})
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["disputes"] == 3 and s["workers_concerned"] == 17 and s["collective"] == 1
    assert s["referred_to_legal_aid"] == 1 and s["mediated_successfully_rate"] == 0.5
    assert {o["outcome"]: o["disputes"] for o in s["by_outcome"]} == {"mediating": 1, "agreed": 1, "failed": 1}
    assert {k["kind"]: k["disputes"] for k in s["by_kind"] if k["disputes"]} == {"pay": 2, "injury": 1}
    # An auditor reads a dispute with the name masked and no claim.
    r = await http.get(f"/disputes/{failed['id']}", headers=auth("auditor", branch.district, "审计"))
    assert r.json()["claim"] is None and r.json()["worker_name"] == mask_name("统计人")


async def test_the_claim_terms_and_notes_are_never_in_clear_in_a_table_or_an_event(ready, http, db, stack):
    mark = f"病历{uuid.uuid4().hex[:8]}号"
    r = await http.post("/disputes", headers=ready["staff"] | {"Idempotency-Key": f"claim-{uuid.uuid4()}"},
                        json=dispute_body(ready, member=ready["people"]["陈工伤"], claim=f"职工因工受伤，{mark}"))
    d = r.json()  # kept under its key: neither the answer nor the fingerprint holds the claim
    await http.post(f"/disputes/{d['id']}/sessions", headers=ready["staff"],
                    json={"held_on": str(TODAY), "mediator": "王调解", "note": f"谈及{mark}"})
    await http.post(f"/disputes/{d['id']}/agreement", headers=ready["staff"],
                    json={"agreed_on": str(TODAY), "terms": f"按{mark}报销"})
    await told(stack, "dispute_mediated", ready["people"]["陈工伤"])
    found = []
    for service in ("welfare", "notify"):
        conn = await database.connect(stack.dsn(service))
        try:
            for col in await conn.fetch(
                    "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
                    " JOIN information_schema.tables t USING (table_schema, table_name)"
                    " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
                    " AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY')"):
                expr = f'"{col["column_name"]}"'
                test = (f"position(convert_to($1, 'UTF8') in {expr}) > 0" if col["data_type"] == "bytea"
                        else f"strpos({expr}::text, $1) > 0")
                if await conn.fetchval(f'SELECT count(*) FROM "{col["table_name"]}" WHERE {test}', mark):
                    found.append(f"{service}.{col['table_name']}.{col['column_name']}")
        finally:
            await conn.close()
    for record in await read_topic(stack.bootstrap, "welfare.dispute.v1"):
        if mark in (record.value or b"").decode("utf-8", "replace"):
            found.append("topic welfare.dispute.v1")
    assert found == []
    # …and readable by the officer who handles it.
    shown = (await http.get(f"/disputes/{d['id']}", headers=ready["staff"])).json()
    assert mark in shown["claim"] and mark in shown["agreement"]["terms"] and mark in shown["sessions"][0]["note"]

