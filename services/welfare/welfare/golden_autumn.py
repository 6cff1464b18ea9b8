"""金秋助学 (education aid for the children of workers in hardship): the student of an education
case, tiered grants by school level, one grant per student and year, and the public notice (公示)
that must run its working days before anything is paid.

The flow is the case workflow's (welfare.cases): applied at the grassroots union (the case is
opened with its student), assessed there, re-checked by the district (`district_review`),
decided collectively (approval), posted publicly, then paid."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

from unionops.auth import Principal
from unionops.pii import Vault, mask_name, mask_resident_id
from unionops.problems import RuleViolation
from welfare.money import money
from welfare.working_days import WorkingCalendar

SCHOOL_LEVELS: dict[str, str] = {
    "primary": "小学",
    "junior_high": "初中",
    "senior_high": "普通高中",
    "vocational": "中等职业学校",
    "junior_college": "高职（大专）",
    "undergraduate": "本科",
    "postgraduate": "研究生",
}

# The grant per school level in fen, unless WELFARE_GOLDEN_AUTUMN_TIERS_FEN says otherwise. The
# highest stays within the 金秋助学 campaign's default per-payment cap (¥5,000).
DEFAULT_TIERS_FEN: dict[str, int] = {
    "primary": 100_000,
    "junior_high": 150_000,
    "senior_high": 200_000,
    "vocational": 200_000,
    "junior_college": 300_000,
    "undergraduate": 400_000,
    "postgraduate": 500_000,
}


# ---- rules (no I/O) ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Student:
    name: str
    id_number: str          # validated by the API (GB 11643-1999)
    school_level: str
    aided_by_government: bool = False


def tiers(overrides: dict[str, int] | None = None) -> dict[str, int]:
    merged = DEFAULT_TIERS_FEN | dict(overrides or {})
    unknown = set(merged) - set(SCHOOL_LEVELS)
    if unknown or any(type(v) is not int or v <= 0 for v in merged.values()):
        raise ValueError(f"金秋助学档次配置无效: {sorted(unknown) or merged}")
    return merged


def tier_amount(school_level: str, tier_table: dict[str, int]) -> int:
    if school_level not in tier_table:
        raise RuleViolation(f"学段须为 {'、'.join(SCHOOL_LEVELS.values())} 之一", field="student.school_level")
    return tier_table[school_level]


def check_not_aided_by_government(student: Student) -> None:
    """A student the government already aids (国家助学金等) is not aided twice."""
    if student.aided_by_government:
        raise RuleViolation("该学生已获政府资助，金秋助学不重复资助", field="student.aided_by_government",
                            kind="aided-by-government")


def check_assessed_amount(amount_fen: int | None, tier_fen: int) -> int:
    """The grant is the tier of the student's school level; an assessor cannot pick another."""
    if amount_fen is not None and amount_fen != tier_fen:
        raise RuleViolation(f"金秋助学按学段定额资助：本案应为 {money(tier_fen)['yuan']}", field="proposed_amount_fen",
                            kind="golden-autumn-tier")
    return tier_fen


def notice_period(posted_on: date, calendar: WorkingCalendar, working_days: int) -> tuple[date, date]:
    """(ends_on, payable_from): the notice runs for `working_days` full working days after the
    day it is posted (the posting day does not count: people must be able to read it for the
    whole period); payment is possible from the day after the last one."""
    ends_on = calendar.add(posted_on, working_days)
    return ends_on, ends_on + timedelta(days=1)


def check_notice_over(notice: tuple[date, date] | None, today: date) -> None:
    """(ends_on, payable_from) of the case's notice, or None when it was never posted."""
    if notice is None:
        raise RuleViolation("金秋助学须经公示期满后方可发放：该案件尚未公示", status=409, kind="public-notice")
    ends_on, payable_from = notice
    if today < payable_from:
        raise RuleViolation(f"金秋助学公示期至 {ends_on.isoformat()} 结束，{payable_from.isoformat()} 起方可发放",
                            status=409, kind="public-notice")


# ---- commands and reads (inside the caller's transaction) ----------------------------------------

async def record_student(conn: asyncpg.Connection, case_id: uuid.UUID, student: Student, *, year: int,
                         tier_table: dict[str, int], vault: Vault) -> dict:
    """Attach the student to a newly opened education case. The unique index on (ID hash, year)
    among live applications is the rule "no second grant for a student in a year"."""
    check_not_aided_by_government(student)
    amount = tier_amount(student.school_level, tier_table)
    try:
        async with conn.transaction():  # savepoint: the violation becomes a clear refusal
            await conn.execute(
                "INSERT INTO golden_autumn_students (case_id, grant_year, school_level, tier_amount_fen,"
                " student_name_enc, student_id_hash, student_id_enc) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                case_id, year, student.school_level, amount, vault.encrypt("student_name", student.name),
                vault.lookup_hash("id_number", student.id_number), vault.encrypt("student_id_number", student.id_number))
    except asyncpg.UniqueViolationError:
        raise RuleViolation(f"该学生 {year} 年已获金秋助学资助或已在申请中，不重复资助", field="student.id_number",
                            status=409, kind="already-aided-this-year") from None
    return student_view_of(student.name, student.id_number, student.school_level, amount, year)


def student_view_of(name: str, id_number: str, school_level: str, amount_fen: int, year: int) -> dict:
    return {"name": mask_name(name), "id_number": mask_resident_id(id_number), "school_level": school_level,
            "school_level_label": SCHOOL_LEVELS[school_level], "grant_fen": amount_fen, "grant_year": year}


async def student_of(conn: asyncpg.Connection, case_id: uuid.UUID, vault: Vault) -> dict | None:
    row = await conn.fetchrow("SELECT * FROM golden_autumn_students WHERE case_id = $1", case_id)
    if row is None:
        return None
    return student_view_of(vault.decrypt("student_name", row["student_name_enc"]),
                           vault.decrypt("student_id_number", row["student_id_enc"]), row["school_level"],
                           row["tier_amount_fen"], row["grant_year"])


async def tier_of_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> int | None:
    return await conn.fetchval("SELECT tier_amount_fen FROM golden_autumn_students WHERE case_id = $1", case_id)


async def release_student(conn: asyncpg.Connection, case_id: uuid.UUID) -> None:
    """A rejected or withdrawn application no longer holds the student's grant for the year."""
    await conn.execute("UPDATE golden_autumn_students SET live = false WHERE case_id = $1", case_id)


async def notice_of_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> tuple[date, date] | None:
    row = await conn.fetchrow(
        "SELECT n.ends_on, n.payable_from FROM golden_autumn_notice_entries e"
        " JOIN golden_autumn_notices n ON n.id = e.notice_id WHERE e.case_id = $1", case_id)
    return (row["ends_on"], row["payable_from"]) if row else None


async def post_notice(conn: asyncpg.Connection, *, org_id: uuid.UUID, title: str, actor: Principal, today: date,
                      calendar: WorkingCalendar, working_days: int, vault: Vault) -> dict:
    """Post (公示) every approved, not yet posted education case of the unit's subtree. The
    list is masked when written: member and student names by `mask_name`, the school level and
    the amount — nothing else."""
    rows = await conn.fetch(
        "SELECT c.id, c.org_path, c.approved_amount_fen, m.name AS member_name, s.school_level, s.student_name_enc"
        " FROM assistance_cases c JOIN members m ON m.member_id = c.member_id"
        " JOIN golden_autumn_students s ON s.case_id = c.id"
        " WHERE c.kind = 'education' AND c.status = 'approved' AND $1 = ANY(c.org_path)"
        "   AND NOT EXISTS (SELECT 1 FROM golden_autumn_notice_entries e WHERE e.case_id = c.id)"
        " ORDER BY c.approved_on, c.id FOR UPDATE OF c", org_id)
    # The unit's path, read off a case below it: staff post only for their own subtree, and a
    # unit outside it answers like one with nothing to post.
    path = list(rows[0]["org_path"]) if rows else []
    if not rows or not actor.covers(path[: path.index(org_id) + 1]):
        raise RuleViolation("该单位没有待公示的已审批金秋助学案件", field="org_id", kind="nothing-to-post")
    ends_on, payable_from = notice_period(today, calendar, working_days)
    notice_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO golden_autumn_notices (id, org_id, title, posted_on, ends_on, payable_from, posted_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)", notice_id, org_id, title, today, ends_on, payable_from, actor.subject)
    entries = [(notice_id, i + 1, r["id"], mask_name(r["member_name"]),
                mask_name(vault.decrypt("student_name", r["student_name_enc"])), r["school_level"],
                r["approved_amount_fen"]) for i, r in enumerate(rows)]
    await conn.executemany(
        "INSERT INTO golden_autumn_notice_entries (notice_id, position, case_id, member_name, student_name,"
        " school_level, amount_fen) VALUES ($1, $2, $3, $4, $5, $6, $7)", entries)
    await conn.executemany(
        "INSERT INTO case_history (case_id, status, actor, detail) VALUES ($1, 'approved', $2, $3)",
        [(r["id"], actor.subject, {"step": "public_notice", "notice_id": str(notice_id), "ends_on": ends_on.isoformat()})
         for r in rows])
    return await public_notice(conn, notice_id)


async def public_notice(conn: asyncpg.Connection, notice_id: uuid.UUID) -> dict | None:
    """The notice as the public sees it: masked names, school level, amount."""
    notice = await conn.fetchrow("SELECT * FROM golden_autumn_notices WHERE id = $1", notice_id)
    if notice is None:
        return None
    entries = await conn.fetch(
        "SELECT position, member_name, student_name, school_level, amount_fen FROM golden_autumn_notice_entries"
        " WHERE notice_id = $1 ORDER BY position", notice_id)
    return {
        "id": notice["id"], "org_id": notice["org_id"], "title": notice["title"], "posted_on": notice["posted_on"],
        "ends_on": notice["ends_on"], "payable_from": notice["payable_from"],
        "entries": [{"position": e["position"], "member_name": e["member_name"],
                     "student_name": e["student_name"], "school_level": e["school_level"],
                     "school_level_label": SCHOOL_LEVELS[e["school_level"]], "amount": money(e["amount_fen"])}
                    for e in entries],
        "total": money(sum(e["amount_fen"] for e in entries)),
    }
