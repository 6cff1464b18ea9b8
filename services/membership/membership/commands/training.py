"""Training completed in competitions (TrainingCompleted: 结业, with its certificate) recorded in
the member file as `training_completed` entries — one INSERT for a batch of events."""
from __future__ import annotations

from unionops.consumer import Received
from unionops.unit_of_work import UnitOfWork

# The kinds of programme competitions runs (contracts.events.TrainingKind), in the file's words.
TRAINING_KIND_LABELS = {
    "bargaining_instructor": "集体协商指导员培训",
    "congress_delegate": "职代会代表培训",
    "union_officer": "工会干部培训",
    "job_skills": "就业和职工技能培训",
    "other": "其他培训",
}

# The entry names the member's union today (whose staff read the file); a member competitions
# knows but membership does not (never expected) is skipped rather than failing the batch.
_RECORD = """
INSERT INTO member_file_entries (member_id, kind, union_id, union_ids, detail, actor)
SELECT m.id, 'training_completed', m.union_id, ARRAY[m.union_id], t.detail, 'competitions.training'
FROM unnest($1::uuid[], $2::jsonb[]) WITH ORDINALITY AS t (member_id, detail, n)
JOIN members m ON m.id = t.member_id
ORDER BY t.n
"""


async def record_completions(uow: UnitOfWork, batch: list[Received]) -> None:
    details = [{
        "programme_id": str(r.event.programme_id), "programme": r.event.programme_name,
        "training_kind": r.event.kind, "label": TRAINING_KIND_LABELS.get(r.event.kind, r.event.kind),
        "certificate_no": r.event.certificate_no, "completed_on": r.event.completed_on.isoformat(),
        "sessions_attended": r.event.sessions_attended, "sessions": r.event.sessions,
    } for r in batch]
    await uow.conn.execute(_RECORD, [r.event.member_id for r in batch], details)
