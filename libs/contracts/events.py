"""The integration events of UnionOps. (Over 400 lines: every event of every service in one
module, the single contract the schema generator and its compatibility check read.)

Each event is a fact in the past tense. Its topic is per aggregate and major version; its key
is the aggregate id, so one aggregate's events stay in order. Within a major version a change
may only add optional fields (checked by `python -m contracts.generate --check`).

Personal data rule: no resident ID number, phone or e-mail in clear in any event. Contact
details travel sealed on the restricted contact topic that notify alone consumes; ID numbers only
sealed, from the HR systems to membership."""
from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Gender = Literal["male", "female"]


class DomainEvent(BaseModel):
    """Base of every integration event: the payload of a CloudEvent."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    topic: ClassVar[str]
    key_field: ClassVar[str]
    restricted: ClassVar[bool] = False

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__

    def key(self) -> str:
        return str(getattr(self, self.key_field))


# ---- membership -------------------------------------------------------------------------------

class UnionEstablished(DomainEvent):
    """An organisation unit was founded (建会) or registered in the tree."""

    topic: ClassVar[str] = "membership.organisation.v1"
    key_field: ClassVar[str] = "org_id"

    org_id: UUID
    parent_id: UUID | None
    org_path: list[UUID] = Field(description="ids from the city root down to this unit")
    name: str
    level: Literal["city", "district", "street", "grassroots"]
    kind: str
    region_code: str
    established_on: date


class MemberJoined(DomainEvent):
    """A worker joined a grassroots union (入会), real-name verified. No ID number, no phone."""

    topic: ClassVar[str] = "membership.member.v1"
    key_field: ClassVar[str] = "member_id"

    member_id: UUID
    union_id: UUID
    union_name: str
    org_path: list[UUID] = Field(description="ids from the city root down to the member's union")
    name: str
    gender: Gender
    birth_year: int
    is_migrant_worker: bool = False
    joined_on: date
    rejoined_after_days: int | None = Field(
        None, description="set when a former member joins again: the length of the gap (kept visible)")
    origin: Literal["joined", "register"] = Field(
        "joined", description="joined: a new admission (welcomed); register: brought in with an import of the "
                              "existing register (存量会员) — a member for every projection, but not welcomed")
    online_notice: bool = Field(
        False, description="register only: the importing office chose to tell each member that their "
                           "membership is now online (您的会员信息已上线)")


MemberStatus = Literal["active", "retained", "left"]


class MemberTransferred(DomainEvent):
    """Membership moved with employment (会员关系随劳动关系转移). The receiving union cannot refuse;
    where the new employer has no union, the union of the residence area holds the membership."""

    topic: ClassVar[str] = "membership.member.v1"
    key_field: ClassVar[str] = "member_id"

    member_id: UUID
    from_union_id: UUID
    to_union_id: UUID
    to_union_name: str
    from_org_path: list[UUID]
    to_org_path: list[UUID]
    reason: Literal["employment_change", "union_merged", "union_dissolved", "correction"]
    initiated_by: Literal["from_union", "to_union", "hr_system", "federation", "member"]
    held_by_residence_union: bool = False
    effective_on: date
    # Set when the move confirms a receiving union's request (TransferRequested).
    request_id: UUID | None = None


class TransferRequested(DomainEvent):
    """Staff of a receiving union asked for a member of another subtree (by ID number); nothing
    moves until the member or the sending union confirms. Published only when the person is a
    member: the asker's answer is the same either way, and only the member and the sending side
    are told."""

    topic: ClassVar[str] = "membership.member.v1"
    key_field: ClassVar[str] = "member_id"

    request_id: UUID
    member_id: UUID
    from_union_id: UUID
    from_org_path: list[UUID]
    to_union_id: UUID
    to_union_name: str
    to_org_path: list[UUID]
    new_employer: str
    expires_on: date


class TransferRequestClosed(DomainEvent):
    """A transfer request ended without a move: declined by the member, or expired unanswered.
    (A confirmed request ends in MemberTransferred with its `request_id`.)"""

    topic: ClassVar[str] = "membership.member.v1"
    key_field: ClassVar[str] = "member_id"

    request_id: UUID
    member_id: UUID
    from_org_path: list[UUID]
    to_union_id: UUID
    to_union_name: str
    outcome: Literal["declined", "expired"]
    closed_on: date


class MemberStatusChanged(DomainEvent):
    """A member's status changed: active ↔ retained (会籍保留: retired, unemployed, employer closed)."""

    topic: ClassVar[str] = "membership.member.v1"
    key_field: ClassVar[str] = "member_id"

    member_id: UUID
    union_id: UUID
    org_path: list[UUID]
    from_status: MemberStatus
    to_status: MemberStatus
    reason: Literal["retired", "unemployed", "employer_closed", "union_dissolved", "reactivated", "administrative"]
    changed_on: date


class MemberLeft(DomainEvent):
    """A member left the union (退会); the member file keeps the history."""

    topic: ClassVar[str] = "membership.member.v1"
    key_field: ClassVar[str] = "member_id"

    member_id: UUID
    union_id: UUID
    org_path: list[UUID]
    reason: Literal["resigned", "deceased", "expelled", "administrative"]
    left_on: date


class MemberProfileChanged(DomainEvent):
    """Non-sensitive profile fields changed (changes are audited in the member file). Contact
    details travel only as MemberContactChanged on the restricted topic."""

    topic: ClassVar[str] = "membership.member.v1"
    key_field: ClassVar[str] = "member_id"

    member_id: UUID
    changed_fields: list[str]
    name: str | None = None
    employer: str | None = None
    occupation: str | None = None
    education: str | None = None
    is_migrant_worker: bool | None = None
    honours: list[str] | None = Field(None, description="劳模, 五一劳动奖章, 工人先锋号, 金牌工人 …")


class MemberContactChanged(DomainEvent):
    """Restricted: how to reach a member. Consumed by notify only.

    v2: e-mail and phone are sealed (AES-256-GCM, `unionops.pii`) under the member's own data key,
    which travels wrapped under a key-encryption key that membership and notify alone hold
    (PII_CONTACT_KEYS); key ids are inside each value. v1 carried them in clear and is retired.
    The topic is compacted by member id in production: a member's latest record is all notify needs,
    and after MemberPersonalDataErased it is the only one left."""

    topic: ClassVar[str] = "membership.member-contact.v2"
    key_field: ClassVar[str] = "member_id"
    restricted: ClassVar[bool] = True

    member_id: UUID
    name: str
    data_key: str = Field(description="the member's data key wrapped under a contact KEK, base64 (key id inside)")
    data_key_id: str = Field(description="id of the member's data key that sealed the fields")
    email_sealed: str | None = Field(None, description="e-mail sealed under the member's data key, base64")
    phone_sealed: str | None = Field(None, description="phone sealed under the member's data key, base64")


class EmployerContactChanged(DomainEvent):
    """Restricted: how to reach an employer's side (企业方联系人) in writing — the other side of a
    union's offer to negotiate. Consumed by notify only. The e-mail is sealed directly under the
    contact key ring (`KeyRing.seal_field(email_field, employer_id, …)`, PII_CONTACT_KEYS, which
    membership and notify alone hold); name and e-mail None: the contact was withdrawn."""

    topic: ClassVar[str] = "membership.employer-contact.v1"
    key_field: ClassVar[str] = "employer_id"
    restricted: ClassVar[bool] = True
    email_field: ClassVar[str] = "employer_email"

    employer_id: UUID
    employer_name: str
    contact_name: str | None = None
    email_sealed: str | None = Field(None, description="e-mail sealed under a contact KEK, base64")


class MemberPersonalDataErased(DomainEvent):
    """Restricted: the member's data key was destroyed (erasure under PIPL); every copy of their
    contact details, wherever it went, is unreadable from now on. Consumers drop their copy of the key
    and whatever they kept of the member's personal data."""

    topic: ClassVar[str] = "membership.member-contact.v2"
    key_field: ClassVar[str] = "member_id"
    restricted: ClassVar[bool] = True

    member_id: UUID
    data_key_id: str | None = None
    erased_at: datetime


class UnionMerged(DomainEvent):
    """A grassroots union was merged into another; its members moved there."""

    topic: ClassVar[str] = "membership.organisation.v1"
    key_field: ClassVar[str] = "org_id"

    org_id: UUID
    into_org_id: UUID
    into_org_path: list[UUID]
    members_moved: int
    merged_on: date


class UnionDissolved(DomainEvent):
    """A union was dissolved; its members' memberships are held by the parent union (会籍保留)."""

    topic: ClassVar[str] = "membership.organisation.v1"
    key_field: ClassVar[str] = "org_id"

    org_id: UUID
    holder_org_id: UUID
    holder_org_path: list[UUID]
    members_retained: int
    dissolved_on: date


class UnionMoved(DomainEvent):
    """A unit (with its subtree) moved under another parent. Consumers holding org paths replace
    the prefix `old_path` by `new_path` on every path that starts with it."""

    topic: ClassVar[str] = "membership.organisation.v1"
    key_field: ClassVar[str] = "org_id"

    org_id: UUID
    old_path: list[UUID]
    new_path: list[UUID]
    moved_on: date


class RightsRate(BaseModel):
    """One rights-protection measure of a subtree: `covered` of `base` (e.g. non-public employers
    above the size with a collective contract in force, of all such employers), and its target."""

    model_config = ConfigDict(frozen=True)

    measure: str = Field(description="collective_contract, wage_bargaining, women_special_contract, "
                         "members_covered, congress, openness, mediation_committee")
    covered: int
    base: int
    target_percent: int | None = None


class CoverageSummaryPublished(DomainEvent):
    """Periodic coverage figures of one organisation subtree, for dashboards (统计, 信息报送)."""

    topic: ClassVar[str] = "membership.coverage.v1"
    key_field: ClassVar[str] = "org_id"

    org_id: UUID
    org_name: str
    level: str
    period: str = Field(description="the month the flows count, YYYY-MM")
    as_of: datetime
    unions_total: int
    unions_founded_this_year: int
    unions_target: int | None = None
    members_total: int
    members_target: int | None = None
    joins_in_period: int
    transfers_in_period: int
    leaves_in_period: int
    non_public_employers_total: int
    non_public_employers_covered: int
    collective_contract_employers: int
    # Since issue 13 (optional: older readers and summaries lack it): transfers out of the subtree.
    # Neither figure counts a merger or dissolution (a reorganisation is not a transfer).
    transfers_out_period: int | None = None
    # Since issue 14 (optional): the rights-protection rates (维权建制率) on the summary's day.
    rights_rates: list[RightsRate] | None = None


# ---- from other internal systems ----------------------------------------------------------------

class EmploymentChanged(DomainEvent):
    """Restricted, published by HR / social-insurance systems, consumed by membership: a worker
    changed employer. The resident ID number identifies the person; it travels sealed
    (`unionops.pii.KeyRing.seal`, AAD "id_number" + change id) under a key the HR systems share with
    membership alone (PII_HR_KEYS), and never leaves membership. v1 carried it in clear: retired."""

    topic: ClassVar[str] = "hr.employment.v2"
    key_field: ClassVar[str] = "change_id"
    restricted: ClassVar[bool] = True

    change_id: UUID
    id_number_sealed: str = Field(description="the resident ID number sealed under an HR key, base64")
    name: str
    new_employer_name: str
    new_employer_credit_code: str | None = Field(None, description="统一社会信用代码")
    residence_region_code: str = Field(pattern=r"^\d{6}$")
    effective_on: date
    hr_system: str


# ---- welfare ----------------------------------------------------------------------------------

# The kinds of assistance the federation gives, in the words its staff and members use: the
# vocabulary of every event's `kind`, shown by welfare in its rules and by notify in its notices.
CASE_KIND_LABELS: dict[str, str] = {
    "living": "生活救助",
    "medical": "医疗帮扶",
    "education": "助学",
    "employment": "就业帮扶",
    "legal": "法律援助",
    "temporary": "临时救助",
}

class CaseOpened(DomainEvent):
    """An assistance case (帮扶案件) was opened for a member. No health or income detail."""

    topic: ClassVar[str] = "welfare.case.v1"
    key_field: ClassVar[str] = "case_id"

    case_id: UUID
    member_id: UUID
    union_id: UUID
    org_path: list[UUID]
    kind: Literal["living", "medical", "education", "employment", "legal", "temporary"]
    source: Literal["application", "visit", "hotline"]
    opened_on: date
    # Since issue 14 (optional): the labour dispute a legal-aid case was referred from (DisputeReferred).
    dispute_id: UUID | None = None


CaseKind = Literal["living", "medical", "education", "employment", "legal", "temporary"]


class CaseAssessed(DomainEvent):
    """An assistance case was assessed (核查) and awaits approval. No health or income detail."""

    topic: ClassVar[str] = "welfare.case.v1"
    key_field: ClassVar[str] = "case_id"

    case_id: UUID
    member_id: UUID
    org_path: list[UUID]
    proposed_amount_fen: int = Field(ge=0)
    assessed_on: date


class CaseApproved(DomainEvent):
    """An assistance case was approved (审批) and its amount committed against a fund."""

    topic: ClassVar[str] = "welfare.case.v1"
    key_field: ClassVar[str] = "case_id"

    case_id: UUID
    member_id: UUID
    union_id: UUID
    org_path: list[UUID]
    kind: CaseKind
    approved_amount_fen: int = Field(ge=0)
    fund_id: UUID
    approved_by: str
    approved_on: date


class CaseRejected(DomainEvent):
    """An assistance case was rejected; the reason is a category, never health or income detail."""

    topic: ClassVar[str] = "welfare.case.v1"
    key_field: ClassVar[str] = "case_id"

    case_id: UUID
    member_id: UUID
    org_path: list[UUID]
    reason: Literal["not_eligible", "no_hardship_file", "duplicate", "insufficient_evidence", "over_cap", "other"]
    rejected_on: date
    kind: CaseKind | None = Field(None, description="the kind of aid applied for (for the applicant's notice)")


class AidPayment(DomainEvent):
    """What AidDisbursed and AidReversed say of a payment: whose, how much, from which fund."""

    topic: ClassVar[str] = "welfare.case.v1"
    key_field: ClassVar[str] = "case_id"

    case_id: UUID
    member_id: UUID
    union_id: UUID
    org_path: list[UUID]
    kind: CaseKind
    amount_fen: int = Field(gt=0)
    fund_id: UUID
    campaign_id: UUID | None = None
    ledger_entry_id: UUID
    visit_id: UUID | None = Field(None, description="a visit's gift (走访慰问金): the visit it was handed over on; "
                                                    "case_id is the visit's id too")


class AidDisbursed(AidPayment):
    """Aid was paid to a member (from a case or a campaign run). Money in integer fen."""

    paid_on: date
    campaign_name: str | None = Field(None, description="a campaign payment: the campaign's name, for the notice")


class AidReversed(AidPayment):
    """A payment (AidDisbursed) was reversed (冲正) after a second officer approved it: the money
    is back in the fund. Keyed like the payment (`case_id`, `ledger_entry_id` are the payment's),
    so it follows it. The officers' reason stays in welfare (free text); the member is told the
    payment was withdrawn. Money in integer fen."""

    reversal_entry_id: UUID
    paid_on: date | None = None
    reversed_on: date


class CaseClosed(DomainEvent):
    """An assistance case was closed (结案)."""

    topic: ClassVar[str] = "welfare.case.v1"
    key_field: ClassVar[str] = "case_id"

    case_id: UUID
    member_id: UUID
    org_path: list[UUID]
    outcome: Literal["paid", "rejected", "withdrawn", "referred"]
    closed_on: date


HardshipLevel = Literal["deep", "relative", "accident"]  # 深度困难, 相对困难, 意外致困


class HardshipFileOpened(DomainEvent):
    """A household hardship file was opened (困难职工建档). Level and kind only: no health,
    income or family detail."""

    topic: ClassVar[str] = "welfare.hardship-file.v1"
    key_field: ClassVar[str] = "file_id"

    file_id: UUID
    member_id: UUID
    union_id: UUID
    org_path: list[UUID]
    file_kind: Literal["worker", "model_worker"]
    level: HardshipLevel
    opened_on: date
    review_due_on: date


class HardshipFileReviewed(DomainEvent):
    """The yearly re-verification of a hardship file was done."""

    topic: ClassVar[str] = "welfare.hardship-file.v1"
    key_field: ClassVar[str] = "file_id"

    file_id: UUID
    member_id: UUID
    org_path: list[UUID]
    level: HardshipLevel
    still_in_hardship: bool
    reviewed_on: date
    review_due_on: date | None = None


class HardshipFileClosed(DomainEvent):
    """A hardship file was closed (out of hardship, or otherwise); kept for 10 years."""

    topic: ClassVar[str] = "welfare.hardship-file.v1"
    key_field: ClassVar[str] = "file_id"

    file_id: UUID
    member_id: UUID
    org_path: list[UUID]
    reason: Literal["out_of_hardship", "member_left", "deceased", "duplicate", "other"]
    closed_on: date
    retain_until: date


class CampaignLaunched(DomainEvent):
    """A seasonal campaign was launched: 送温暖, 金秋助学, 中秋国庆, 送清凉."""

    topic: ClassVar[str] = "welfare.campaign.v1"
    key_field: ClassVar[str] = "campaign_id"

    campaign_id: UUID
    name: str
    kind: Literal["spring_festival", "golden_autumn", "mid_autumn", "summer_cooling", "other"]
    org_id: UUID
    org_path: list[UUID]
    fund_id: UUID
    budget_fen: int = Field(ge=0)
    per_payment_cap_fen: int = Field(gt=0)
    per_person_year_cap_fen: int = Field(gt=0)
    starts_on: date
    ends_on: date
    levels: list[HardshipLevel] | None = Field(
        None, description="the hardship levels the campaign pays: the households it concerns (None: every level)")


class FundAllocated(DomainEvent):
    """Money was allocated from one fund to another down the tree (专项帮扶资金), in fen."""

    topic: ClassVar[str] = "welfare.fund.v1"
    key_field: ClassVar[str] = "fund_id"

    fund_id: UUID
    from_fund_id: UUID | None
    org_id: UUID
    org_path: list[UUID]
    amount_fen: int = Field(gt=0)
    ledger_entry_id: UUID
    allocated_by: str
    allocated_on: date


class HotlineTicketOverdue(DomainEvent):
    """A 12351 hotline ticket passed its handling deadline; the responsible officer is told."""

    topic: ClassVar[str] = "welfare.hotline.v1"
    key_field: ClassVar[str] = "ticket_id"

    ticket_id: UUID
    org_id: UUID
    org_path: list[UUID]
    category: Literal["general", "difficult", "complex"]  # 一般, 难点, 特别复杂
    assignee: str | None = None
    due_at: datetime
    detected_at: datetime


# ---- competitions -----------------------------------------------------------------------------

class ContestCreated(DomainEvent):
    """A labour or skill contest (劳动竞赛 / 职工技能比赛) was created."""

    topic: ClassVar[str] = "competitions.contest.v1"
    key_field: ClassVar[str] = "contest_id"

    contest_id: UUID
    name: str
    kind: str
    org_id: UUID
    starts_on: date | None = None


class ContestantRegistered(DomainEvent):
    """A member was registered as a contestant."""

    topic: ClassVar[str] = "competitions.contest.v1"
    key_field: ClassVar[str] = "contest_id"

    contest_id: UUID
    contest_name: str
    entry_id: UUID
    member_id: UUID


class ContestScored(DomainEvent):
    """A judge's score for an entry was recorded. Scores are in hundredths of a point."""

    topic: ClassVar[str] = "competitions.contest.v1"
    key_field: ClassVar[str] = "contest_id"

    contest_id: UUID
    contest_name: str
    entry_id: UUID
    member_id: UUID
    judge_id: str
    criterion: str
    score_centipoints: int = Field(ge=0)
    max_centipoints: int = Field(gt=0)
    scored_at: datetime


class RegistrationOpened(DomainEvent):
    """A contest opened its registration window (报名)."""

    topic: ClassVar[str] = "competitions.contest.v1"
    key_field: ClassVar[str] = "contest_id"

    contest_id: UUID
    contest_name: str
    org_id: UUID
    org_path: list[UUID]
    opens_at: datetime
    closes_at: datetime
    team_cap: int | None = None


class TeamRegistered(DomainEvent):
    """A unit's team was accepted into a contest. Members by id only."""

    topic: ClassVar[str] = "competitions.contest.v1"
    key_field: ClassVar[str] = "contest_id"

    contest_id: UUID
    contest_name: str
    team_id: UUID
    team_name: str
    union_id: UUID
    org_path: list[UUID]
    leader_member_id: UUID
    member_ids: list[UUID]
    promoted_from_waiting_list: bool = False


class TeamWaitlisted(DomainEvent):
    """The contest's team cap was reached: the team waits, first come first served."""

    topic: ClassVar[str] = "competitions.contest.v1"
    key_field: ClassVar[str] = "contest_id"

    contest_id: UUID
    contest_name: str
    team_id: UUID
    team_name: str
    union_id: UUID
    org_path: list[UUID]
    leader_member_id: UUID
    member_ids: list[UUID]
    waiting_position: int = Field(ge=1)


class TeamWithdrawn(DomainEvent):
    """A team withdrew (its place may go to the first team on the waiting list)."""

    topic: ClassVar[str] = "competitions.contest.v1"
    key_field: ClassVar[str] = "contest_id"

    contest_id: UUID
    team_id: UUID
    union_id: UUID
    org_path: list[UUID]
    member_ids: list[UUID]


class Placing(BaseModel):
    """One line of a published ranking. Scores in hundredths of a point."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    rank: int = Field(ge=1)
    event_id: UUID | None = Field(None, description="the contest event ranked within, for individual contests")
    entry_id: UUID | None = None
    team_id: UUID | None = None
    member_ids: list[UUID]
    union_id: UUID | None = None
    final_score_centipoints: int
    prize: Literal["first", "second", "third", "excellence"] | None = None  # 一、二、三等奖, 优秀奖


class ContestResultsPublished(DomainEvent):
    """Results of a contest were published (or re-published after an audited correction)."""

    topic: ClassVar[str] = "competitions.contest.v1"
    key_field: ClassVar[str] = "contest_id"

    contest_id: UUID
    contest_name: str
    org_path: list[UUID]
    revision: int = Field(ge=1, description="1 on first publication; +1 for each correction")
    published_at: datetime
    placings: list[Placing]
    correction_reason: str | None = None


class AwardGranted(DomainEvent):
    """A commendation was granted: 安康杯, 五一劳动奖章/奖状, 工人先锋号, 劳模, 金牌工人, 创新标兵 …"""

    topic: ClassVar[str] = "competitions.award.v1"
    key_field: ClassVar[str] = "award_id"

    award_id: UUID
    title: str
    year: int
    union_id: UUID | None = None
    member_id: UUID | None = None
    org_path: list[UUID]
    granted_on: date


class ProposalSubmitted(DomainEvent):
    """A rationalisation proposal (合理化建议) was submitted."""

    topic: ClassVar[str] = "competitions.proposal.v1"
    key_field: ClassVar[str] = "proposal_id"

    proposal_id: UUID
    member_id: UUID
    union_id: UUID
    org_path: list[UUID]
    title: str
    major: bool = False
    answer_due_on: date
    submitted_on: date


class ProposalAnswered(DomainEvent):
    """A proposal got its answer (有答复)."""

    topic: ClassVar[str] = "competitions.proposal.v1"
    key_field: ClassVar[str] = "proposal_id"

    proposal_id: UUID
    member_id: UUID
    org_path: list[UUID]
    outcome: Literal["adopted", "not_adopted", "under_study"]
    answered_on: date
    late: bool = False


class ProposalAdopted(DomainEvent):
    """A proposal was adopted (有落实) — with its award grade once its effect is known (有效果)."""

    topic: ClassVar[str] = "competitions.proposal.v1"
    key_field: ClassVar[str] = "proposal_id"

    proposal_id: UUID
    member_id: UUID
    org_path: list[UUID]
    adopted_on: date
    award_grade: Literal["first", "second", "third", "encouragement"] | None = None
    reward_fen: int | None = Field(None, ge=0)


# ---- rights protection and training (issue 14): one block per area, below its marker ------------

# -- collective contracts (membership)
# The negotiation and life of a collective contract (集体合同) on one topic, keyed by the contract
# (an offer's events by its contract's id, so they stay in order with it). Employers' and units'
# names and the contract's title only; the chief representatives' names stay in membership.

ContractKind = Literal["comprehensive", "wage", "women", "safety"]
OfferSide = Literal["union", "employer"]


class CollectiveOfferSent(DomainEvent):
    """A written offer to negotiate (要约) was sent; the other side must answer in writing by
    `answer_due_on` (20 days from receipt, 集体合同规定 Art. 32)."""

    topic: ClassVar[str] = "membership.collective-contract.v1"
    key_field: ClassVar[str] = "contract_id"

    contract_id: UUID
    offer_id: UUID
    org_id: UUID
    org_path: list[UUID]
    title: str
    kind: ContractKind
    offered_by: OfferSide
    sent_on: date
    received_on: date
    answer_due_on: date
    employer_names: list[str] = Field(default_factory=list)
    # Since the employer contacts (optional): the employers of the contract, whose side a union's offer goes to.
    employer_ids: list[UUID] = Field(default_factory=list)


class CollectiveOfferAnswered(DomainEvent):
    """The other side answered an offer in writing: accepted, or declined with its reasons (kept
    in membership)."""

    topic: ClassVar[str] = "membership.collective-contract.v1"
    key_field: ClassVar[str] = "contract_id"

    contract_id: UUID
    offer_id: UUID
    org_path: list[UUID]
    offered_by: OfferSide
    answer: Literal["accepted", "declined"]
    answered_on: date
    late: bool = False


class CollectiveOfferAnswerDue(DomainEvent):
    """An employer's offer the union has not answered yet falls due within a few days (a reminder,
    raised once per offer)."""

    topic: ClassVar[str] = "membership.collective-contract.v1"
    key_field: ClassVar[str] = "contract_id"

    contract_id: UUID
    offer_id: UUID
    org_id: UUID
    org_path: list[UUID]
    title: str
    answer_due_on: date
    detected_on: date


class CollectiveOfferOverdue(DomainEvent):
    """An offer was not answered within 20 days of receipt (raised once per offer)."""

    topic: ClassVar[str] = "membership.collective-contract.v1"
    key_field: ClassVar[str] = "contract_id"

    contract_id: UUID
    offer_id: UUID
    org_id: UUID
    org_path: list[UUID]
    title: str
    offered_by: OfferSide
    received_on: date
    answer_due_on: date
    detected_on: date


class CollectiveContractSigned(DomainEvent):
    """A draft the workers' congress (or all workers) adopted was signed by both chief
    representatives, for a term of one to three years."""

    topic: ClassVar[str] = "membership.collective-contract.v1"
    key_field: ClassVar[str] = "contract_id"

    contract_id: UUID
    org_id: UUID
    org_path: list[UUID]
    title: str
    kind: ContractKind
    coverage: Literal["enterprise", "regional", "industry"]
    employers: int
    signed_on: date
    starts_on: date
    ends_on: date


class CollectiveContractInForce(DomainEvent):
    """The labour administration raised no objection within 15 days of receipt (劳动合同法 Art. 54):
    the contract is in force (raised once, by the periodic check)."""

    topic: ClassVar[str] = "membership.collective-contract.v1"
    key_field: ClassVar[str] = "contract_id"

    contract_id: UUID
    org_id: UUID
    org_path: list[UUID]
    title: str
    kind: ContractKind
    in_force_from: date
    ends_on: date


class CollectiveContractPublished(DomainEvent):
    """The contract in force was published to the workers it covers (集体合同规定 Art. 48)."""

    topic: ClassVar[str] = "membership.collective-contract.v1"
    key_field: ClassVar[str] = "contract_id"

    contract_id: UUID
    org_id: UUID
    org_path: list[UUID]
    title: str
    published_on: date


class CollectiveContractExpiring(DomainEvent):
    """The six months before a contract's end began: either side may ask to renew (raised once)."""

    topic: ClassVar[str] = "membership.collective-contract.v1"
    key_field: ClassVar[str] = "contract_id"

    contract_id: UUID
    org_id: UUID
    org_path: list[UUID]
    title: str
    kind: ContractKind
    ends_on: date
    detected_on: date
    # Since the employer contacts (optional): the employers covered, whose side is reminded too.
    employer_ids: list[UUID] = Field(default_factory=list)


class CollectiveContractExpired(DomainEvent):
    """A contract's term ended; it no longer counts as coverage (raised once)."""

    topic: ClassVar[str] = "membership.collective-contract.v1"
    key_field: ClassVar[str] = "contract_id"

    contract_id: UUID
    org_id: UUID
    org_path: list[UUID]
    title: str
    kind: ContractKind
    ends_on: date

# -- workers' congresses, 厂务公开, mediation committees (membership)

class CongressEstablished(DomainEvent):
    """A workers' congress (职代会) was established: of one employer, or a regional/industry one
    (区域性、行业性职代会) of a street or industry union covering several small employers."""

    topic: ClassVar[str] = "membership.congress.v1"
    key_field: ClassVar[str] = "congress_id"

    congress_id: UUID
    union_id: UUID
    org_path: list[UUID] = Field(description="ids from the city root down to the congress's union")
    kind: Literal["employer", "regional", "industry"]
    congress_name: str
    employer_ids: list[UUID]
    established_on: date


class DelegatesElected(DomainEvent):
    """Members were elected workers' delegates (职工代表) of a congress for a term. Member ids only."""

    topic: ClassVar[str] = "membership.congress.v1"
    key_field: ClassVar[str] = "congress_id"

    congress_id: UUID
    org_path: list[UUID]
    congress_name: str
    member_ids: list[UUID]
    refused_count: int = 0
    term_start: date
    term_end: date
    elected_on: date


class CongressSessionHeld(DomainEvent):
    """A congress met. Only a quorate session (two thirds of the delegates in term present) counts
    as held; an inquorate one is recorded with `quorate` false."""

    topic: ClassVar[str] = "membership.congress.v1"
    key_field: ClassVar[str] = "congress_id"

    congress_id: UUID
    session_id: UUID
    org_path: list[UUID]
    held_on: date
    electorate: int = Field(description="delegates whose term covers the day")
    present: int
    quorate: bool
    resolutions_adopted: int = 0
    resolutions_rejected: int = 0
    managers_evaluated: int | None = Field(None, description="民主评议干部 at this session: managers evaluated")


class CongressResolutionVoted(DomainEvent):
    """A resolution was put to the vote: adopted only with more than half of ALL delegates in favour."""

    topic: ClassVar[str] = "membership.congress.v1"
    key_field: ClassVar[str] = "congress_id"

    congress_id: UUID
    session_id: UUID
    resolution_id: UUID
    org_path: list[UUID]
    title: str
    electorate: int
    present: int
    in_favour: int
    outcome: Literal["adopted", "rejected", "inquorate"]


class CongressProposalSubmitted(DomainEvent):
    """A delegate submitted a proposal (职代会提案), due for an answer by `answer_due_on`."""

    topic: ClassVar[str] = "membership.congress.v1"
    key_field: ClassVar[str] = "congress_id"

    congress_id: UUID
    proposal_id: UUID
    member_id: UUID
    org_path: list[UUID]
    title: str
    submitted_on: date
    answer_due_on: date


class CongressProposalAnswered(DomainEvent):
    """A delegate's proposal was answered (late when after its due date)."""

    topic: ClassVar[str] = "membership.congress.v1"
    key_field: ClassVar[str] = "congress_id"

    congress_id: UUID
    proposal_id: UUID
    member_id: UUID
    org_path: list[UUID]
    congress_name: str
    outcome: Literal["adopted", "not_adopted", "for_reference"]
    answered_on: date
    late: bool = False


class CongressProposalOverdue(DomainEvent):
    """A delegate's proposal is unanswered past its due date (raised once per proposal)."""

    topic: ClassVar[str] = "membership.congress.v1"
    key_field: ClassVar[str] = "congress_id"

    congress_id: UUID
    proposal_id: UUID
    org_path: list[UUID]
    congress_name: str
    answer_due_on: date
    detected_on: date


class MediationCommitteeFormed(DomainEvent):
    """A labour-dispute mediation committee (劳动争议调解委员会) was formed at an employer or a street."""

    topic: ClassVar[str] = "membership.mediation-committee.v1"
    key_field: ClassVar[str] = "committee_id"

    committee_id: UUID
    level: Literal["employer", "street"]
    employer_id: UUID | None = None
    org_id: UUID = Field(description="the street, or the unit answerable for the employer")
    org_path: list[UUID]
    established_on: date
    members_count: int


class OpennessRecorded(DomainEvent):
    """An employer's 厂务公开 system was recorded (`published_on` None) or it published (公开)."""

    topic: ClassVar[str] = "membership.openness.v1"
    key_field: ClassVar[str] = "employer_id"

    employer_id: UUID
    org_path: list[UUID] = Field(description="the path of the unit answerable for the employer")
    established_on: date
    published_on: date | None = None
    items: list[str]


# -- labour disputes and legal aid (welfare)
# Labour-dispute mediation (劳动争议调解) at a union's mediation committee, welfare's aggregate
# `labour_disputes`. Names only: no claim text, no terms, no contact. `member_id` None: the
# worker is not a member (named in welfare only, nobody to notify).
DisputeKind = Literal["pay", "contract", "dismissal", "injury", "social_insurance", "other"]


class DisputeFact(DomainEvent):
    """What every event of a dispute says: which dispute, at which unit, whose (a member, or None),
    of which kind."""

    topic: ClassVar[str] = "welfare.dispute.v1"
    key_field: ClassVar[str] = "dispute_id"

    dispute_id: UUID
    unit_id: UUID
    org_path: list[UUID]
    member_id: UUID | None = None
    kind: DisputeKind


class DisputeOpened(DisputeFact):
    """A labour dispute was registered for mediation (受理调解申请); `collective`: ten or more
    workers concerned (集体劳动争议), flagged to the district at once."""

    employer_name: str
    workers_concerned: int = Field(ge=1)
    collective: bool
    application_form: Literal["written", "oral"]
    applied_on: date
    officer: str = Field(description="the officer who registered it (their account)")


class DisputeMediated(DisputeFact):
    """Mediation reached an agreement (调解协议书). Money in integer fen, terms stay in welfare."""

    agreed_on: date
    amount_fen: int | None = Field(None, ge=0)


class DisputeFailed(DisputeFact):
    """Mediation failed (调解不成); the reason is a code."""

    reason: Literal["no_agreement", "party_refused", "party_absent", "other"]
    failed_on: date


class DisputeArbitrationOpen(DisputeFact):
    """The worker may now apply to the labour-dispute arbitration committee (劳动人事争议仲裁委员会):
    15 days passed since the application without agreement, or mediation failed (劳动争议调解仲裁法
    Art. 14). Raised once per dispute."""

    applied_on: date
    open_from: date
    cause: Literal["mediation_period_passed", "mediation_failed"]
    officer: str = Field(description="the officer who registered the dispute (their account)")


class DisputeReferred(DisputeFact):
    """The worker (always a member) was referred to legal aid (法律援助): a legal assistance case was
    opened."""

    member_id: UUID
    case_id: UUID
    referred_on: date


# -- training (competitions)

TrainingKind = Literal["bargaining_instructor", "congress_delegate", "union_officer", "job_skills", "other"]


class _TrainingEvent(DomainEvent):
    """What every event of a training programme (培训班) names: the programme and its organiser."""

    topic: ClassVar[str] = "competitions.training.v1"
    key_field: ClassVar[str] = "programme_id"

    programme_id: UUID
    programme_name: str
    kind: TrainingKind
    org_path: list[UUID] = Field(description="the organising unit's path")


class TrainingOpened(_TrainingEvent):
    """A training programme opened its enrolment (报名)."""

    org_id: UUID
    starts_on: date
    ends_on: date
    place: str | None = None
    sessions: int
    capacity: int | None = None


class TrainingEnrolled(_TrainingEvent):
    """Members were enrolled in a programme: one event per enrolment request (a bulk enrolment
    or a member's own), members by id only, so a city-wide enrolment is a few events, not one
    per person; each member's notice comes from it."""

    kind_label: str = Field(description="the kind in the organisers' words (集体协商指导员培训, …)")
    member_ids: list[UUID] = Field(max_length=1000)
    starts_on: date
    ends_on: date
    place: str | None = None


class TrainingCompleted(_TrainingEvent):
    """A member completed a programme (结业) and was given its certificate: one per member, when
    the programme finishes; membership records it in the member file."""

    kind_label: str = Field(description="the kind in the organisers' words (集体协商指导员培训, …)")
    member_id: UUID
    union_id: UUID = Field(description="the member's union when enrolled")
    certificate_no: str
    completed_on: date
    sessions_attended: int
    sessions: int


# ---- notify -----------------------------------------------------------------------------------

Channel = Literal["email", "sms", "webhook", "inapp"]


class NotificationDelivered(DomainEvent):
    """A notification reached its channel."""

    topic: ClassVar[str] = "notify.delivery.v1"
    key_field: ClassVar[str] = "notification_id"

    notification_id: UUID
    source_event_id: UUID
    source_event_type: str
    member_id: UUID | None = None
    channel: Channel
    template: str
    delivered_at: datetime


class NotificationFailed(DomainEvent):
    """A notification could not be delivered after its retries (or failed permanently)."""

    topic: ClassVar[str] = "notify.delivery.v1"
    key_field: ClassVar[str] = "notification_id"

    notification_id: UUID
    source_event_id: UUID
    source_event_type: str
    member_id: UUID | None = None
    channel: Channel
    template: str
    reason: str
    attempts: int
    failed_at: datetime


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.event_type(): cls
    for cls in (
        UnionEstablished,
        UnionMerged,
        UnionDissolved,
        UnionMoved,
        CoverageSummaryPublished,
        MemberJoined,
        MemberTransferred,
        TransferRequested,
        TransferRequestClosed,
        MemberStatusChanged,
        MemberLeft,
        MemberProfileChanged,
        MemberContactChanged,
        MemberPersonalDataErased,
        EmployerContactChanged,
        EmploymentChanged,
        CaseOpened,
        CaseAssessed,
        CaseApproved,
        CaseRejected,
        AidDisbursed,
        AidReversed,
        CaseClosed,
        HardshipFileOpened,
        HardshipFileReviewed,
        HardshipFileClosed,
        CampaignLaunched,
        FundAllocated,
        HotlineTicketOverdue,
        ContestCreated,
        ContestantRegistered,
        ContestScored,
        RegistrationOpened,
        TeamRegistered,
        TeamWaitlisted,
        TeamWithdrawn,
        ContestResultsPublished,
        AwardGranted,
        ProposalSubmitted,
        ProposalAnswered,
        ProposalAdopted,
        NotificationDelivered,
        NotificationFailed,
        CollectiveOfferSent,
        CollectiveOfferAnswered,
        CollectiveOfferAnswerDue,
        CollectiveOfferOverdue,
        CollectiveContractSigned,
        CollectiveContractInForce,
        CollectiveContractPublished,
        CollectiveContractExpiring,
        CollectiveContractExpired,
        CongressEstablished, DelegatesElected, CongressSessionHeld, CongressResolutionVoted,
        CongressProposalSubmitted, CongressProposalAnswered, CongressProposalOverdue, MediationCommitteeFormed,
        OpennessRecorded,
        DisputeOpened,
        DisputeMediated,
        DisputeFailed,
        DisputeArbitrationOpen,
        DisputeReferred,
        TrainingOpened,
        TrainingEnrolled,
        TrainingCompleted,
    )
}

TOPICS: dict[str, list[type[DomainEvent]]] = {}
for _cls in EVENT_TYPES.values():
    TOPICS.setdefault(_cls.topic, []).append(_cls)


def event_class(event_type: str) -> type[DomainEvent] | None:
    return EVENT_TYPES.get(event_type)


def published_by(service: str) -> list[type[DomainEvent]]:
    """The events on the topics a service owns (`<service>.<aggregate>.vN`): what it publishes.
    A service's app declares `publishes=published_by("welfare")`, so a new event needs no second
    list to be documented in AsyncAPI and to get its topic created."""
    return [cls for cls in EVENT_TYPES.values() if cls.topic.split(".", 1)[0] == service]


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"
