"""The year's invariants (devstack.year.invariants) on a small city of its own: the four services as
processes with the trace receiver and both sinks, a few real actions through HTTP (unions founded,
members admitted — one told by SMS —, one transferred, one gone, one union merged into another, a
fund with a budget and a case paid), and, once the system has settled, every invariant holds.

Then each invariant is broken on purpose, directly in a database or a sink, as a defect would
break it, and its Finding turns not-ok naming what broke: that is what shows each check can fail."""
from __future__ import annotations

import smtplib
import uuid
from datetime import timedelta
from email.message import EmailMessage

import asyncpg
import httpx
import pytest

from devstack.config import DATABASES, SERVICES, StackConfig
from devstack.processes import Infrastructure, ServiceProcess, httpsink, smtpsink, tracesink
from devstack.year import invariants
from devstack.year.invariants import Finding, Sources, check_all
from tests.support.membership import admit, change_status, create_unit, set_minimum_living_standard, transfer
from tests.support.people import ROOT, auth, new_resident_id, token
from tests.support.processes import started
from tests.support.waiting import eventually
from unionops.clock import local_now, local_today

pytestmark = pytest.mark.integration

# A quiet window that cannot hold the minutes this module runs in: SMS go out, and the check has
# a window to judge them by (the one planted later is the member's own).
_now = local_now()
QUIET_HOURS = f"{(_now + timedelta(hours=3)):%H:00}-{(_now + timedelta(hours=4)):%H:00}"
NOTIFY_ENV = {"NOTIFY_POLL_INTERVAL_SECONDS": "0.3", "NOTIFY_QUIET_HOURS": QUIET_HOURS,
              "NOTIFY_RETRY_BASE_SECONDS": "0.3", "NOTIFY_RETRY_MAX_SECONDS": "1"}


@pytest.fixture(scope="module")
def city_stack(tmp_path_factory) -> StackConfig:
    """A stack of its own: the invariants read whole databases, so nothing of other modules may be in them."""
    cfg = StackConfig.ephemeral(tmp_path_factory.mktemp("year-invariants"))
    infra = Infrastructure(cfg, fsync=False).start()
    try:
        with started(tracesink(cfg), smtpsink(cfg), httpsink(cfg),
                     *(ServiceProcess(cfg, s, NOTIFY_ENV if s == "notify" else {}) for s in SERVICES)):
            yield cfg
    finally:
        infra.stop()


def sources(cfg: StackConfig, samples: list) -> Sources:
    return Sources(dsn={name: cfg.dsn(name) for name in DATABASES}, urls={s: [cfg.url(s)] for s in SERVICES},
                   admin_token=token(), smtpsink_url=cfg.smtpsink_url, httpsink_url=cfg.httpsink_url,
                   tracesink_url=cfg.tracesink_url, bootstrap=cfg.bootstrap, trace_samples=samples,
                   quiet_hours=QUIET_HOURS, trace_wait=5)


def by_name(findings: list[Finding]) -> dict[str, Finding]:
    return {f.name: f for f in findings}


async def broken(src: Sources) -> dict[str, Finding]:
    return {f.name: f for f in await check_all(src) if not f.ok}


@pytest.fixture(scope="module")
async def city(city_stack):
    """The actions, then the settled system: every invariant holds (waited for, not slept)."""
    cfg = city_stack
    ids: dict = {}
    samples: list = []
    with httpx.Client(base_url=cfg.url("membership"), timeout=30) as m:
        district = create_unit(m, ROOT, "district", "district_federation", name="年度区总工会")
        street = create_unit(m, district, "street", "street_union", name="年度街道工会")
        a, b, c = (create_unit(m, street, "grassroots", "enterprise_union", name=f"年度{n}公司工会") for n in "甲乙丙")
        tag = uuid.uuid4().hex[:6]
        r = admit(m, a, name="林晓", email=f"lin-{tag}@example.cn", phone="139" + str(uuid.uuid4().int)[:8])
        assert r.status_code == 201, r.text
        told_by_sms = r.json()["id"]
        samples.append(("入会", r.headers["X-Trace-Id"], ("membership", "welfare", "competitions", "notify")))
        members = [admit(m, a, name=n, email=f"{i}-{tag}@example.cn").json()["id"] for i, n in enumerate(["王芳", "陈建国"])]
        merged = admit(m, c, name="赵丽", email=f"zhao-{tag}@example.cn").json()["id"]
        with httpx.Client(base_url=cfg.url("notify"), timeout=30) as n:
            async def sms_chosen():
                r = n.put(f"/members/{told_by_sms}/preferences", headers=auth(), json={"channels": {"sms": True}})
                return r.status_code == 200
            await eventually(sms_chosen, "the member known to notify, SMS chosen", timeout=60)
        r = transfer(m, told_by_sms, headers=auth("staff", district), to_union_id=b)
        assert r.status_code in (200, 201), r.text
        assert change_status(m, members[0], "left", "resigned").status_code == 201
        r = m.post(f"/organisations/{c}/merge", headers=auth(), json={"into_org_id": b})
        assert r.status_code in (200, 201), r.text
    ids.update(a=a, b=b, c=c, street=street, district=district, sms_member=told_by_sms, left=members[0],
               aided=members[1], merged=merged)

    async with httpx.AsyncClient(base_url=cfg.url("welfare"), timeout=30) as w:
        aided = members[1]
        r = await set_minimum_living_standard(w, district, "2020-01-01", 100_000)
        assert r.status_code in (200, 201), r.text
        async def file_opened():
            r = await w.post("/hardship-files", headers=auth("staff", a, "组织委员-张"), json={
                "member_id": aided, "causes": ["illness"], "annual_income_fen": 0,
                "household": [{"relation": "self", "name": "户主", "id_number": new_resident_id(), "monthly_income_fen": 0}]})
            return r if r.status_code == 201 else None
        await eventually(file_opened, "the member in welfare, a hardship file opened", timeout=60)
        year = local_today().year
        root = (await w.post("/funds", headers=auth(), json={"org_id": str(ROOT), "name": "年度市级帮扶资金", "year": year})).json()["id"]
        assert (await w.post(f"/funds/{root}/budget", headers=auth(), json={"amount_fen": 1_000_000})).status_code == 201
        fund = (await w.post("/funds", headers=auth(), json={"org_id": street, "name": "年度街道帮扶资金", "year": year,
                                                             "parent_fund_id": root})).json()["id"]
        r = await w.post(f"/funds/{root}/allocations", headers=auth(), json={"to_fund_id": fund, "amount_fen": 500_000})
        assert r.status_code == 201, r.text
        case = (await w.post("/cases", headers=auth("staff", a, "组织委员-张"), json={
            "member_id": aided, "kind": "living", "source": "application", "summary": "患病住院"})).json()["id"]
        assert (await w.post(f"/cases/{case}/assess", headers=auth("staff", a, "组织委员-张"),
                             json={"proposed_amount_fen": 200_000, "findings": "入户核查"})).status_code == 200
        assert (await w.post(f"/cases/{case}/approve", headers=auth("staff", street, "街道主席-李"),
                             json={"fund_id": fund})).status_code == 200
        r = await w.post(f"/cases/{case}/pay", headers=auth("staff", street, "街道干事-王"))
        assert r.status_code == 200, r.text
        samples.append(("帮扶发放", r.headers["X-Trace-Id"], ("welfare", "notify")))
    ids.update(fund=uuid.UUID(fund), root_fund=uuid.UUID(root), case=case)

    src = sources(cfg, samples)
    last: list[Finding] = []

    async def settled_and_all_hold():  # the same findings twice in a row: nothing was still on its way
        before, last[:] = list(last), await check_all(src)
        return all(f.ok for f in last) and last == before
    try:
        await eventually(settled_and_all_hold, "every invariant to hold", timeout=120, interval=1)
    except AssertionError as exc:
        raise AssertionError("\n".join(f"{f.name}: {f.detail}" for f in last if not f.ok)) from exc
    return {"cfg": cfg, "src": src, "ids": ids, "findings": list(last)}


async def query(cfg: StackConfig, db: str, sql: str, *args):
    conn = await asyncpg.connect(cfg.dsn(db))
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


# ---- every invariant holds ---------------------------------------------------------------------

async def test_after_a_few_real_actions_every_invariant_holds_and_says_what_it_compared(city):
    findings = by_name(city["findings"])
    assert list(findings) == [
        invariants.PERSON_IN_ONE_UNION, invariants.COUNTS_PER_UNION, invariants.CHANGES_REFLECTED,
        invariants.FUND_FIGURES, invariants.FUNDS_NEVER_NEGATIVE, invariants.PAYMENTS_MATCH_EVENTS,
        invariants.DELIVERED_ONCE, invariants.NONE_TO_OPTED_OUT, invariants.NONE_IN_QUIET_HOURS,
        invariants.CONSUMED_ONCE, invariants.NO_DEAD_LETTERS, invariants.ONE_TRACE]
    assert all(f.ok for f in findings.values())
    assert findings[invariants.CHANGES_REFLECTED].checked == 4          # four members compared
    assert findings[invariants.PAYMENTS_MATCH_EVENTS].checked == 1      # one payment
    assert "200000 fen" in findings[invariants.PAYMENTS_MATCH_EVENTS].detail
    assert findings[invariants.NONE_IN_QUIET_HOURS].checked >= 1        # the transfer told by SMS
    assert findings[invariants.CONSUMED_ONCE].checked > 10
    assert findings[invariants.ONE_TRACE].checked == 2


async def test_the_sinks_files_are_counted_like_their_apis(city):
    cfg = city["cfg"]
    src = sources(cfg, city["src"].trace_samples)
    src.sink_dirs = {"smtpsink": cfg.state_dir / "mail", "httpsink": cfg.state_dir / "httpsink"}
    findings = by_name(await check_all(src))
    assert findings[invariants.DELIVERED_ONCE].ok, findings[invariants.DELIVERED_ONCE].detail
    assert findings[invariants.DELIVERED_ONCE].detail == by_name(city["findings"])[invariants.DELIVERED_ONCE].detail


# ---- and each one can fail ------------------------------------------------------------------------

async def planted(city, db: str, sql: str, *args) -> tuple[list, dict[str, Finding]]:
    """One statement that breaks an invariant as a defect would: what it returned, and the
    findings broken now (by name)."""
    rows = await query(city["cfg"], db, sql, *args)
    return rows, await broken(city["src"])


async def test_a_member_missing_from_a_projection_breaks_the_counts_and_the_reflection(city):
    member = city["ids"]["merged"]
    _, bad = await planted(city, "competitions", "DELETE FROM members WHERE member_id = $1::uuid", member)
    assert str(city["ids"]["b"]) in bad[invariants.COUNTS_PER_UNION].detail
    assert "competitions" in bad[invariants.COUNTS_PER_UNION].detail
    assert f"1 missing (e.g. {member})" in bad[invariants.CHANGES_REFLECTED].detail


async def test_a_projection_still_in_the_old_union_breaks_the_reflection(city):
    member = city["ids"]["sms_member"]
    _, bad = await planted(city, "welfare", "UPDATE members SET union_id = $2::uuid WHERE member_id = $1::uuid",
                           member, city["ids"]["a"])
    assert f"welfare: 1 in another union (e.g. {member})" in bad[invariants.CHANGES_REFLECTED].detail


async def test_a_membership_in_a_closed_union_breaks_one_person_one_union(city):
    member = city["ids"]["merged"]  # back in the union merged away
    _, bad = await planted(city, "membership", "UPDATE members SET union_id = $1::uuid WHERE id = $2::uuid",
                           city["ids"]["c"], member)
    assert f"members of a union that is closed or unknown (e.g. {member})" in bad[invariants.PERSON_IN_ONE_UNION].detail


async def test_a_ledger_entry_the_fund_could_not_cover_breaks_never_below_zero(city):
    fund = city["ids"]["fund"]
    _, bad = await planted(city, "welfare", "INSERT INTO ledger_entries (id, fund_id, kind, amount_fen, actor)"
                                            " VALUES ($1, $2, 'commitment', 999999999, 'planted')", uuid.uuid4(), fund)
    assert f"funds below zero after an entry (e.g. {fund})" in bad[invariants.FUNDS_NEVER_NEGATIVE].detail
    assert f"not what their ledger adds up to (e.g. {fund})" in bad[invariants.FUND_FIGURES].detail


async def test_a_payment_without_its_event_breaks_payments_equal_events(city):
    [row], bad = await planted(city, "welfare", "DELETE FROM outbox WHERE event_type = 'AidDisbursed'"
                                                " RETURNING payload ->> 'ledger_entry_id' AS entry")
    detail = bad[invariants.PAYMENTS_MATCH_EVENTS].detail
    assert f"payments without their event (e.g. {row['entry']})" in detail and "AidDisbursed 0 fen" in detail


async def delivered(cfg: StackConfig, channel: str, member: str | None = None) -> uuid.UUID:
    """A delivery on `channel` that went out at its first attempt (to `member`, if given)."""
    [row] = await query(cfg, "notify", "SELECT id FROM deliveries WHERE channel = $1 AND status = 'delivered'"
                                       " AND attempts <= 1 AND ($2::uuid IS NULL OR member_id = $2::uuid)"
                                       " ORDER BY created_at LIMIT 1", channel, member)
    return row["id"]


async def test_a_mail_received_twice_breaks_delivered_exactly_once(city):
    cfg = city["cfg"]
    delivery = await delivered(cfg, "email")
    message = EmailMessage()
    message["Message-ID"], message["From"], message["To"] = f"<{delivery}@unionops.local>", "a@b.cn", "c@d.cn"
    message["Subject"] = "again"
    message.set_content("a second copy of one delivery")
    with smtplib.SMTP("127.0.0.1", cfg.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)
    bad = await broken(city["src"])
    assert f"received more than once (e.g. {delivery})" in bad[invariants.DELIVERED_ONCE].detail


async def test_a_delivery_on_a_channel_opted_out_of_breaks_none_to_opted_out(city):
    member = city["ids"]["aided"]
    delivery = await delivered(city["cfg"], "email", member)
    _, bad = await planted(city, "notify", "INSERT INTO channel_preferences (member_id, channel, opted_in, updated_by,"
                                           " updated_at) VALUES ($1::uuid, 'email', false, 'planted', '2000-01-01')",
                           member)
    assert str(delivery) in bad[invariants.NONE_TO_OPTED_OUT].detail


async def test_an_sms_inside_its_members_quiet_hours_breaks_none_in_quiet_hours(city):
    member = city["ids"]["sms_member"]
    sms = await delivered(city["cfg"], "sms", member)
    _, bad = await planted(city, "notify", "INSERT INTO member_settings (member_id, quiet_start, quiet_end)"
                                           " VALUES ($1::uuid, '00:00', '23:59') ON CONFLICT (member_id)"
                                           " DO UPDATE SET quiet_start = '00:00', quiet_end = '23:59'", member)
    assert str(sms) in bad[invariants.NONE_IN_QUIET_HOURS].detail


async def test_an_event_missing_from_a_subscribers_inbox_breaks_consumed_once(city):
    [row], bad = await planted(city, "competitions", "DELETE FROM inbox WHERE event_id = (SELECT event_id FROM inbox"
                                                     " WHERE event_type = 'MemberJoined' LIMIT 1) RETURNING event_id")
    detail = bad[invariants.CONSUMED_ONCE].detail
    assert "competitions.members of membership's" in detail and f"1 not consumed (e.g. {row['event_id']})" in detail


async def test_a_dead_letter_left_pending_breaks_nothing_in_a_dlq(city):
    [row], bad = await planted(city, "welfare", "INSERT INTO dead_letters (consumer, event_id, event_type, topic,"
                                                " partition, \"offset\", headers, error) VALUES ('welfare.members', $1,"
                                                " 'MemberJoined', 'membership.member.v1', 0, 0, '[]', 'planted')"
                                                " RETURNING id", uuid.uuid4())
    assert (f"welfare welfare.members: 1 dead letters pending (e.g. {row['id']})"
            in bad[invariants.NO_DEAD_LETTERS].detail)


async def test_a_trace_missing_a_service_or_split_in_two_breaks_one_trace(city):
    action, trace_id, _ = city["src"].trace_samples[0]
    _, bad = await planted(city, "traces", "DELETE FROM spans WHERE trace_id = $1 AND service = 'competitions'",
                           trace_id)
    assert f"{action} ({trace_id}): no span of competitions" in bad[invariants.ONE_TRACE].detail
    # A span whose parent is not in the trace: two trees.
    _, bad = await planted(city, "traces", "UPDATE spans SET parent_span_id = 'ffffffffffffffff'"
                                           " WHERE (trace_id, span_id) = (SELECT trace_id, span_id FROM spans"
                                           " WHERE trace_id = $1 AND parent_span_id IS NOT NULL"
                                           " ORDER BY start_time DESC LIMIT 1)", trace_id)
    assert f"{action} ({trace_id}): 2 roots, not one tree" in bad[invariants.ONE_TRACE].detail
