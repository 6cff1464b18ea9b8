"""Funds (专项帮扶资金) as units hold them, free of I/O: what creating one says, the event of money
reaching a fund. The arithmetic of their ledger is `welfare.domain.money`."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from contracts.events import FundAllocated

UNKNOWN_UNIT = "组织不存在：尚未建立或尚未同步"
NOT_FOUND = "专项资金不存在或不在您的管辖范围内"


@dataclass(frozen=True)
class CreateFund:
    org_id: uuid.UUID
    name: str
    year: int
    parent_fund_id: uuid.UUID | None


def fund_allocated(*, fund_id: uuid.UUID, from_fund_id: uuid.UUID | None, org_id: uuid.UUID, org_path: list,
                   amount_fen: int, entry_id: uuid.UUID, by: str, on: date) -> FundAllocated:
    """Money reached a fund: from the budget (no source fund) or allocated from its parent fund."""
    return FundAllocated(fund_id=fund_id, from_fund_id=from_fund_id, org_id=org_id, org_path=org_path,
                         amount_fen=amount_fen, ledger_entry_id=entry_id, allocated_by=by, allocated_on=on)
