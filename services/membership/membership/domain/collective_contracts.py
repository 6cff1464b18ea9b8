"""Rules of collective contracts (集体合同) and their negotiation, free of I/O (issue 14):
the 20-day written answer to an offer (集体合同规定 2004, Art. 32), the term of one to three years
(Art. 38) and the six months before its end in which either side may ask to renew, and the
15-day review by the labour administration after which an unopposed contract is in force
(劳动合同法 Art. 54). The workers' vote on the draft is `domain.votes.Vote` (Art. 36)."""
from __future__ import annotations

from datetime import date, timedelta

from unionops.inputs import MAX_YEAR, MIN_YEAR
from unionops.problems import RuleViolation

KINDS: dict[str, str] = {
    "comprehensive": "综合性集体合同", "wage": "工资专项集体合同",
    "women": "女职工特殊权益保护专项集体合同", "safety": "劳动安全卫生专项集体合同",
}
COVERAGES: dict[str, str] = {"enterprise": "企业集体合同", "regional": "区域性集体合同", "industry": "行业性集体合同"}
SIDES: dict[str, str] = {"union": "工会（职工方）", "employer": "企业（用人单位方）"}

ANSWER_DAYS = 20          # Art. 32: a written answer within 20 days of receiving the offer
REMINDER_DAYS = 5         # the union is reminded this many days before its answer falls due
REVIEW_DAYS = 15          # 劳动合同法 Art. 54: in force unless the administration objects within 15 days
RENEWAL_MONTHS = 6        # Art. 40 practice: renewal is asked for within the six months before the end
MIN_TERM_YEARS, MAX_TERM_YEARS = 1, 3


def check_union_side(coverage: str, level: str, kind: str) -> None:
    """Who negotiates for the workers: an enterprise's grassroots union; for a regional contract a
    street/town or district union or a joint grassroots union (区域工会联合会); for an industry-wide
    one an industry union of any level, or a street/district union."""
    if coverage == "enterprise":
        allowed = level == "grassroots"
    else:
        allowed = level in ("street", "district") or (
            level == "grassroots" and kind == ("joint_grassroots_union" if coverage == "regional" else "industry_union"))
    if not allowed:
        raise RuleViolation("企业集体合同由基层工会协商；区域性、行业性集体合同由街道（乡镇）、区县、区域或行业工会协商",
                            field="org_id")


def check_employers_covered(coverage: str, employers: int) -> None:
    if coverage == "enterprise" and employers != 1:
        raise RuleViolation("企业集体合同须且只能覆盖一家企业", field="employer_ids")
    if coverage != "enterprise" and employers < 2:
        raise RuleViolation("区域性、行业性集体合同须覆盖两家以上企业", field="employer_ids")


def answer_due_on(received_on: date) -> date:
    """The last day of the written answer: 20 days from the day the offer was received."""
    return received_on + timedelta(days=ANSWER_DAYS)


def check_offer_dates(sent_on: date, received_on: date) -> None:
    if received_on < sent_on:
        raise RuleViolation("要约收到日期不能早于发出日期", field="received_on")


def check_answer(answer: str, reasons: str | None, answered_on: date, received_on: date) -> None:
    """A decline is written with its reasons (Art. 32: 不同意的应说明理由); an answer comes after receipt."""
    if answered_on < received_on:
        raise RuleViolation("答复日期不能早于要约收到日期", field="answered_on")
    if answer == "declined" and not (reasons or "").strip():
        raise RuleViolation("拒绝协商须书面说明理由", field="reasons")


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def check_term(starts_on: date, ends_on: date) -> None:
    """A term of one to three years, the first and last day included: 2026-01-01 to 2026-12-31 is
    one year, to 2028-12-31 three."""
    if not MIN_YEAR <= starts_on.year <= MAX_YEAR:
        raise RuleViolation(f"期限起始日须在{MIN_YEAR}至{MAX_YEAR}年之间", field="starts_on")
    shortest = add_years(starts_on, MIN_TERM_YEARS) - timedelta(days=1)
    longest = add_years(starts_on, MAX_TERM_YEARS) - timedelta(days=1)
    if not shortest <= ends_on <= longest:
        raise RuleViolation(f"集体合同期限须为{MIN_TERM_YEARS}至{MAX_TERM_YEARS}年"
                            f"（自{starts_on.isoformat()}起，终止日期应在{shortest.isoformat()}至{longest.isoformat()}之间）",
                            field="ends_on")


def in_force_from(received_on: date) -> date:
    """Day 15 after the labour administration received the text: in force then unless it objected."""
    return received_on + timedelta(days=REVIEW_DAYS)


def check_objection(objected_on: date, received_on: date) -> None:
    """An objection counts only within the 15 days of review (before the day the contract is in force)."""
    if objected_on < received_on:
        raise RuleViolation("审查意见日期不能早于劳动行政部门收到日期", field="objected_on")
    if objected_on >= in_force_from(received_on):
        raise RuleViolation("劳动行政部门收到文本已满15日，合同已生效，不能再登记异议", field="objected_on",
                            status=409, kind="review-period-over")


def renewal_window_opens(ends_on: date) -> date:
    """The first day of the six months before the end, in which either side may ask to renew."""
    month = ends_on.month - RENEWAL_MONTHS
    year = ends_on.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for day in (ends_on.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# Where a contract stands on a day: derived when read (queries.collective_contracts.STATUS_SQL), never stored.
STATUSES = ("negotiating", "adopted", "signed", "under_review", "objected", "awaiting_start", "in_force", "expired")
STATUS_LABELS: dict[str, str] = {
    "negotiating": "协商中", "adopted": "草案已通过", "signed": "已签订", "under_review": "劳动行政部门审查中",
    "objected": "劳动行政部门有异议", "awaiting_start": "已生效，期限未开始", "in_force": "生效中", "expired": "已到期",
}
