"""Who is told what about workers' congresses (pure rules of notify.domain.congresses)."""
import uuid
from datetime import date

from contracts.events import CongressProposalAnswered, CongressProposalOverdue, DelegatesElected
from notify.domain import congresses
from notify.domain.notices import ROLES
from notify.domain.preferences import MEMBER_NOTICE_KINDS
from notify.domain.templates import TEMPLATES

PATH = [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()]


def test_each_elected_delegate_gets_one_notice_of_the_election():
    members = [uuid.uuid4() for _ in range(3)]
    event = DelegatesElected(congress_id=uuid.uuid4(), org_path=PATH, congress_name="第三届职工代表大会",
                             member_ids=members, term_start=date(2026, 12, 1), term_end=date(2029, 11, 30),
                             elected_on=date(2026, 11, 20))
    notices = congresses.delegates_elected(event)
    assert [n.member_id for n in notices] == members
    assert {n.template for n in notices} == {"congress_delegate_elected"}
    assert notices[0].context["congress_name"] == "第三届职工代表大会" and notices[0].org_path == PATH


def test_the_proposing_delegate_is_told_the_answer():
    member = uuid.uuid4()
    notice = congresses.proposal_answered(CongressProposalAnswered(
        congress_id=uuid.uuid4(), proposal_id=uuid.uuid4(), member_id=member, org_path=PATH, congress_name="职代会",
        outcome="adopted", answered_on=date(2026, 3, 1), late=True))
    assert notice.member_id == member and notice.context["outcome_label"] == "立案并落实" and notice.context["late"]


def test_an_overdue_proposal_goes_to_the_rights_officers_upward_from_the_congress_union():
    notice = congresses.proposal_overdue(CongressProposalOverdue(
        congress_id=uuid.uuid4(), proposal_id=uuid.uuid4(), org_path=PATH, congress_name="职代会",
        answer_due_on=date(2026, 3, 1), detected_on=date(2026, 3, 2)))
    assert notice.role == congresses.RIGHTS_OFFICER in ROLES
    assert notice.search_path == PATH and notice.template == "congress_proposal_overdue"


def test_every_congress_notice_has_its_template_and_member_notices_their_kind():
    names = {s.name for s in TEMPLATES}
    assert {"congress_delegate_elected", "congress_proposal_answered", "congress_proposal_overdue"} <= names
    assert {"congress_delegate_elected", "congress_proposal_answered"} <= set(MEMBER_NOTICE_KINDS)
