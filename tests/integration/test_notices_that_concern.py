"""Notices people want, and no others (issue 13), through the services' HTTP APIs with membership,
welfare and notify running: a campaign tells the households it concerns and the officers who run
it, a member's notices of one campaign come in order and name it, an import of the existing
register welcomes nobody, a rejected case tells the applicant why, and SMS is opt-in unless the
member's office sets another default for a notice kind. Outcomes are read from notify's deliveries
and in-app inbox and from the SMTP and SMS sinks."""
from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest

from contracts.events import AidDisbursed, CampaignLaunched
from devstack.bench_membership import write_csv
from devstack.bench_notify import generate_members
from tests.integration.test_notify_service import db_fetch, publish
from tests.support.membership import admit, set_minimum_living_standard
from tests.support.people import ROOT, auth, new_resident_id
from tests.support.processes import client_fixture
from tests.support.rows import projected
from tests.support.waiting import eventually
from unionops import db as database
from unionops.clock import local_today

pytestmark = [pytest.mark.integration,
              pytest.mark.services(
                  "membership", "welfare", "notify", sinks=("smtpsink", "httpsink"), subject="welfare",
                  env={"notify": {"NOTIFY_POLL_INTERVAL_SECONDS": "0.3", "NOTIFY_QUIET_HOURS": "off",
                                  "NOTIFY_RETRY_BASE_SECONDS": "0.3"}})]

TODAY = local_today()
MINIMUM = 100_000  # 低保 ¥1,000 a person a month

notify = client_fixture(lambda stack: stack.url("notify"))
smtp = client_fixture(lambda stack: stack.smtpsink_url)
sms = client_fixture(lambda stack: stack.httpsink_url)


# ---- the world: one district, its people, its officers ---------------------------------------------


def address() -> str:
    return f"m-{uuid.uuid4().hex[:10]}@example.cn"


def phone() -> str:
    return "139" + str(uuid.uuid4().int)[:8]


class Office:
    """A district of the city with its approver in notify's directory and its welfare desk."""

    def __init__(self, membership, http: httpx.AsyncClient, db, notify: httpx.Client, stack) -> None:
        self.membership, self.http, self.db, self.notify, self.stack = membership, http, db, notify, stack
        self.branch = membership.branch("关怀")
        self.staff = auth("staff", self.branch.district, "区总干事")
        self.approver_email = address()

    def admit(self, name: str, **contact) -> uuid.UUID:
        r = admit(self.membership.http, self.branch.grassroots, name=name, **contact)
        assert r.status_code == 201, r.text
        return uuid.UUID(r.json()["id"])

    async def setup(self) -> None:
        await eventually(lambda: self.notify_row("SELECT 1 FROM org_units WHERE org_id = $1", self.branch.district),
                         what="the district in notify")
        r = self.notify.post("/officers", headers=auth(), json={
            "name": "陈审批", "org_id": str(self.branch.district), "roles": ["approver"],
            "email": self.approver_email})
        assert r.status_code == 201, r.text
        r = await set_minimum_living_standard(self.http, self.branch.district, TODAY - timedelta(days=30), MINIMUM)
        assert r.status_code in (200, 201), r.text

    async def notify_row(self, sql: str, *args):
        rows = await db_fetch(self.stack, sql, *args)
        return rows[0] if rows else None

    async def hardship_file(self, member_id: uuid.UUID, *, monthly_income_fen: int = 0) -> None:
        """A one-person household: no income is 深度困难, ¥1,250 a month 相对困难."""
        await projected(self.db, members=[member_id])
        r = await self.http.post("/hardship-files", headers=self.staff, json={
            "member_id": str(member_id), "causes": ["illness"], "annual_income_fen": monthly_income_fen * 12,
            "household": [{"relation": "self", "name": "户主", "id_number": new_resident_id(),
                           "monthly_income_fen": monthly_income_fen}]})
        assert r.status_code == 201, r.text

    async def fund(self, amount_fen: int) -> str:
        tag = uuid.uuid4().hex[:6]
        r = await self.http.post("/funds", headers=auth(), json={"org_id": str(ROOT), "name": f"市帮扶资金{tag}",
                                                                 "year": TODAY.year})
        assert r.status_code == 201, r.text
        city = r.json()["id"]
        assert (await self.http.post(f"/funds/{city}/budget", json={"amount_fen": amount_fen},
                                     headers=auth())).status_code == 201
        r = await self.http.post("/funds", headers=auth(), json={
            "org_id": str(self.branch.district), "name": f"区帮扶资金{tag}", "year": TODAY.year,
            "parent_fund_id": city})
        assert r.status_code == 201, r.text
        fund = r.json()["id"]
        assert (await self.http.post(f"/funds/{city}/allocations", headers=auth(),
                                     json={"to_fund_id": fund, "amount_fen": amount_fen})).status_code == 201
        return fund

    async def launch(self, name: str, levels: dict[str, int]) -> dict:
        fund = await self.fund(5_000_000)
        r = await self.http.post("/campaigns", headers=self.staff, json={
            "name": name, "kind": "spring_festival", "org_id": str(self.branch.district), "fund_id": fund,
            "budget_fen": 2_000_000, "level_amounts": levels,
            "starts_on": str(TODAY - timedelta(days=1)), "ends_on": str(TODAY + timedelta(days=30))})
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture(scope="module")
async def office(membership, services, stack, notify):
    async with httpx.AsyncClient(base_url=services["welfare"].url, timeout=20) as http:
        conn = await database.connect(stack.dsn("welfare"))
        try:
            o = Office(membership, http, conn, notify, stack)
            await o.setup()
            yield o
        finally:
            await conn.close()


def now(read):
    """`read` (a plain call) as a probe for `eventually`."""
    async def probe():
        return read()
    return probe


def mails_to(smtp: httpx.Client, to: str) -> list[dict]:
    body = smtp.get("/messages", params={"to": to}).json()
    return sorted(body["messages"] if isinstance(body, dict) else body, key=lambda m: m["seq"])


async def settled(stack, source_event_id) -> list:
    """The deliveries of one event once none is still to be sent."""
    async def done():
        rows = await db_fetch(stack, "SELECT * FROM deliveries WHERE source_event_id = $1", source_event_id)
        return rows if rows and all(r["status"] not in ("pending", "sending") for r in rows) else None
    return await eventually(done, what="the event's deliveries sent", timeout=60)


async def launch_event_id(stack, campaign_id) -> uuid.UUID:
    row = await eventually(lambda: db_fetch(stack, "SELECT source_event_id, status FROM fanouts"
                                                   " WHERE campaign_id = $1 AND status = 'done'",
                                            uuid.UUID(campaign_id)), what="the campaign's fan-out done")
    return row[0]["source_event_id"]


# ---- a campaign tells those it concerns ------------------------------------------------------------


async def test_a_campaign_tells_the_households_it_concerns_and_its_approvers_not_every_member(office, stack, smtp):
    tag = uuid.uuid4().hex[:4]
    deep, relative, untouched = address(), address(), address()
    household = office.admit("张深困", email=deep)
    other_level = office.admit("李相对", email=relative)
    bystanders = [office.admit(f"王会员{c}", email=untouched if c == "甲" else address()) for c in "甲乙丙"]
    await office.hardship_file(household)
    await office.hardship_file(other_level, monthly_income_fen=125_000)
    await eventually(lambda: office.notify_row("SELECT count(*) = 2 AS n FROM hardship_files WHERE member_id = ANY($1)"
                                               " HAVING count(*) = 2", [household, other_level]),
                     what="the files in notify")
    await projected_in_notify(stack, [household, other_level, *bystanders])

    campaign = await office.launch(f"{TODAY.year}年春节送温暖{tag}", {"deep": 300_000})  # pays 深度困难 only

    event_id = await launch_event_id(stack, campaign["id"])
    rows = await settled(stack, event_id)
    told = {r["recipient_id"] for r in rows if r["recipient_kind"] == "member"}
    assert told == {household}  # not the 相对困难 household, not the members without a file
    assert [m["subject"] for m in mails_to(smtp, deep)].count(f"{campaign['name']}开始啦") == 1
    assert not [m for m in mails_to(smtp, relative) if campaign["name"] in m["subject"]]
    assert not [m for m in mails_to(smtp, untouched) if campaign["name"] in m["subject"]]
    officer_mail = [m for m in mails_to(smtp, office.approver_email) if campaign["name"] in m["subject"]]
    assert len(officer_mail) == 1 and "工作事项" in officer_mail[0]["subject"]
    progress = office.notify.get(f"/fanouts/{event_id}", headers=auth()).json()
    assert progress["total"] == progress["members_done"] == 1


async def projected_in_notify(stack, members) -> None:
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM members m JOIN contacts c USING (member_id)"
                                             " WHERE member_id = ANY($1) HAVING count(*) = $2", members, len(members)),
                     what="the members and contacts in notify")


# ---- one campaign's notices in order, named -----------------------------------------------------------


async def test_a_members_notices_of_one_campaign_arrive_in_order_and_name_the_campaign(office, stack, smtp):
    tag = uuid.uuid4().hex[:4]
    mail = address()
    member = office.admit("赵帮扶", email=mail)
    await office.hardship_file(member)
    await projected_in_notify(stack, [member])
    await eventually(lambda: office.notify_row("SELECT 1 FROM hardship_files WHERE member_id = $1 AND open", member),
                     what="the file in notify")
    campaign = await office.launch(f"{TODAY.year}年春节送温暖{tag}", {"deep": 300_000, "relative": 200_000})
    r = await office.http.post(f"/campaigns/{campaign['id']}/runs", json={}, headers=office.staff)
    assert r.status_code == 201, r.text  # the run at once: its payments race the launch's fan-out

    got = await eventually(now(lambda: _two(mails_to(smtp, mail), campaign["name"])), what="both mails", timeout=60)
    assert [m["subject"] for m in got] == [f"{campaign['name']}开始啦", f"{campaign['name']}：3,000.00元已发放"]
    assert "工会帮扶活动" not in got[1]["text"]
    await eventually(lambda: _inbox_both(stack, member), what="both in-app messages")
    rows = await db_fetch(stack, "SELECT template FROM inbox_messages WHERE member_id = $1 AND template LIKE 'campaign%'"
                                 " ORDER BY created_at", member)
    assert [r["template"] for r in rows] == ["campaign_started", "campaign_payment_made"]


async def _inbox_both(stack, member):
    rows = await db_fetch(stack, "SELECT count(*) AS n FROM inbox_messages WHERE member_id = $1"
                                 " AND template LIKE 'campaign%'", member)
    return rows[0]["n"] == 2


def _two(mails: list[dict], name: str) -> list[dict] | None:
    ours = [m for m in mails if name in (m["subject"] or "")]
    return ours if len(ours) == 2 else None


async def test_a_payment_notice_that_comes_before_its_campaign_waits_for_the_campaigns_notice(office, stack, smtp):
    """The payment's event reaches notify first (another topic than the launch): the payment is
    held, then both go out in order once the launch arrives."""
    mail = address()
    member = office.admit("钱先到", email=mail)
    await projected_in_notify(stack, [member])
    path = (await db_fetch(stack, "SELECT org_path FROM members WHERE member_id = $1", member))[0]["org_path"]
    campaign_id, name = uuid.uuid4(), f"{TODAY.year}年春节送温暖{uuid.uuid4().hex[:4]}"
    await publish(stack, AidDisbursed(
        case_id=uuid.uuid4(), member_id=member, union_id=office.branch.grassroots, org_path=path, kind="living",
        amount_fen=150_000, fund_id=uuid.uuid4(), campaign_id=campaign_id, ledger_entry_id=uuid.uuid4(),
        paid_on=TODAY, campaign_name=name))
    held = await eventually(lambda: db_fetch(stack, "SELECT status FROM deliveries WHERE member_id = $1"
                                                    " AND template = 'campaign_payment_made' AND channel = 'email'",
                                             member), what="the payment's delivery")
    await asyncio.sleep(2.0)  # several dispatcher rounds
    assert (await db_fetch(stack, "SELECT status FROM deliveries WHERE member_id = $1 AND channel = 'email'"
                                  " AND template = 'campaign_payment_made'", member))[0]["status"] == "pending", held
    assert not [m for m in mails_to(smtp, mail) if name in m["subject"]]

    await publish(stack, CampaignLaunched(
        campaign_id=campaign_id, name=name, kind="spring_festival", org_id=office.branch.district,
        org_path=[ROOT, office.branch.district], fund_id=uuid.uuid4(), budget_fen=1_000_000,
        per_payment_cap_fen=300_000, per_person_year_cap_fen=600_000, starts_on=TODAY, ends_on=TODAY + timedelta(30),
        levels=["deep"]))
    got = await eventually(now(lambda: _two(mails_to(smtp, mail), name)), what="both mails", timeout=60)
    assert [m["subject"] for m in got] == [f"{name}开始啦", f"{name}：1,500.00元已发放"]


# ---- imports: new joins are welcomed, the existing register is not ------------------------------------


def upload(membership, union_name: str, tag: str, n: int, tmp_path, **form) -> tuple[dict, list[str]]:
    rows = list(generate_members(n, [union_name], tag=tag, area="510104"))
    sheet = tmp_path / f"{tag}.csv"
    write_csv(sheet, rows)
    with sheet.open("rb") as fh:
        r = membership.http.post("/imports/members", files={"file": (sheet.name, fh, "text/csv")}, data=form)
    assert r.status_code == 201, r.text
    return r.json(), [row[4] for row in rows]


async def test_importing_the_existing_register_welcomes_nobody_and_only_new_joins_are_welcomed(
        office, membership, records, stack, smtp, tmp_path):
    union_name = membership.http.get(f"/organisations/{office.branch.grassroots}").json()["name"]
    tags = [uuid.uuid4().hex[:6] for _ in range(3)]
    register, register_mails = upload(membership, union_name, tags[0], 4, tmp_path, intake="register")
    online, online_mails = upload(membership, union_name, tags[1], 3, tmp_path, intake="register",
                                  online_notice="true")
    joins, join_mails = upload(membership, union_name, tags[2], 2, tmp_path)  # the default: new joins
    assert (register["intake"], register["notices"]) == ("register", {"welcome": 0, "online": 0})
    assert online["notices"] == {"welcome": 0, "online": 3} and joins["notices"] == {"welcome": 2, "online": 0}
    imported = {}
    for body in (register, online, joins):
        imported[body["import_id"]] = [r["member_id"] for r in await records.fetch(
            "SELECT member_id FROM member_file_entries WHERE detail->>'import_id' = $1", body["import_id"])]
    register_ids, online_ids, join_ids = imported.values()
    intakes = await records.fetch("SELECT DISTINCT detail->>'intake' AS intake FROM member_file_entries"
                                  " WHERE member_id = ANY($1)", register_ids)
    assert [r["intake"] for r in intakes] == ["register"]  # the member file tells a join from the register
    await projected_in_notify(stack, [*register_ids, *online_ids, *join_ids])  # their MemberJoined handled

    for to in join_mails:
        mails = await eventually(now(lambda: mails_to(smtp, to)), what="a new member's welcome", timeout=60)
        assert [m["subject"] for m in mails] == [f"欢迎加入{union_name}"]
    for to in online_mails:
        mails = await eventually(now(lambda: mails_to(smtp, to)), what="the online notice", timeout=60)
        assert [m["subject"] for m in mails] == ["您的会员信息已上线"]
    [told] = await db_fetch(stack, "SELECT count(*) AS n FROM deliveries WHERE member_id = ANY($1)", register_ids)
    assert told["n"] == 0
    for to in register_mails:
        assert mails_to(smtp, to) == []
    [welcomed] = await db_fetch(stack, "SELECT count(*) AS n FROM deliveries WHERE member_id = ANY($1)"
                                       " AND template = 'member_joined'", [*register_ids, *online_ids, *join_ids])
    assert welcomed["n"] == 2 * 2  # the two new joins, by e-mail and in-app each
    # Every projection still takes the register's members as members.
    await projected(office.db, members=[*register_ids, *online_ids])


def test_an_import_that_asks_for_the_online_notice_must_be_of_the_register(membership, tmp_path):
    sheet = tmp_path / "x.csv"
    write_csv(sheet, list(generate_members(1, ["不存在的工会"], tag=uuid.uuid4().hex[:6], area="510104")))
    with sheet.open("rb") as fh:
        r = membership.http.post("/imports/members", files={"file": (sheet.name, fh, "text/csv")},
                                 data={"intake": "new_joins", "online_notice": "true"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.online_notice"
    with sheet.open("rb") as fh:
        r = membership.http.post("/imports/members", files={"file": (sheet.name, fh, "text/csv")},
                                 data={"intake": "everyone"})
    assert r.status_code == 422


# ---- a rejected case tells the applicant why ---------------------------------------------------------


async def reject_case(office, member: uuid.UUID, reason: str) -> str:
    await projected(office.db, members=[member])
    organiser = auth("staff", office.branch.grassroots, "组织委员")
    r = await office.http.post("/cases", headers=organiser, json={
        "member_id": str(member), "kind": "medical", "source": "application", "summary": "住院"})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    assert (await office.http.post(f"/cases/{case_id}/assess", headers=organiser, json={
        "proposed_amount_fen": 100_000, "findings": "入户核查"})).status_code == 200
    r = await office.http.post(f"/cases/{case_id}/reject", headers=auth("staff", office.branch.street, "街道主席"),
                               json={"reason": reason})
    assert r.status_code == 200, r.text
    return case_id


async def test_a_rejected_case_tells_the_applicant_the_reason_in_plain_words(office, stack, smtp):
    mail = address()
    member = office.admit("吴申请", email=mail)
    case_id = await reject_case(office, member, "insufficient_evidence")
    [rejected] = await eventually(now(lambda: [m for m in mails_to(smtp, mail) if "未获批准" in m["subject"]]),
                                  what="the rejection notice", timeout=60)
    assert rejected["subject"] == "您的医疗帮扶申请未获批准"
    assert "申请材料不足以证明您的困难情况" in rejected["text"] and case_id[:8].upper() in rejected["text"]
    assert "insufficient_evidence" not in rejected["text"]
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM inbox_messages WHERE member_id = $1"
                                             " AND template = 'case_rejected'", member), what="the in-app notice")


# ---- SMS is opt-in; an office sets defaults per notice kind -------------------------------------------


async def test_sms_is_opt_in_and_an_office_sets_the_default_per_notice_kind_for_its_subtree(
        office, stack, notify, sms):
    member_phone, choosy_phone = phone(), phone()
    member = office.admit("孙短信", phone=member_phone, email=address())
    choosy = office.admit("周不要短信", phone=choosy_phone, email=address())
    await projected_in_notify(stack, [member, choosy])
    shown = notify.get(f"/members/{member}/preferences", headers=auth()).json()
    assert shown["channels"] == {}
    assert shown["defaults"]["case_rejected"] == {"email": True, "sms": False, "inapp": True}  # opt-in
    assert shown["defaults"]["campaign_payment_made"]["sms"] is True  # urgent
    assert "opt-in" in notify.get("/openapi.json").json()["paths"]["/members/{member_id}/preferences"]["get"][
        "description"]

    url = f"/organisations/{office.branch.district}/notice-defaults/case_rejected"
    assert notify.put(url, json={"channels": {"sms": True}}, headers=auth("member", office.branch.district,
                                                                           str(member))).status_code == 403
    outside = notify.put(url, json={"channels": {"sms": True}}, headers=auth("staff", uuid.uuid4()))
    assert outside.status_code == 404 and str(office.branch.district) not in outside.json()["detail"]
    assert outside.json() == notify.put(url.replace(str(office.branch.district), str(uuid.uuid4())),
                                        json={"channels": {"sms": True}}, headers=auth("staff", uuid.uuid4())).json() \
        | {"instance": outside.json()["instance"]}  # as a unit that does not exist
    r = notify.put(url, json={"channels": {"sms": True}}, headers=office.staff)
    assert r.status_code == 200, r.text
    assert r.json()["own"] == {"case_rejected": {"sms": True}}
    assert notify.get(f"/members/{member}/preferences", headers=auth()).json()["defaults"]["case_rejected"]["sms"]
    r = notify.put(f"/members/{choosy}/preferences", json={"channels": {"sms": False}},
                   headers=auth("member", office.branch.grassroots, str(choosy)))
    assert r.status_code == 200, r.text  # the member's own choice wins over the office's default

    for who in (member, choosy):
        await reject_case(office, who, "over_cap")
    texts = await eventually(now(lambda: sms.get("/sms", params={"to": member_phone}).json()["sms"]),
                             what="the rejection by SMS", timeout=60)
    assert len(texts) == 1 and "本年度获得的帮扶已达到规定的限额" in texts[0]["text"]
    await eventually(lambda: db_fetch(stack, "SELECT 1 FROM deliveries WHERE member_id = $1 AND template ="
                                             " 'case_rejected' AND channel = 'email' AND status = 'delivered'", choosy),
                     what="the other member's rejection by e-mail")
    assert sms.get("/sms", params={"to": choosy_phone}).json()["sms"] == []
