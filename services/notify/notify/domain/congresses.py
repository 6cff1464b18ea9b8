"""Who is told what about workers' congresses (issue 14), no I/O: each elected
delegate of their election, the proposing delegate of the answer to their proposal, and the
rights officers (维权) of the nearest unit upward from the congress's union of a proposal
unanswered past its due date."""
from __future__ import annotations

from contracts.events import CongressProposalAnswered, CongressProposalOverdue, DelegatesElected
from notify.domain.notices import Notice, OfficerNotice

RIGHTS_OFFICER = "rights_officer"

CONGRESS_PROPOSAL_OUTCOME_LABELS = {"adopted": "立案并落实", "not_adopted": "不予立案（已说明理由）",
                                    "for_reference": "作为意见建议转有关部门参考"}


def proposal_ref(proposal_id) -> str:
    return str(proposal_id)[:8].upper()


def delegates_elected(event: DelegatesElected) -> list[Notice]:
    """One notice per elected member (one INSERT for them all: commands.deliveries.create_many)."""
    context = {"congress_name": event.congress_name, "elected_on": event.elected_on.isoformat(),
               "term_start": event.term_start.isoformat(), "term_end": event.term_end.isoformat()}
    return [Notice(member_id, "congress_delegate_elected", context, list(event.org_path))
            for member_id in event.member_ids]


def proposal_answered(event: CongressProposalAnswered) -> Notice:
    return Notice(event.member_id, "congress_proposal_answered",
                  {"proposal_ref": proposal_ref(event.proposal_id), "congress_name": event.congress_name,
                   "outcome_label": CONGRESS_PROPOSAL_OUTCOME_LABELS.get(event.outcome, event.outcome),
                   "answered_on": event.answered_on.isoformat(), "late": event.late},
                  list(event.org_path))


def proposal_overdue(event: CongressProposalOverdue) -> OfficerNotice:
    return OfficerNotice(
        RIGHTS_OFFICER, list(event.org_path), "congress_proposal_overdue",
        {"proposal_ref": proposal_ref(event.proposal_id), "congress_name": event.congress_name,
         "answer_due_on": event.answer_due_on.isoformat(), "detected_on": event.detected_on.isoformat()},
        list(event.org_path))
