"""Visits (走访慰问, "五必访"), free of I/O: the kinds of visit in the staff's words, and when a
visit's gift must name the fund it comes out of."""
from __future__ import annotations

import uuid

from unionops.problems import RuleViolation

VISIT_KINDS: dict[str, str] = {
    "sick_or_hospitalised": "生病住院",
    "bereaved": "直系亲属去世",
    "in_hardship": "生活困难",
    "family_change": "家庭发生重大变故",
    "major_event": "婚育等重大事项",
    "other": "其他",
}


def check_gift(gift_fen: int | None, fund_id: uuid.UUID | None) -> bool:
    """True when the visit carries a gift to book: then it names its fund (a gift is aid like any
    other, paid out of a fund); a fund without a gift is a mistake too."""
    if not gift_fen:
        if fund_id is not None:
            raise RuleViolation("未填写慰问金金额，不需要指定资金", field="fund_id", kind="fund-without-gift")
        return False
    if fund_id is None:
        raise RuleViolation("慰问金须指定从哪项专项资金支出（fund_id）", field="fund_id", kind="gift-without-fund")
    return True
