"""Who is told of training (competitions.training.v1): each member enrolled, with the dates and
the place; each member who completed, with the certificate number. The programme's name is
quoted as the organiser gave it."""
from __future__ import annotations

from contracts.events import TrainingCompleted, TrainingEnrolled
from notify.domain.notices import Notice

def enrolled_notices(event: TrainingEnrolled) -> list[Notice]:
    """One notice per member of the enrolment (a bulk enrolment is one event)."""
    context = {"programme_name": event.programme_name,
               "kind_label": event.kind_label,
               "starts_on": event.starts_on.isoformat(), "ends_on": event.ends_on.isoformat(),
               "place": event.place}
    return [Notice(member_id, "training_enrolled", context, list(event.org_path)) for member_id in event.member_ids]


def completed_notice(event: TrainingCompleted) -> Notice:
    return Notice(event.member_id, "training_completed",
                  {"programme_name": event.programme_name,
                   "kind_label": event.kind_label,
                   "certificate_no": event.certificate_no, "completed_on": event.completed_on.isoformat(),
                   "sessions_attended": event.sessions_attended, "sessions": event.sessions},
                  list(event.org_path))
