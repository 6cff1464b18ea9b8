"""Reads of workers' congresses (职代会), 厂务公开 and mediation committees (issue 14 · congresses)."""
from __future__ import annotations

import uuid
from datetime import date

from membership.domain.rights import Rate
from unionops.db import Reader


async def rates(conn: Reader, org_id: uuid.UUID, year: int, as_of: date) -> list[Rate]:
    """The democratic-management measures of the subtree under `org_id` on `as_of` (the day the
    figures of `year` are for): congress, openness, mediation_committee."""
    return []
