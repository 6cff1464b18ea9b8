"""The assistance-case workflow against the real broker and PostgreSQL: opened → assessed →
approved | rejected → paid → closed, each step by a permitted person, the approver never the
opener or assessor, money through the fund ledger, 先建档、后帮扶, migrant workers' waiting
period, and one event per step staged in the outbox of the same transaction."""
from __future__ import annotations

import uuid

import httpx
import pytest

from unionops.clock import local_today
from welfare.domain.hardship import add_months

from tests.support.membership import set_minimum_living_standard
from tests.support.people import ROOT, auth, new_resident_id
from tests.support.rows import projected
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration,
              pytest.mark.services("membership", "welfare")]


@pytest.fixture(scope="module")
def world(membership):
    east, west = membership.branch("武侯"), membership.branch("成华")
    yield {"east": east, "west": west, "membership": membership}


class Desk:
    """The people of one branch and what they do through welfare's API."""

    def __init__(self, http: httpx.AsyncClient, db, world) -> None:
        self.http, self.db, self.world = http, db, world
        b = world["east"]
        self.organiser = auth("staff", b.grassroots, "组织委员-张")   # opens and assesses
        self.street_chair = auth("staff", b.street, "街道主席-李")     # approves
        self.street_clerk = auth("staff", b.street, "街道干事-王")
        self.district = auth("staff", b.district, "区总干事-赵")

    async def member(self, name: str, *, migrant: bool = False) -> uuid.UUID:
        member_id = self.world["membership"].admit(self.world["east"].grassroots, name, migrant=migrant)
        await projected(self.db, members=[member_id])
        return member_id

    async def hardship_file(self, member_id: uuid.UUID) -> uuid.UUID:
        # The district's own 低保 (not the city's: a city-wide default would leak into other tests).
        r = await set_minimum_living_standard(self.http, self.world["east"].district, "2020-01-01", 100_000)
        assert r.status_code in (200, 201), r.text
        r = await self.http.post("/hardship-files", headers=self.organiser, json={
            "member_id": str(member_id), "causes": ["illness"], "annual_income_fen": 0,
            "household": [{"relation": "self", "name": "户主", "id_number": new_resident_id(female=False), "monthly_income_fen": 0}]})
        assert r.status_code == 201, r.text
        return uuid.UUID(r.json()["id"])

    async def street_fund(self, amount_fen: int) -> uuid.UUID:
        """A root fund credited from the budget and a street fund allocated from it."""
        b = self.world["east"]
        await eventually(lambda: self.db.fetchval("SELECT 1 FROM org_units WHERE org_id = $1", b.street),
                         what="the street union to reach welfare's tree")
        year, tag = local_today().year, uuid.uuid4().hex[:6]
        root = await self.http.post("/funds", headers=auth(),
                                    json={"org_id": str(ROOT), "name": f"市级帮扶资金{tag}", "year": year})
        assert root.status_code == 201, root.text
        root_id = root.json()["id"]
        r = await self.http.post(f"/funds/{root_id}/budget", headers=auth(), json={"amount_fen": amount_fen})
        assert r.status_code == 201, r.text
        street = await self.http.post("/funds", headers=auth(), json={
            "org_id": str(b.street), "name": f"街道帮扶资金{tag}", "year": year, "parent_fund_id": root_id})
        assert street.status_code == 201, street.text
        r = await self.http.post(f"/funds/{root_id}/allocations", headers=auth(),
                                 json={"to_fund_id": street.json()["id"], "amount_fen": amount_fen})
        assert r.status_code == 201, r.text
        return uuid.UUID(street.json()["id"])

    async def available(self, fund_id: uuid.UUID) -> int:
        return await self.db.fetchval("SELECT available_fen FROM fund_balances WHERE fund_id = $1", fund_id)

    async def open(self, member_id: uuid.UUID, kind: str = "living", headers=None) -> str:
        r = await self.http.post("/cases", headers=headers or self.organiser, json={
            "member_id": str(member_id), "kind": kind, "source": "application", "summary": "患病住院，家庭月收入不足低保"})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    async def assess(self, case_id: str, amount_fen: int, headers=None) -> httpx.Response:
        return await self.http.post(f"/cases/{case_id}/assess", headers=headers or self.organiser,
                                    json={"proposed_amount_fen": amount_fen, "findings": "入户核查：医疗费用高，收入微薄"})

    async def approve(self, case_id: str, fund_id: uuid.UUID, headers=None) -> httpx.Response:
        return await self.http.post(f"/cases/{case_id}/approve", headers=headers or self.street_chair,
                                    json={"fund_id": str(fund_id)})

    async def approved(self, name: str, amount_fen: int, fund_fen: int) -> tuple[uuid.UUID, uuid.UUID, str]:
        """A member with a hardship file whose case of `amount_fen` is approved against a new street
        fund holding `fund_fen`: (member, fund, case)."""
        member = await self.member(name)
        await self.hardship_file(member)
        fund = await self.street_fund(fund_fen)
        case_id = await self.open(member)
        assert (await self.assess(case_id, amount_fen)).status_code == 200
        assert (await self.approve(case_id, fund)).status_code == 200
        return member, fund, case_id

    async def events(self, case_id: str) -> list[str]:
        rows = await self.db.fetch("SELECT event_type FROM outbox WHERE key = $1 ORDER BY id", case_id)
        return [r["event_type"] for r in rows]

    async def status(self, case_id: str) -> str:
        return await self.db.fetchval("SELECT status FROM assistance_cases WHERE id = $1", uuid.UUID(case_id))


@pytest.fixture
def desk(http, db, world) -> Desk:
    return Desk(http, db, world)


async def test_a_case_goes_from_opened_to_closed_with_one_event_per_step(desk, db):
    member = await desk.member("陈建国")
    await desk.hardship_file(member)
    fund = await desk.street_fund(1_000_000)
    case_id = await desk.open(member)

    r = await desk.assess(case_id, 300_000)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "assessed" and r.json()["findings"].startswith("入户核查")
    stored = await db.fetchval("SELECT findings_enc FROM assistance_cases WHERE id = $1", uuid.UUID(case_id))
    assert "核查".encode() not in bytes(stored)  # encrypted at rest

    r = await desk.approve(case_id, fund)
    assert r.status_code == 200, r.text
    assert r.json()["approved_amount_fen"] == 300_000 and r.json()["approved_by"] == "街道主席-李"
    assert await desk.available(fund) == 700_000

    r = await desk.http.post(f"/cases/{case_id}/pay", headers=desk.street_clerk)
    assert r.status_code == 200, r.text
    paid = r.json()
    assert paid["status"] == "paid" and paid["disbursement_id"]
    ledger = await db.fetchrow("SELECT kind, amount_fen, case_id, approver FROM ledger_entries WHERE id = $1",
                               uuid.UUID(paid["disbursement_id"]))
    assert dict(ledger) == {"kind": "disbursement", "amount_fen": 300_000, "case_id": uuid.UUID(case_id),
                            "approver": "街道主席-李"}

    r = await desk.http.post(f"/cases/{case_id}/close", headers=desk.organiser)
    assert r.status_code == 200 and r.json()["outcome"] == "paid"

    assert await desk.events(case_id) == ["CaseOpened", "CaseAssessed", "CaseApproved", "AidDisbursed", "CaseClosed"]
    await eventually(lambda: db.fetchval("SELECT bool_and(published_at IS NOT NULL) FROM outbox WHERE key = $1",
                                         case_id), what="the relay to publish every step (broker schemas accept them)")
    payloads = await db.fetch("SELECT payload FROM outbox WHERE key = $1", case_id)
    assert all("核查" not in str(p["payload"]) and "住院" not in str(p["payload"]) for p in payloads)
    disbursed = await db.fetchval("SELECT payload FROM outbox WHERE key = $1 AND event_type = 'AidDisbursed'", case_id)
    assert disbursed["amount_fen"] == 300_000 and disbursed["ledger_entry_id"] == paid["disbursement_id"]
    history = await db.fetch("SELECT status, actor FROM case_history WHERE case_id = $1 ORDER BY id",
                             uuid.UUID(case_id))
    assert [h["status"] for h in history] == ["opened", "assessed", "approved", "paid", "closed"]


async def test_approver_is_never_the_opener_or_assessor(desk):
    member = await desk.member("周丽")
    await desk.hardship_file(member)
    fund = await desk.street_fund(500_000)
    case_id = await desk.open(member, headers=desk.street_chair)   # the chair opens it herself
    assert (await desk.assess(case_id, 100_000, headers=desk.street_clerk)).status_code == 200

    for who in (desk.street_chair, desk.street_clerk):
        r = await desk.approve(case_id, fund, headers=who)
        assert r.status_code == 403 and r.json()["type"] == "/problems/four-eyes"
    # The grassroots union cannot approve its own members' aid: a unit above it decides.
    r = await desk.approve(case_id, fund, headers=desk.organiser)
    assert r.status_code == 403 and r.json()["type"] == "/problems/approval-level"
    assert await desk.status(case_id) == "assessed" and await desk.available(fund) == 500_000

    assert (await desk.approve(case_id, fund, headers=desk.district)).status_code == 200


async def test_no_payment_without_a_hardship_file(desk):
    member = await desk.member("刘强")
    fund = await desk.street_fund(500_000)
    case_id = await desk.open(member)
    assert (await desk.assess(case_id, 100_000)).status_code == 200
    r = await desk.approve(case_id, fund)
    assert r.status_code == 422 and r.json()["type"] == "/problems/no-hardship-file"
    assert "先建档、后帮扶" in r.json()["detail"]

    file_id = await desk.hardship_file(member)
    assert (await desk.approve(case_id, fund)).status_code == 200
    # The household left hardship before the money went out: nothing is paid.
    r = await desk.http.post(f"/hardship-files/{file_id}/close", headers=desk.organiser,
                             json={"reason": "out_of_hardship"})
    assert r.status_code == 200, r.text
    r = await desk.http.post(f"/cases/{case_id}/pay", headers=desk.street_clerk)
    assert r.status_code == 422 and r.json()["type"] == "/problems/no-hardship-file"
    assert await desk.status(case_id) == "approved" and "AidDisbursed" not in await desk.events(case_id)


async def test_migrant_worker_is_eligible_after_the_configured_period(desk, db):
    member = await desk.member("马小兵", migrant=True)
    fund = await desk.street_fund(500_000)
    case_id = await desk.open(member)
    assert (await desk.assess(case_id, 100_000)).status_code == 200
    joined = await db.fetchval("SELECT joined_on FROM members WHERE member_id = $1", member)
    r = await desk.approve(case_id, fund)
    assert r.status_code == 422 and r.json()["type"] == "/problems/migrant-worker-waiting-period"
    assert add_months(joined, 12).isoformat() in r.json()["detail"]

    # A year of membership later (the projection's joined_on moved back, as time would).
    await db.execute("UPDATE members SET joined_on = joined_on - interval '12 months' WHERE member_id = $1", member)
    await desk.hardship_file(member)
    assert (await desk.approve(case_id, fund)).status_code == 200


async def test_legal_aid_without_money_needs_no_file_and_is_closed_as_referred(desk, db):
    member = await desk.member("孙海", migrant=True)   # owed wages: legal aid does not wait a year
    fund = await desk.street_fund(100_000)
    case_id = await desk.open(member, kind="legal")
    assert (await desk.assess(case_id, 0)).status_code == 200
    r = await desk.approve(case_id, fund)
    assert r.status_code == 200, r.text
    assert r.json()["approved_amount_fen"] == 0
    assert await db.fetchval("SELECT count(*) FROM ledger_entries WHERE case_id = $1", uuid.UUID(case_id)) == 0
    assert await desk.available(fund) == 100_000
    assert (await desk.http.post(f"/cases/{case_id}/pay", headers=desk.street_clerk)).status_code == 409
    r = await desk.http.post(f"/cases/{case_id}/close", headers=desk.organiser)
    assert r.status_code == 200 and r.json()["outcome"] == "referred"


async def test_living_aid_needs_an_amount_above_zero(desk):
    member = await desk.member("钱芳")
    case_id = await desk.open(member)
    r = await desk.assess(case_id, 0)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.proposed_amount_fen"


async def test_a_rejection_names_a_category_and_commits_nothing(desk, db):
    member = await desk.member("吴敏")
    case_id = await desk.open(member)
    assert (await desk.assess(case_id, 100_000)).status_code == 200
    r = await desk.http.post(f"/cases/{case_id}/reject", headers=desk.street_chair, json={"reason": "肝病"})
    assert r.status_code == 422   # a category, never a diagnosis
    r = await desk.http.post(f"/cases/{case_id}/reject", headers=desk.street_chair,
                             json={"reason": "insufficient_evidence"})
    assert r.status_code == 200 and r.json()["rejected_reason"] == "insufficient_evidence"
    assert await db.fetchval("SELECT count(*) FROM ledger_entries WHERE case_id = $1", uuid.UUID(case_id)) == 0
    assert (await desk.http.post(f"/cases/{case_id}/pay", headers=desk.street_clerk)).status_code == 409
    r = await desk.http.post(f"/cases/{case_id}/close", headers=desk.organiser)
    assert r.status_code == 200 and r.json()["outcome"] == "rejected"
    rejected = await db.fetchval("SELECT payload FROM outbox WHERE key = $1 AND event_type = 'CaseRejected'", case_id)
    assert rejected["reason"] == "insufficient_evidence"


async def test_withdrawing_an_approved_case_releases_its_commitment(desk):
    member, fund, case_id = await desk.approved("郑伟", 150_000, 400_000)
    assert await desk.available(fund) == 250_000
    r = await desk.http.post(f"/cases/{case_id}/withdraw", headers=desk.organiser)
    assert r.status_code == 200 and r.json()["outcome"] == "withdrawn"
    assert await desk.available(fund) == 400_000
    assert (await desk.http.post(f"/cases/{case_id}/withdraw", headers=desk.organiser)).status_code == 409
    assert (await desk.events(case_id))[-1] == "CaseClosed"


async def test_an_approval_the_fund_cannot_cover_is_refused_and_changes_nothing(desk):
    member = await desk.member("冯雪")
    await desk.hardship_file(member)
    fund = await desk.street_fund(50_000)
    case_id = await desk.open(member)
    assert (await desk.assess(case_id, 80_000)).status_code == 200
    r = await desk.approve(case_id, fund)
    assert r.status_code == 409 and r.json()["type"] == "/problems/insufficient-funds"
    assert await desk.status(case_id) == "assessed" and await desk.available(fund) == 50_000
    assert "CaseApproved" not in await desk.events(case_id)


async def test_steps_follow_the_workflow_and_the_subtree(desk, world):
    member = await desk.member("褚红")
    case_id = await desk.open(member)
    r = await desk.http.post(f"/cases/{case_id}/pay", headers=desk.street_clerk)
    assert r.status_code == 409 and r.json()["type"] == "/problems/case-status"
    outsider = auth("staff", world["west"].district, "外区干事")
    assert (await desk.assess(case_id, 100_000, headers=outsider)).status_code == 404
    assert (await desk.assess(case_id, 100_000, headers=auth("auditor", world["east"].district))).status_code == 403
    assert (await desk.http.post(f"/cases/{case_id}/assess", json={"findings": "x"})).status_code == 401
    assert await desk.status(case_id) == "opened"


async def test_a_reversed_case_payment_returns_its_money_and_tells_the_member(desk, db):
    member, fund, case_id = await desk.approved("何冲正", 200_000, 1_000_000)
    r = await desk.http.post(f"/cases/{case_id}/pay", headers=desk.street_clerk)
    assert r.status_code == 200, r.text
    entry = r.json()["disbursement_id"]
    asked = await desk.http.post("/reversals", headers=desk.street_clerk,
                                 json={"entry_id": entry, "reason": "收款账户有误，款项已退回"})
    assert asked.status_code == 201, asked.text
    r = await desk.http.post(f"/reversals/{asked.json()['id']}/approve", headers=desk.street_chair)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert await desk.available(fund) == 1_000_000
    assert (await desk.events(case_id))[-1] == "AidReversed"
    event = await db.fetchval("SELECT payload FROM outbox WHERE key = $1 AND event_type = 'AidReversed'", case_id)
    assert (event["member_id"], event["kind"], event["amount_fen"], event["ledger_entry_id"]) == (
        str(member), "living", 200_000, entry)
    assert "收款账户" not in str(event)  # the officers' reason stays in welfare
    await eventually(lambda: db.fetchval("SELECT published_at IS NOT NULL FROM outbox WHERE key = $1"
                                         " AND event_type = 'AidReversed'", case_id),
                     what="the relay to publish AidReversed (the broker's schema accepts it)")
