"""Training completed in competitions (TrainingCompleted: 结业, with its certificate) recorded in
the member file as `training_completed` entries — one INSERT for a batch of events."""
from __future__ import annotations

from unionops.consumer import Received
from unionops.unit_of_work import UnitOfWork

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
        "training_kind": r.event.kind, "label": r.event.kind_label,
        "certificate_no": r.event.certificate_no, "completed_on": r.event.completed_on.isoformat(),
        "sessions_attended": r.event.sessions_attended, "sessions": r.event.sessions,
    } for r in batch]
    await uow.conn.execute(_RECORD, [r.event.member_id for r in batch], details)
