"""Group-chat robots against the real broker, PostgreSQL and HTTP sink: staff manage the bots of
their subtree (the secret is never shown, the URL only masked), and a member's join or case
reaches the subscribed bots of the nearest unit on the member's path — signed, the name masked,
once — while bots further up, not subscribed or switched off hear nothing, and no bot ever hears
a judge's score."""
from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, datetime, timezone

import httpx
import pytest

from contracts.events import (
    CaseOpened,
    ContestScored,
    MemberJoined,
    UnionEstablished,
)
from devstack.seed import zh_digits
from tests.support.people import ROOT, SETTINGS, auth, contact_changed
from tests.support.processes import client_fixture
from tests.support.waiting import eventually
from tests.integration.test_notify_service import db_fetch, publish
from unionops import db
from unionops.envelope import Envelope
from unionops.pii import Vault

pytestmark = [pytest.mark.integration,
              pytest.mark.services("notify", sinks=("httpsink",), env={"notify": {"NOTIFY_POLL_INTERVAL_SECONDS": "0.5"}})]

DEADLINE = 45.0  # the first consumer-group join on the local broker takes several seconds
VAULT = Vault(SETTINGS.pii_encryption_key, SETTINGS.pii_hash_key)


notify = client_fixture(lambda stack: stack.url("notify"))


class Tree:
    """A district with one street and two grassroots unions (A, B), as notify's projection knows them."""

    def __init__(self) -> None:
        self.district, self.street, self.a, self.b = (uuid.uuid4() for _ in range(4))

    def path(self, unit: uuid.UUID) -> list[uuid.UUID]:
        full = [ROOT, self.district, self.street, unit]
        return full[:full.index(unit) + 1]

    def events(self) -> list[UnionEstablished]:
        tag = uuid.uuid4().hex[:4]
        units = ((self.district, "district", f"机器人测试{tag}区总工会"), (self.street, "street", f"机器人测试{tag}街道工会"),
                 (self.a, "grassroots", f"机器人测试{tag}甲厂工会"), (self.b, "grassroots", f"机器人测试{tag}乙厂工会"))
        path = [ROOT]
        out = []
        for unit, level, name in units:
            path = [*path, unit] if level != "grassroots" else [*path[:3], unit]
            out.append(UnionEstablished(org_id=unit, parent_id=path[-2], org_path=path, name=name, level=level,
                                        kind="enterprise_union" if level == "grassroots" else level,
                                        region_code="510104", established_on=date(2025, 1, 1)))
        return out


@pytest.fixture(scope="module")
async def trees(stack):
    """Two districts: `mine` for deliveries, `other` for the management API."""
    mine, other = Tree(), Tree()
    for event in mine.events() + other.events():
        await publish(stack, event)
    units = [u for t in (mine, other) for u in (t.district, t.street, t.a, t.b)]

    async def known():
        return (await db_fetch(stack, "SELECT count(*) AS n FROM org_units WHERE org_id = ANY($1::uuid[])",
                               units))[0]["n"] == len(units)
    await eventually(known, "the units in notify's org_units projection", timeout=DEADLINE)
    return mine, other


def add_bot(notify, sink, stack, unit: uuid.UUID, name: str, kinds: list[str], *, officer_group: str | None = None,
            headers: dict | None = None) -> dict:
    """A bot posting to the HTTP sink, with its own token and signing secret registered there."""
    token = uuid.uuid4().hex
    secret = "SEC" + uuid.uuid4().hex
    sink.post("/control/secrets", json={"token": token, "secret": secret})
    body = {"name": name, "org_unit_id": str(unit), "url": f"{stack.httpsink_url}/robot/send?access_token={token}",
            "secret": secret, "notice_kinds": kinds}
    if officer_group:
        body["officer_group"] = officer_group
    r = notify.post("/webhook-bots", json=body, headers=headers or auth())
    assert r.status_code == 201, r.text
    assert secret not in r.text and token not in r.text
    return r.json() | {"token": token, "secret": secret}


def webhooks(sink, bot: dict) -> list[dict]:
    return sink.get("/webhooks", params={"token": bot["token"]}).json()["webhooks"]


async def received(sink, bot: dict, n: int) -> list[dict]:
    async def probe():
        found = webhooks(sink, bot)
        return found if len(found) >= n else None
    return await eventually(probe, f"{n} webhook(s) to {bot['name']}", timeout=DEADLINE)


async def join(stack, tree: Tree, union: uuid.UUID, name: str) -> tuple[uuid.UUID, uuid.UUID, MemberJoined]:
    """A member of `union` whose contact (no e-mail: in-app only) notify knows before the join."""
    member_id = uuid.uuid4()
    await publish(stack, contact_changed(member_id, name))
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM contacts WHERE member_id = $1", member_id),
                     "the member's contact in notify", timeout=DEADLINE)
    joined = MemberJoined(member_id=member_id, union_id=union, union_name="机器人测试工会", org_path=tree.path(union),
                          name=name, gender="female", birth_year=1990, joined_on=date(2025, 6, 8))
    return member_id, await publish(stack, joined, times=2), joined


async def bot_rows(stack, event_id: uuid.UUID) -> list:
    return await db_fetch(stack, "SELECT * FROM deliveries WHERE source_event_id = $1 AND recipient_kind = 'bot'",
                          event_id)


@pytest.fixture(scope="module")
def layout(notify, sink, stack, trees):
    """The bots of `mine`: union A has two subscribed to joins (its own chat and its organisation
    officers'), the street one for joins too, the district one for cases only; union B's bot is
    subscribed to joins but switched off."""
    mine, _ = trees
    bots = {
        "a": add_bot(notify, sink, stack, mine.a, "甲厂工会群", ["member_joined"]),
        "a_officers": add_bot(notify, sink, stack, mine.a, "甲厂组织委员群", ["member_joined"], officer_group="组织委员"),
        "street": add_bot(notify, sink, stack, mine.street, "街道工会群", ["member_joined"]),
        "district": add_bot(notify, sink, stack, mine.district, "区总工会群", ["case_opened"]),
        "b": add_bot(notify, sink, stack, mine.b, "乙厂工会群", ["member_joined"]),
    }
    r = notify.patch(f"/webhook-bots/{bots['b']['id']}", json={"enabled": False}, headers=auth("staff", mine.district))
    assert r.status_code == 200 and r.json()["enabled"] is False, r.text
    return bots


async def test_bots_are_managed_within_the_callers_subtree_and_the_secret_never_shows(stack, notify, sink, trees):
    mine, other = trees
    staff, outsider = auth("staff", other.district), auth("staff", mine.district)
    answers: list[httpx.Response] = []

    def call(method: str, url: str, **kw) -> httpx.Response:
        answers.append(r := notify.request(method, url, **kw))
        return r

    token, secret = uuid.uuid4().hex, "SEC" + uuid.uuid4().hex
    body = {"name": "乙厂工会群", "org_unit_id": str(other.b), "flavour": "wecom", "secret": secret,
            "url": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={token}", "notice_kinds": ["case_opened"]}
    created = call("POST", "/webhook-bots", json=body, headers=staff | {"Idempotency-Key": f"bot-{token}"})
    assert created.status_code == 201, created.text
    bot = created.json()
    assert bot["has_secret"] is True and bot["enabled"] is True and bot["notice_kinds"] == ["case_opened"]
    assert bot["url_masked"] == f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****{token[-4:]}"
    assert bot["org_path"] == [str(u) for u in other.path(other.b)] and "secret" not in bot and "url" not in bot
    again = call("POST", "/webhook-bots", json=body, headers=staff | {"Idempotency-Key": f"bot-{token}"})
    assert again.status_code == 201 and again.json()["id"] == bot["id"]
    assert again.headers["idempotent-replayed"] == "true"
    [row] = await db_fetch(stack, "SELECT * FROM webhook_bots WHERE id = $1::uuid", bot["id"])
    assert VAULT.decrypt("webhook_secret", bytes(row["secret_enc"])) == secret
    assert secret.encode() not in bytes(row["secret_enc"])
    assert row["created_by"] == "test-admin" and row["notice_kinds"] == ["case_opened"]

    # Scope: another district's staff neither see nor change it, nor add bots to that unit.
    assert bot["id"] in {b["id"] for b in call("GET", "/webhook-bots", headers=staff).json()}
    assert bot["id"] in {b["id"] for b in call("GET", "/webhook-bots", params={"notice_kind": "case_opened"},
                                               headers=auth("auditor", other.street)).json()}
    assert bot["id"] not in {b["id"] for b in call("GET", "/webhook-bots", headers=outsider).json()}
    assert call("GET", f"/webhook-bots/{bot['id']}", headers=outsider).status_code == 404
    assert call("PATCH", f"/webhook-bots/{bot['id']}", json={"enabled": False}, headers=outsider).status_code == 404
    # Adding a bot to a unit outside one's subtree answers like an unknown unit.
    theirs = call("POST", "/webhook-bots", json=body | {"officer_group": "越权"}, headers=outsider)
    unknown = call("POST", "/webhook-bots", json=body | {"officer_group": "越权", "org_unit_id": str(uuid.uuid4())},
                   headers=outsider)
    assert theirs.status_code == unknown.status_code == 422 and theirs.json()["detail"] == unknown.json()["detail"]
    assert call("POST", "/webhook-bots", json=body, headers=auth("auditor", other.district)).status_code == 403
    assert call("GET", "/webhook-bots").status_code == 401

    # Validation: problem documents naming the field; nothing reaches the table.
    http = call("POST", "/webhook-bots", json=body | {"url": "http://oapi.dingtalk.com/robot/send?access_token=x"},
                headers=staff)
    assert http.status_code == 422 and http.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in http.json()["errors"]] == ["body.url"] and "access_token=x" not in http.text
    # Registered without a group-chat variant (a judge's score is never posted to a chat); unknown.
    for kind in ("case_approved", "contest_scored", "no_such_notice"):
        r = call("POST", "/webhook-bots", json=body | {"notice_kinds": ["member_joined", kind]}, headers=staff)
        assert r.status_code == 422 and kind in r.json()["detail"], r.text
        assert r.json()["errors"][0]["field"] == "body.notice_kinds"
    assert call("POST", "/webhook-bots", json=body | {"org_unit_id": str(uuid.uuid4())},
                headers=auth()).status_code == 422  # a unit notify does not know
    assert call("POST", "/webhook-bots", json=body | {"flavour": "feishu"}, headers=staff).status_code == 422
    # A strict body: an unknown field is refused.
    assert call("POST", "/webhook-bots", json=body | {"enabled": False}, headers=staff).status_code == 422
    assert call("POST", "/webhook-bots", json=body, headers=staff).status_code == 409  # one per unit and group
    assert call("PATCH", f"/webhook-bots/{bot['id']}", json={"url": None}, headers=staff).status_code == 422

    # Changes: a new address and subscriptions; the secret replaced, then dropped.
    new_token, new_secret = uuid.uuid4().hex, "SEC" + uuid.uuid4().hex
    patched = call("PATCH", f"/webhook-bots/{bot['id']}", headers=staff, json={
        "url": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={new_token}", "secret": new_secret,
        "notice_kinds": ["member_joined", "case_opened"], "name": "乙厂工会工作群"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["notice_kinds"] == ["member_joined", "case_opened"] and patched.json()["has_secret"]
    assert patched.json()["url_masked"].endswith("key=****" + new_token[-4:]) and patched.json()["name"] == "乙厂工会工作群"
    [row] = await db_fetch(stack, "SELECT secret_enc FROM webhook_bots WHERE id = $1::uuid", bot["id"])
    assert VAULT.decrypt("webhook_secret", bytes(row["secret_enc"])) == new_secret
    unsigned = call("PATCH", f"/webhook-bots/{bot['id']}", json={"secret": None}, headers=staff)
    assert unsigned.status_code == 200 and unsigned.json()["has_secret"] is False
    assert call("GET", f"/webhook-bots/{bot['id']}", headers=auth("auditor", other.b)).json()["has_secret"] is False

    for r in answers:  # neither secret nor any access token in any answer, errors included
        assert all(s not in r.text for s in (secret, new_secret, token, new_token)), r.text


async def test_a_join_reaches_the_nearest_units_subscribed_bots_once_signed_and_masked(stack, sink, trees, layout):
    mine, _ = trees
    member_a, joined_a, event_a = await join(stack, mine, mine.a, "欧阳娜娜")
    member_b, joined_b, _ = await join(stack, mine, mine.b, "张三丰")

    # Union A's two bots get A's join; union B's bot is off, so B's join goes to the street's.
    [hook] = await received(sink, layout["a"], 1)
    [officers_hook] = await received(sink, layout["a_officers"], 1)
    [street_hook] = await received(sink, layout["street"], 1)
    for h, name, masked in ((hook, "欧阳娜娜", "欧**娜"), (officers_hook, "欧阳娜娜", "欧**娜"),
                            (street_hook, "张三丰", "张*丰")):
        text = json.dumps(h["payload"], ensure_ascii=False)
        assert h["signature_valid"] and h["payload"]["msgtype"] == "markdown", h
        assert masked in text and name not in text and "新会员入会" in text

    # The same join delivered again: nothing new is created or sent.
    await publish(stack, event_a, event_id=joined_a)  # the same CloudEvent (same id) once more
    rows = await bot_rows(stack, joined_a)
    assert {str(r["recipient_id"]) for r in rows} == {layout["a"]["id"], layout["a_officers"]["id"]}
    assert len(rows) == 2 and all(r["channel"] == "webhook" and r["member_id"] is None for r in rows)
    assert {r["subject_member_id"] for r in rows} == {member_a}
    assert all(r["org_path"] == mine.path(mine.a) for r in rows)
    assert hook["idempotency_key"] in {str(r["id"]) for r in rows}
    # Each bot row continues the trace of its own event (the member's in-app notice shares it).
    [inapp] = await db_fetch(stack, "SELECT trace_headers FROM deliveries WHERE source_event_id = $1"
                                    " AND recipient_kind = 'member' AND channel = 'inapp'", joined_a)
    trace_id = inapp["trace_headers"]["traceparent"].split("-")[1]
    assert all(r["trace_headers"]["traceparent"].split("-")[1] == trace_id for r in rows)
    assert {str(r["recipient_id"]) for r in await bot_rows(stack, joined_b)} == {layout["street"]["id"]}

    # A case opened for A's member: A's bots did not subscribe to cases, the district's did.
    case = CaseOpened(case_id=uuid.uuid4(), member_id=member_a, union_id=mine.a, org_path=mine.path(mine.a),
                      kind="medical", source="hotline", opened_on=date(2025, 8, 15))
    case_id = await publish(stack, case, times=2)
    [case_hook] = await received(sink, layout["district"], 1)
    assert case_hook["signature_valid"] and "帮扶案件已受理" in json.dumps(case_hook["payload"], ensure_ascii=False)
    # A judge's score reaches no group chat, whatever the chat subscribed to.
    score = ContestScored(contest_id=uuid.uuid4(), contest_name="2025年职工技能比赛", entry_id=uuid.uuid4(),
                          member_id=member_a, judge_id="judge-3", criterion="实操", score_centipoints=8750,
                          max_centipoints=10000, scored_at=datetime(2025, 6, 21, 6, 30, tzinfo=timezone.utc))
    score_id = await publish(stack, score)

    await asyncio.sleep(1.5)  # anything wrongly queued would have gone out by now
    assert [len(webhooks(sink, layout[k])) for k in ("a", "a_officers", "street", "district", "b")] == [1, 1, 1, 1, 0]
    assert all(h["receipts"] == 1 for k in ("a", "a_officers", "street", "district") for h in webhooks(sink, layout[k]))
    assert {str(r["recipient_id"]) for r in await bot_rows(stack, case_id)} == {layout["district"]["id"]}
    assert await bot_rows(stack, score_id) == []
    assert len(await bot_rows(stack, joined_a)) == 2  # the redelivered join added nothing


async def test_one_statement_serves_a_batch_and_running_it_again_creates_nothing(stack, trees, layout):
    from notify.commands import deliveries
    from notify.domain import notices as domain
    from notify.domain.templates import TemplateRegistry
    from unionops.unit_of_work import UnitOfWork

    mine, _ = trees
    registry = TemplateRegistry()

    def item(template: str, path: list[uuid.UUID] | None, member: uuid.UUID | None = None):
        env = Envelope(id=uuid.uuid4(), type="Test", source="tests", time=datetime.now(timezone.utc), data={})
        notice = domain.Notice(member or uuid.uuid4(), template, {"union_name": "工会", "joined_on": "2025-06-08"}, path)
        return env, notice, {"traceparent": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"}

    items = [item("member_joined", mine.path(mine.a)), item("member_joined", mine.path(mine.b)),
             item("case_opened", mine.path(mine.b)), item("contest_scored", mine.path(mine.street)),
             item("member_joined", None)]  # no path and a member notify does not know: no bot
    conn = await db.connect(stack.dsn("notify"))
    tx = conn.transaction()
    await tx.start()
    try:  # rolled back: the running dispatcher never sees these rows
        assert await deliveries.create_for_bots(UnitOfWork(conn), items, registry) == 4
        assert await deliveries.create_for_bots(UnitOfWork(conn), items, registry) == 0
        rows = await conn.fetch("SELECT source_event_id, recipient_id, trace_headers FROM deliveries"
                                " WHERE source_event_id = ANY($1::uuid[])", [env.id for env, _, _ in items])
    finally:
        await tx.rollback()
        await conn.close()
    got = {(r["source_event_id"], str(r["recipient_id"])) for r in rows}
    ids = [env.id for env, _, _ in items]
    assert got == {(ids[0], layout["a"]["id"]), (ids[0], layout["a_officers"]["id"]),
                   (ids[1], layout["street"]["id"]), (ids[2], layout["district"]["id"])}
    headers = {env.id: h for env, _, h in items}
    assert all(r["trace_headers"] == headers[r["source_event_id"]] for r in rows)


async def test_a_merged_or_dissolved_union_stands_down_its_officers_and_bots(stack, notify, sink):
    """Its posts end and its group chat stops; a message already waiting for its bot or officer
    fails `no_address` once the wait is over, instead of waiting for ever."""
    tree = Tree()
    for event in tree.events():
        await publish(stack, event)
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM org_units WHERE org_id = $1", tree.b), "the tree in notify",
                     timeout=DEADLINE)
    bots = {u: add_bot(notify, sink, stack, u, f"群{i}", ["member_joined"]) for i, u in enumerate((tree.a, tree.b, tree.street))}
    officers = {}
    for i, unit in enumerate((tree.a, tree.b, tree.street)):
        r = notify.post("/officers", json={"name": f"组织委员{zh_digits(i)}", "org_id": str(unit), "roles": ["organisation_officer"],
                                           "email": f"officer{i}.{uuid.uuid4().hex[:6]}@example.cn"}, headers=auth())
        assert r.status_code == 201, r.text
        officers[unit] = r.json()
    # A message to A's bot that could not go out yet (created long ago, still pending).
    waiting = uuid.uuid4()
    await db_fetch(stack, "INSERT INTO deliveries (id, source_event_id, source_event_type, recipient_kind, recipient_id,"
                          " org_path, channel, template, template_version, context, created_at, next_attempt_at)"
                          " VALUES ($1, $2, 'MemberJoined', 'bot', $3, $4, 'webhook', 'member_joined', 1,"
                          " '{\"name\": \"张三\", \"union_name\": \"甲厂工会\", \"joined_on\": \"2025-06-08\"}',"
                          " now() - interval '2 hours', now() + interval '1 hour') RETURNING id",
                   waiting, uuid.uuid4(), uuid.UUID(bots[tree.a]["id"]), tree.path(tree.a))

    from contracts.events import UnionDissolved, UnionMerged
    await publish(stack, UnionMerged(org_id=tree.a, into_org_id=tree.b, into_org_path=tree.path(tree.b),
                                     members_moved=0, merged_on=date(2025, 7, 1)), times=2)
    await publish(stack, UnionDissolved(org_id=tree.b, holder_org_id=tree.street, holder_org_path=tree.path(tree.street),
                                        members_retained=0, dissolved_on=date(2025, 8, 1)))

    async def stood_down():
        rows = await db_fetch(stack, "SELECT org_id, active FROM officers WHERE org_id = ANY($1::uuid[])",
                              [tree.a, tree.b, tree.street])
        return rows if {r["org_id"]: r["active"] for r in rows} == {tree.a: False, tree.b: False, tree.street: True} else None
    await eventually(stood_down, "the officers of the merged and the dissolved union stood down", timeout=DEADLINE)
    enabled = {r["org_unit_id"]: r["enabled"] for r in await db_fetch(
        stack, "SELECT org_unit_id, enabled FROM webhook_bots WHERE org_unit_id = ANY($1::uuid[])",
        [tree.a, tree.b, tree.street])}
    assert enabled == {tree.a: False, tree.b: False, tree.street: True}
    assert notify.get(f"/officers/{officers[tree.a]['id']}", headers=auth()).json()["active"] is False

    async def given_up():
        rows = await db_fetch(stack, "SELECT status, failure_reason FROM deliveries WHERE id = $1", waiting)
        return rows[0] if rows[0]["status"] == "failed" else None
    failed = await eventually(given_up, "the waiting message to the stopped bot given up", timeout=DEADLINE)
    assert failed["failure_reason"] == "no_address"
    assert webhooks(sink, bots[tree.a]) == []
    # The URLs (they hold the robots' tokens) are kept encrypted, never in plain text.
    stored = await db_fetch(stack, "SELECT url, url_enc FROM webhook_bots WHERE org_unit_id = ANY($1::uuid[])",
                            [tree.a, tree.b, tree.street])
    assert len(stored) == 3
    assert all(r["url"] is None and r["url_enc"] is not None for r in stored)
    assert not any(b["token"].encode() in bytes(r["url_enc"]) for r in stored for b in bots.values())
