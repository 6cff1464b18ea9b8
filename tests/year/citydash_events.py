"""Real-shaped events for the dashboard's tests: payloads as the services publish them (checked
against the published JSON Schemas before use), with their CloudEvent ids, types and topics."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from citydash.contracts import load

UTC = timezone.utc


def uid(name: str) -> str:
    """A stable id per name, so a test can say which unit or member it means."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"citydash-test/{name}"))


@dataclass
class Event:
    id: str
    type: str
    time: datetime
    data: dict
    topic: str

    def row(self):
        return self.id, self.type, self.time, self.data

    def headers(self) -> list[tuple[str, bytes]]:
        return [("ce_specversion", b"1.0"), ("ce_id", self.id.encode()), ("ce_type", self.type.encode()),
                ("ce_source", b"/tests/citydash"), ("ce_time", self.time.isoformat().encode()),
                ("content-type", b"application/json")]

    def value(self) -> bytes:
        return json.dumps(self.data, ensure_ascii=False).encode()


@dataclass
class Sample:
    """Builds events in order; each gets the next minute as its time unless given one."""

    events: list[Event] = field(default_factory=list)
    clock: datetime = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)

    def add(self, event_type: str, data: dict, *, at: datetime | None = None) -> Event:
        contracts = load()
        contracts.validate(event_type, data)  # what the broker's registry would refuse, refused here
        self.clock = at or self.clock + timedelta(minutes=1)
        event = Event(str(uuid.uuid4()), event_type, self.clock, data, contracts.topics[event_type])
        self.events.append(event)
        return event

    # ---- membership --------------------------------------------------------------------------

    def unit(self, name: str, level: str, path: list[str], on: str = "2020-01-01", **kw) -> Event:
        ids = [uid(p) for p in path] + [uid(name)]
        return self.add("UnionEstablished", {
            "org_id": uid(name), "parent_id": ids[-2] if len(ids) > 1 else None, "org_path": ids, "name": name,
            "level": level, "kind": "enterprise" if level == "grassroots" else "regional", "region_code": "310101",
            "established_on": on}, **kw)

    def city(self) -> None:
        """市总 → 东区, 西区 → 东区一街, 西区一街 → 甲厂工会, 乙厂工会 (东), 丙厂工会 (西)."""
        self.unit("市总工会", "city", [])
        for district in ("东区", "西区"):
            self.unit(district, "district", ["市总工会"])
            self.unit(f"{district}一街", "street", ["市总工会", district])
        self.unit("甲厂工会", "grassroots", ["市总工会", "东区", "东区一街"])
        self.unit("乙厂工会", "grassroots", ["市总工会", "东区", "东区一街"])
        self.unit("丙厂工会", "grassroots", ["市总工会", "西区", "西区一街"])

    @staticmethod
    def path(union: str) -> list[str]:
        district = "西区" if union.startswith("丙") else "东区"
        return [uid("市总工会"), uid(district), uid(f"{district}一街"), uid(union)]

    def join(self, member: str, union: str, on: str, **kw) -> Event:
        return self.add("MemberJoined", {
            "member_id": uid(member), "union_id": uid(union), "union_name": union, "org_path": self.path(union),
            "name": member, "gender": "female", "birth_year": 1990, "joined_on": on}, **kw)

    def transfer(self, member: str, from_union: str, to_union: str, on: str, reason="employment_change") -> Event:
        return self.add("MemberTransferred", {
            "member_id": uid(member), "from_union_id": uid(from_union), "to_union_id": uid(to_union),
            "to_union_name": to_union, "from_org_path": self.path(from_union), "to_org_path": self.path(to_union),
            "reason": reason, "initiated_by": "federation", "effective_on": on})

    def leave(self, member: str, union: str, on: str) -> Event:
        return self.add("MemberLeft", {"member_id": uid(member), "union_id": uid(union),
                                       "org_path": self.path(union), "reason": "resigned", "left_on": on})

    def status(self, member: str, union: str, to: str, on: str) -> Event:
        return self.add("MemberStatusChanged", {
            "member_id": uid(member), "union_id": uid(union), "org_path": self.path(union),
            "from_status": "active" if to != "active" else "retained", "to_status": to,
            "reason": "retired" if to == "retained" else "reactivated", "changed_on": on})

    def move(self, unit: str, old: list[str], new: list[str], on: str) -> Event:
        return self.add("UnionMoved", {"org_id": uid(unit), "old_path": [uid(p) for p in old],
                                       "new_path": [uid(p) for p in new], "moved_on": on})

    def merge(self, unit: str, into: str, moved: int, on: str) -> Event:
        return self.add("UnionMerged", {"org_id": uid(unit), "into_org_id": uid(into),
                                        "into_org_path": self.path(into), "members_moved": moved, "merged_on": on})

    def coverage(self, org: str, level: str, *, members: int, target: int | None, at: str) -> Event:
        return self.add("CoverageSummaryPublished", {
            "org_id": uid(org), "org_name": org, "level": level, "period": at[:7], "as_of": at,
            "unions_total": 2, "unions_founded_this_year": 1, "unions_target": 3, "members_total": members,
            "members_target": target, "joins_in_period": 1, "transfers_in_period": 0, "leaves_in_period": 0,
            "non_public_employers_total": 4, "non_public_employers_covered": 2, "collective_contract_employers": 1,
            "rights_rates": [{"measure": "collective_contract", "covered": 1, "base": 4, "target_percent": 80}]})

    # ---- welfare -------------------------------------------------------------------------------

    def campaign(self, name: str, budget_fen: int) -> Event:
        return self.add("CampaignLaunched", {
            "campaign_id": uid(name), "name": name, "kind": "spring_festival", "org_id": uid("市总工会"),
            "org_path": [uid("市总工会")], "fund_id": uid("fund"), "budget_fen": budget_fen,
            "per_payment_cap_fen": 100000, "per_person_year_cap_fen": 300000, "starts_on": "2026-01-05",
            "ends_on": "2026-02-28"})

    def _payment(self, member: str, amount_fen: int, campaign: str | None, entry: str) -> dict:
        return {"case_id": uid(f"case/{entry}"), "member_id": uid(member), "union_id": uid("甲厂工会"),
                "org_path": self.path("甲厂工会"), "kind": "living", "amount_fen": amount_fen,
                "fund_id": uid("fund"), "campaign_id": uid(campaign) if campaign else None,
                "ledger_entry_id": uid(f"entry/{entry}")}

    def paid(self, member: str, amount_fen: int, campaign: str | None, entry: str) -> Event:
        return self.add("AidDisbursed", self._payment(member, amount_fen, campaign, entry)
                        | {"paid_on": "2026-01-20", "campaign_name": campaign})

    def reversed(self, member: str, amount_fen: int, campaign: str | None, entry: str) -> Event:
        return self.add("AidReversed", self._payment(member, amount_fen, campaign, entry)
                        | {"reversal_entry_id": uid(f"reversal/{entry}"), "reversed_on": "2026-01-25"})

    # ---- competitions and notify ---------------------------------------------------------------

    def results(self, contest: str, revision: int, scores: list[int]) -> Event:
        prizes = ["first", "second", "third"]
        return self.add("ContestResultsPublished", {
            "contest_id": uid(contest), "contest_name": contest, "org_path": [uid("市总工会")],
            "revision": revision, "published_at": f"2026-09-2{revision}T02:00:00+00:00",
            "placings": [{"rank": i + 1, "entry_id": uid(f"{contest}/{i}"), "member_ids": [uid(f"选手{i}")],
                          "union_id": uid("甲厂工会"), "final_score_centipoints": s,
                          "prize": prizes[i] if i < 3 else None}
                         for i, s in enumerate(sorted(scores, reverse=True))],
            "correction_reason": None if revision == 1 else "更正评分"})

    def delivered(self, channel: str, at: str, source: str = "source") -> Event:
        return self.add("NotificationDelivered", {
            "notification_id": str(uuid.uuid4()), "source_event_id": uid(source),
            "source_event_type": "MemberJoined", "member_id": uid("张三"), "channel": channel,
            "template": "member_welcome", "delivered_at": at})

    def failed(self, channel: str, at: str) -> Event:
        return self.add("NotificationFailed", {
            "notification_id": str(uuid.uuid4()), "source_event_id": uid("source"),
            "source_event_type": "MemberJoined", "member_id": uid("张三"), "channel": channel,
            "template": "member_welcome", "reason": "smtp 550", "attempts": 5, "failed_at": at})
