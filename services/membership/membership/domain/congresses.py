"""Rules of democratic management (issue 14), no I/O: workers' congresses (职代会) and
their delegates, sessions and proposals; 厂务公开; labour-dispute mediation committees.

- A congress belongs to a union: an employer's own (the employer's grassroots union), or a
  regional one (区域性职代会) of a street union or joint grassroots union, or an industry one
  (行业性职代会) of an industry union, covering several small employers of its subtree. An employer
  is covered by one congress.
- Delegates (职工代表) are members of the covered employers' unions (or of the congress's own union),
  elected for a term of at most five years (企业民主管理规定 Art. 9: 每届任期三至五年); only
  delegates whose term covers a session's day are its electorate.
- A session is held only with two thirds of that electorate present; resolutions need more
  than half of ALL of it in favour (`domain.votes.Vote`). 民主评议干部 is recorded at a session.
- A delegate's proposal (提案) is due for an answer `proposal_answer_days` after submission: 30 by
  default — a month, like 合理化建议 (competitions), which the plans name beside it; a congress's
  own 提案工作细则 may set 1–90 days."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from membership.domain.votes import Vote
from unionops.problems import RuleViolation

CongressKind = Literal["employer", "regional", "industry"]
KIND_LABELS: dict[str, str] = {"employer": "企业职代会", "regional": "区域性职代会", "industry": "行业性职代会"}

DEFAULT_PROPOSAL_ANSWER_DAYS = 30
MAX_TERM_YEARS = 5

ProposalOutcome = Literal["adopted", "not_adopted", "for_reference"]
PROPOSAL_OUTCOME_LABELS: dict[str, str] = {"adopted": "立案并落实", "not_adopted": "不予立案（已说明理由）",
                                           "for_reference": "作为意见建议转有关部门参考"}

# Why a member was not elected a delegate (the bulk election lists each refused id with one).
ELECTION_REFUSALS: dict[str, str] = {
    "not_covered": "不是本职代会所覆盖工会的会员",
    "not_active": "会籍状态不是正常（保留会籍或已退会）",
    "already_delegate": "该会员在此任期内已是职工代表",
}

# 厂务公开 items (公开内容), as the plans and the 厂务公开 rules name them.
OPENNESS_ITEMS: dict[str, str] = {
    "major_decisions": "企业重大决策",
    "operations": "生产经营管理",
    "wages": "工资奖金分配",
    "social_insurance": "社会保险缴纳",
    "safety": "劳动安全卫生",
    "hospitality_expenses": "业务招待费",
    "leaders_integrity": "领导人员廉洁自律",
    "contracts": "劳动合同与集体合同",
}


def check_congress_union(kind: str, level: str, union_kind: str, employers: int) -> None:
    """Which union may hold which congress, and how many employers it covers."""
    if kind == "employer":
        if employers != 1:
            raise RuleViolation("企业职代会须且只能覆盖一家企业", field="employer_ids")
        return
    if kind == "regional" and not (level == "street" or union_kind == "joint_grassroots_union"):
        raise RuleViolation("区域性职代会须属于街道（乡镇）工会或联合基层工会", field="union_id")
    if kind == "industry" and union_kind != "industry_union":
        raise RuleViolation("行业性职代会须属于行业工会", field="union_id")
    if employers < 2:
        raise RuleViolation("区域性、行业性职代会须覆盖至少两家企业", field="employer_ids")


# A new term begins within a year of the election (elected in November for the next year's term).
MAX_DAYS_TO_TERM_START = 366


def check_term(term_start: date, term_end: date, elected_on: date) -> None:
    if term_end <= term_start:
        raise RuleViolation("任期结束日须晚于开始日", field="term_end")
    # Compared as (year, month, day), so a term from 29 February and the year 9999 need no date arithmetic.
    if (term_end.year, term_end.month, term_end.day) > (term_start.year + MAX_TERM_YEARS, term_start.month,
                                                        term_start.day):
        raise RuleViolation(f"职工代表每届任期最长{MAX_TERM_YEARS}年", field="term_end")
    if (term_start - elected_on).days > MAX_DAYS_TO_TERM_START:
        raise RuleViolation("任期须在选举后一年内开始", field="term_start")


def answer_due_on(submitted_on: date, days: int) -> date:
    return submitted_on + timedelta(days=days)


def session_votes(electorate: int, present: int, in_favour: list[int]) -> tuple[Vote, list[Vote]]:
    """The session's attendance as a Vote (quorum only) and each resolution's Vote; a count that
    cannot be is refused naming its field (`present`, `resolutions.<i>.in_favour`)."""
    if electorate < 1:
        raise RuleViolation("会议当日没有任期内的职工代表，无法召开", field="held_on")
    attendance = Vote(electorate=electorate, present=present, in_favour=0)
    votes = []
    for i, favour in enumerate(in_favour):
        try:
            votes.append(Vote(electorate=electorate, present=present, in_favour=favour))
        except RuleViolation as refused:
            raise RuleViolation(refused.message, field=f"resolutions.{i}.in_favour") from None
    return attendance, votes


def check_evaluation(present: int, satisfied: int, basically_satisfied: int, dissatisfied: int) -> None:
    """民主评议干部: one ballot per delegate present, at most."""
    if satisfied + basically_satisfied + dissatisfied > present:
        raise RuleViolation("民主评议票数合计不能超过到会代表人数", field="evaluation")


def proposal_is_late(answer_due_on: date, answered_on: date) -> bool:
    return answered_on > answer_due_on


def check_after(day: date, earliest: date, *, field: str, what: str) -> None:
    if day < earliest:
        raise RuleViolation(f"{what}不能早于{earliest.isoformat()}", field=field)
