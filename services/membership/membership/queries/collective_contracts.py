"""Reads of collective contracts (集体合同) and their negotiations (issue 14 · contracts)."""
from __future__ import annotations

import uuid
from datetime import date

from membership.domain.rights import Rate
from unionops.db import Reader


async def rates(conn: Reader, org_id: uuid.UUID, year: int, as_of: date) -> list[Rate]:
    """The contract measures of the subtree under `org_id` on `as_of` (the day the figures of
    `year` are for): collective_contract, wage_bargaining, women_special_contract, members_covered."""
    return []
