"""Commands of 金秋助学: the student attached to a newly opened education case (a step of
welfare.commands.cases.open_case), giving back a student's place, and posting the public notice
(公示) of a unit's approved cases."""
from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from unionops.auth import Principal
from unionops.pii import Vault, mask_name
from unionops.problems import RuleViolation
from unionops.unit_of_work import UnitOfWork, refusing_duplicates
from welfare.domain import golden_autumn as rules
from welfare.domain.working_days import WorkingCalendar
from welfare.queries import golden_autumn as queries


async def record_student(conn: asyncpg.Connection, case_id: uuid.UUID, student: rules.Student, *, year: int,
                         tier_table: dict[str, int], vault: Vault) -> dict:
    """Attach the student to a newly opened education case. The unique index on (ID hash, year)
    among live applications is the rule "no second grant for a student in a year"."""
    rules.check_not_aided_by_government(student)
    amount = rules.tier_amount(student.school_level, tier_table)
    refusal = RuleViolation(f"该学生 {year} 年已获金秋助学资助或已在申请中，不重复资助", field="student.id_number",
                            status=409, kind="already-aided-this-year")
    async with refusing_duplicates(conn, refusal):
        await conn.execute(
            "INSERT INTO golden_autumn_students (case_id, grant_year, school_level, tier_amount_fen,"
            " student_name_enc, student_id_hash, student_id_enc) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            case_id, year, student.school_level, amount, vault.encrypt("student_name", student.name),
            vault.lookup_hash("id_number", student.id_number), vault.encrypt("student_id_number", student.id_number))
    return queries.student_view_of(student.name, student.id_number, student.school_level, amount, year)


async def release_student(conn: asyncpg.Connection, case_id: uuid.UUID) -> None:
    """A rejected or withdrawn application no longer holds the student's grant for the year."""
    await conn.execute("UPDATE golden_autumn_students SET live = false WHERE case_id = $1", case_id)


async def post_notice(uow: UnitOfWork, *, org_id: uuid.UUID, title: str, actor: Principal, today: date,
                      calendar: WorkingCalendar, working_days: int, vault: Vault) -> dict:
    """Post (公示) every approved, not yet posted education case of the unit's subtree. The
    list is masked when written: member and student names by `mask_name`, the school level and
    the amount — nothing else."""
    conn = uow.conn
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
    ends_on, payable_from = rules.notice_period(today, calendar, working_days)
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
    return await queries.public_notice(conn, notice_id)
