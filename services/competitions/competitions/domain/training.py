"""Training (培训班) beside the skill contests: kinds the work plans name, the lifecycle
draft → open (enrolment) → running → finished, who may be enrolled, the completion rule
(attended at least N of the M sessions, optionally an assessment passed) and certificate numbers.
Pure rules, no I/O."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from unionops.problems import RuleViolation

# Kinds of programme the plans name, with the words their staff use.
TRAINING_KINDS: dict[str, str] = {
    "bargaining_instructor": "集体协商指导员培训",
    "congress_delegate": "职代会代表培训",
    "union_officer": "工会干部培训",
    "job_skills": "就业和职工技能培训",
    "other": "其他培训",
}

TRAINING_STATUSES: dict[str, str] = {"draft": "草稿", "open": "报名中", "running": "培训中", "finished": "已结业"}

# The only moves a programme makes; each is one step forward, taken by its organisers.
TRAINING_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"open"}),
    "open": frozenset({"running"}),
    "running": frozenset({"finished"}),
    "finished": frozenset(),
}

PROGRAMME_NOT_FOUND = "培训班不存在或不在您的管辖范围内"

# Why a member named in a bulk enrolment was not enrolled (the reason codes are the API's).
REFUSALS: dict[str, str] = {
    "not_found": "会员不存在或不在您的管辖范围内",
    "out_of_scope": "会员不属于主办单位及其下属工会",
    "not_active": "会员处于会籍保留状态，不能参加本培训",
    "not_unemployed": "本班只招收失业（会籍保留）会员",
    "already_enrolled": "会员已报名本培训班",
    "capacity": "培训班名额已满",
}

# Members' statuses as competitions keeps them from MemberStatusChanged (a row without one is
# active); `status_reason` is the reason of the latest change (`unemployed` for 失业).
UNEMPLOYED = "unemployed"


def check_transition(current: str, target: str) -> None:
    """draft → open → running → finished, one step at a time."""
    if target not in TRAINING_STATUSES:
        raise RuleViolation(f"培训班状态须为 {'、'.join(TRAINING_STATUSES)} 之一", field="status",
                            kind="unknown-status")
    if target not in TRAINING_TRANSITIONS[current]:
        raise RuleViolation(f"培训班处于“{TRAINING_STATUSES[current]}”，不能转为“{TRAINING_STATUSES[target]}”",
                            field="status", status=409, kind="illegal-transition")


def check_dates(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise RuleViolation("结业日期不能早于开班日期", field="ends_on", kind="training-dates")


def check_dates_not_past(ends_on: date, today: date) -> None:
    """A programme whose last day (Beijing) is before today lies wholly in the past: opening its
    enrolment would announce a course no one can attend (as a contest's registration window)."""
    if ends_on < today:
        raise RuleViolation(f"培训日期已过（{ends_on:%Y年%m月%d日}结业），不能开放报名", field="ends_on",
                            kind="training-dates-past")


@dataclass(frozen=True)
class CompletionRule:
    """结业条件: at least `min_sessions` of the programme's `sessions` attended, and the
    assessment (考核) passed when one is required."""

    sessions: int
    min_sessions: int
    assessment_required: bool = False

    def check(self) -> None:
        if self.sessions < 1:
            raise RuleViolation("课次须至少为 1", field="sessions")
        if not 1 <= self.min_sessions <= self.sessions:
            raise RuleViolation(f"结业所需出勤课次须在 1 至 {self.sessions} 之间", field="min_sessions",
                                kind="completion-rule")

    def completed(self, attended: int, assessment_passed: bool | None) -> bool:
        """The rule itself; the finishing statement in commands.training applies the same in SQL."""
        return attended >= self.min_sessions and (not self.assessment_required or assessment_passed is True)


def enrolment_refusal(*, known: bool, in_programme_subtree: bool, status: str, status_reason: str | None,
                      kind: str, unemployed_only: bool, already_enrolled: bool) -> str | None:
    """The first rule a member breaks for enrolment (a key of REFUSALS), or None. Capacity is
    counted after, over the members that pass (commands.training, in request order)."""
    if not known:
        return "not_found"
    if not in_programme_subtree:
        return "out_of_scope"
    unemployed = status == "retained" and status_reason == UNEMPLOYED
    if unemployed_only and not unemployed:
        return "not_unemployed"
    # 就业培训 is for members out of work, who are retained (会籍保留) while unemployed.
    if status != "active" and not (kind == "job_skills" and unemployed):
        return "not_active"
    if already_enrolled:
        return "already_enrolled"
    return None


def certificate_prefix(kind: str, year: int) -> str:
    """Certificate numbers read 培训证书 PX-<year>-<kind code>-<serial>; the serial is a database
    sequence, so numbers are unique across programmes and never reused."""
    codes = {"bargaining_instructor": "XS", "congress_delegate": "ZD", "union_officer": "GB",
             "job_skills": "JN", "other": "QT"}
    return f"PX-{year}-{codes[kind]}-"
