"""Funds (专项帮扶资金) as units hold them, free of I/O: what creating one says. The arithmetic of
their ledger is `welfare.domain.money`."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

UNKNOWN_UNIT = "组织不存在：尚未建立或尚未同步"
NOT_FOUND = "专项资金不存在或不在您的管辖范围内"


@dataclass(frozen=True)
class CreateFund:
    org_id: uuid.UUID
    name: str
    year: int
    parent_fund_id: uuid.UUID | None
