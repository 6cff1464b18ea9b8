"""Visits (走访慰问, "五必访"), free of I/O: the kinds of visit in the staff's words."""
from __future__ import annotations

VISIT_KINDS: dict[str, str] = {
    "sick_or_hospitalised": "生病住院",
    "bereaved": "直系亲属去世",
    "in_hardship": "生活困难",
    "family_change": "家庭发生重大变故",
    "major_event": "婚育等重大事项",
    "other": "其他",
}
