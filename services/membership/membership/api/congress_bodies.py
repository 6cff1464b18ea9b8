"""Request bodies of workers' congresses, 厂务公开 and mediation committees (issue 14)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field

from membership.domain.congresses import DEFAULT_PROPOSAL_ANSWER_DAYS, OPENNESS_ITEMS, CongressKind, ProposalOutcome
from unionops.bodies import Body
from unionops.inputs import Count, PersonName, UnitName, count

OpennessItem = Literal[tuple(OPENNESS_ITEMS)]  # type: ignore[valid-type]


class CongressIn(Body):
    kind: CongressKind = Field(description="employer 企业职代会; regional 区域性; industry 行业性")
    name: UnitName = Field(max_length=100)
    union_id: uuid.UUID | None = Field(None, description="区域性、行业性职代会所属的工会（企业职代会取企业的工会）")
    employer_ids: list[uuid.UUID] = Field(min_length=1, max_length=1000)
    established_on: date | None = None
    proposal_answer_days: count(ge=1, le=90) = Field(DEFAULT_PROPOSAL_ANSWER_DAYS,
                                                    description="提案答复期限（天），默认30天")


class DelegatesIn(Body):
    member_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)
    term_start: date
    term_end: date
    elected_on: date | None = None


class ResolutionIn(Body):
    title: str = Field(min_length=1, max_length=200)
    in_favour: Count


class EvaluationIn(Body):
    """民主评议干部: managers evaluated and the ballots' verdicts (满意、基本满意、不满意)."""

    managers_evaluated: count(ge=1)
    satisfied: Count
    basically_satisfied: Count
    dissatisfied: Count


class SessionIn(Body):
    held_on: date
    present: Count
    resolutions: list[ResolutionIn] = Field(default_factory=list, max_length=100)
    evaluation: EvaluationIn | None = None


class CongressProposalIn(Body):
    member_id: uuid.UUID
    title: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=5000)
    submitted_on: date | None = None


class CongressProposalAnswerIn(Body):
    outcome: ProposalOutcome
    answer: str = Field(min_length=1, max_length=5000)


class OpennessIn(Body):
    established_on: date
    items: list[OpennessItem] = Field(min_length=1, max_length=len(OPENNESS_ITEMS))


class PublicationIn(Body):
    published_on: date | None = None
    items: list[OpennessItem] | None = Field(None, min_length=1, max_length=len(OPENNESS_ITEMS))


class MediationCommitteeIn(Body):
    employer_id: uuid.UUID | None = None
    street_id: uuid.UUID | None = None
    established_on: date
    members_count: count(ge=2, le=100) = Field(description="委员人数（职工代表与企业代表，至少2人）")
    chair_name: PersonName | None = Field(None, max_length=50)
