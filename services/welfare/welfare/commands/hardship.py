"""Commands of hardship files (困难职工建档) and of the minimum living standards (低保).

One file per household: the household's people are entered by staff (welfare receives no ID
numbers from membership), encrypted field by field, with a keyed hash of each ID number; a unique
index over the hashes of open files makes "one person, one open file" hold under concurrency.
The events carry level and dates only — no health, income or family detail.

A member who left (MemberLeft → members.status 'left') has their open file closed with reason
`member_left` by the sweep (`sweep`, run by welfare.background every
HARDSHIP_SWEEP_INTERVAL_SECONDS): assistance is for members, and the file is kept 10 years like
any closed file. A retained member (会籍保留: retired, unemployed, employer closed) keeps an open
file. A file is not re-homed when its member transfers: like a case it stays with the union that
opened it (its path follows UnionMoved)."""
from __future__ import annotations

import uuid
from datetime import date

import asyncpg
from opentelemetry import trace

from contracts.events import HardshipFileClosed, HardshipFileOpened, HardshipFileReviewed
from unionops.auth import Principal
from unionops.pii import Vault, mask_resident_id
from unionops.problems import Problem, RuleViolation
from unionops.unit_of_work import UnitOfWork
from unionops.scope import row_in_scope
from welfare.domain import hardship as rules
from welfare.domain.hardship import Household
from welfare.queries import hardship as queries
from welfare.queries.members import known_member

SYSTEM_ACTOR = "welfare:hardship-sweep"


async def set_minimum_living_standard(uow: UnitOfWork, org_id: uuid.UUID, effective_from: date,
                                      monthly_fen: int, actor: Principal) -> dict:
    """A federation admin sets any unit's 低保; other staff only their own unit's (a district's
    staff for their district). Setting the same date again corrects it. A unit welfare does not
    know, or one outside the caller's subtree, is refused alike (404), nothing written."""
    conn = uow.conn
    actor.require("write")
    await queries.readable_unit(conn, org_id, actor, own_chain=True)  # above one's own unit: 403 below
    if actor.role != "federation_admin" and actor.org_id != org_id:
        raise Problem(403, "只有市总工会管理员或本级工会可设置低保标准", type_="/problems/out-of-scope")
    row = await conn.fetchrow(
        "INSERT INTO minimum_living_standards (org_id, effective_from, monthly_fen, set_by) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (org_id, effective_from) DO UPDATE SET monthly_fen = EXCLUDED.monthly_fen,"
        " set_by = EXCLUDED.set_by, set_at = now()"
        " RETURNING org_id, effective_from, monthly_fen, set_by, set_at",
        org_id, effective_from, monthly_fen, actor.subject)
    return dict(row)


async def _assess(conn: asyncpg.Connection, org_path: list[uuid.UUID], household: Household, today: date,
                  settings) -> rules.Assessment:
    standard = await queries.minimum_living_standard(conn, org_path, today)
    if standard is None:
        raise RuleViolation("所属区县尚未设置低保标准，无法认定困难等级", field="member_id",
                            kind="minimum-living-standard-missing")
    return rules.hardship_level(
        annual_income_fen=household.annual_income_fen, unavoidable_costs_fen=household.unavoidable_costs_fen,
        household_size=household.size, largest_event_cost_fen=household.largest_event_cost_fen,
        minimum_living_standard_fen=standard, thresholds=rules.thresholds(settings))


_CLASH = (
    "SELECT hm.id_number_hash, f.id, f.union_id, f.union_name, f.org_path FROM household_members hm"
    " JOIN hardship_files f ON f.id = hm.file_id"
    " WHERE hm.open_file AND hm.id_number_hash = ANY($1::text[]) AND hm.file_id IS DISTINCT FROM $2::uuid LIMIT 1"
)


def _id_hashes(vault: Vault, household: Household) -> list[str]:
    return [vault.lookup_hash("household_member_id_number", p.id_number) for p in household.people]


async def _duplicate_household(conn: asyncpg.Connection, clash, household: Household, hashes: list[str],
                               actor: Principal) -> Problem:
    """409 for a person already in another open file (一户一档), the person masked. Staff who cover
    that file learn its union and id; anyone else only that the person is in a file elsewhere and
    which office above both to ask — no union, no file id."""
    index = hashes.index(clash["id_number_hash"])
    masked = mask_resident_id(household.people[index].id_number)
    field = f"body.household.{index}.id_number"
    if actor.covers(clash["org_path"]):
        return Problem(409, f"一户一档：{masked} 已在{clash['union_name']}的困难档案中，不能重复建档",
                       type_="/problems/duplicate-household",
                       errors=[{"field": field, "message": f"{masked} 已在{clash['union_name']}的在档家庭中"}],
                       existing_union_id=str(clash["union_id"]), existing_union_name=clash["union_name"],
                       existing_file_id=str(clash["id"]))
    office = await queries.common_office(conn, actor, clash["org_path"])
    message = f"一户一档：{masked} 已在其他工会的困难档案中，不能重复建档；如有疑问请联系{office}"
    return Problem(409, message, type_="/problems/duplicate-household", errors=[{"field": field, "message": message}])


async def _check_one_file_per_household(conn: asyncpg.Connection, file_id: uuid.UUID | None, household: Household,
                                        vault: Vault, actor: Principal) -> None:
    hashes = _id_hashes(vault, household)
    clash = await conn.fetchrow(_CLASH, hashes, file_id)
    if clash is not None:
        raise await _duplicate_household(conn, clash, household, hashes, actor)


async def _write_household(conn: asyncpg.Connection, file_id: uuid.UUID, revision: int, household: Household,
                           vault: Vault, actor: Principal) -> None:
    """Insert one revision of the household as the open one. The unique index over open files'
    hashes settles a race between two files sharing a person: the loser gets the same 409."""
    hashes = _id_hashes(vault, household)

    def enc(field: str, value: str | None) -> bytes | None:
        return None if value is None else vault.encrypt(field, value)

    rows = [(file_id, revision, i, p.relation, hashes[i], True, vault.encrypt("household_member_name", p.name),
             vault.encrypt("household_member_id_number", p.id_number), enc("household_member_health", p.health_note),
             enc("household_member_disability", p.disability_note),
             enc("household_member_employment", p.employment_note),
             vault.encrypt("household_member_monthly_income", str(p.monthly_income_fen)))
            for i, p in enumerate(household.people)]
    try:
        async with conn.transaction():  # a savepoint, so the clash can still be read after a violation
            await conn.copy_records_to_table(
                "household_members", records=rows,
                columns=["file_id", "revision", "position", "relation", "id_number_hash", "open_file",
                         "name_enc", "id_number_enc", "health_enc", "disability_enc", "employment_enc",
                         "monthly_income_enc"])
    except asyncpg.UniqueViolationError:
        clash = await conn.fetchrow(_CLASH, hashes, file_id)
        if clash is None:
            raise
        raise await _duplicate_household(conn, clash, household, hashes, actor) from None


def _encrypted_amounts(vault: Vault, household: Household, assessment: rules.Assessment) -> tuple:
    return (vault.encrypt("hardship_annual_income", str(household.annual_income_fen)),
            vault.encrypt("hardship_unavoidable_costs", str(household.unavoidable_costs_fen)),
            vault.encrypt("hardship_largest_event_cost", str(household.largest_event_cost_fen)),
            vault.encrypt("hardship_per_capita_monthly", str(assessment.per_capita_monthly_fen)))


async def open_hardship_file(uow: UnitOfWork, *, member_id: uuid.UUID, file_kind: str, household: Household,
                             actor: Principal, vault: Vault, settings, today: date) -> dict:
    """Open a household's file (建档) for a member of the caller's subtree; HardshipFileOpened."""
    conn = uow.conn
    member = await known_member(conn, member_id)
    if member is not None and not actor.covers(member.org_path):
        member = None  # out of scope: refused exactly as an unknown member
    rules.check_can_open_file(member, file_kind, today=today, min_months=settings.migrant_worker_min_membership_months)
    rules.check_household(household)
    # One file per member: checked before the heavier household check, and by the unique index.
    existing = await queries.open_file_for_member(conn, member_id)
    if existing is not None:
        raise Problem(409, "该会员家庭已有在档的困难档案", type_="/problems/duplicate-household",
                      existing_union_id=str(existing["union_id"]), existing_file_id=str(existing["id"]))
    await _check_one_file_per_household(conn, None, household, vault, actor)
    assessment = await _assess(conn, member.org_path, household, today, settings)
    if assessment.level is None:
        raise rules.not_in_hardship(settings)

    file_id = uuid.uuid4()
    due = rules.review_due_on(today, settings.hardship_review_interval_months)
    try:
        async with conn.transaction():  # a savepoint: the unique violation becomes a clear 409
            await conn.execute(
                "INSERT INTO hardship_files (id, member_id, union_id, union_name, org_path, file_kind, level, status,"
                " opened_on, review_due_on, causes, household_size, minimum_living_standard_fen, annual_income_enc,"
                " unavoidable_costs_enc, largest_event_cost_enc, per_capita_monthly_enc, opened_by)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                file_id, member_id, member.union_id, member.union_name, member.org_path, file_kind,
                assessment.level, today, due, list(household.causes), household.size,
                assessment.minimum_living_standard_fen, *_encrypted_amounts(vault, household, assessment),
                actor.subject)
    except asyncpg.UniqueViolationError:
        raise Problem(409, "该会员家庭已有在档的困难档案", type_="/problems/duplicate-household") from None
    await _write_household(conn, file_id, 1, household, vault, actor)
    await conn.execute("INSERT INTO hardship_file_history (file_id, action, actor, detail) VALUES ($1, 'opened', $2, $3)",
                       file_id, actor.subject, {"level": assessment.level, "file_kind": file_kind})
    await uow.stage(HardshipFileOpened(
        file_id=file_id, member_id=member_id, union_id=member.union_id, org_path=member.org_path,
        file_kind=file_kind, level=assessment.level, opened_on=today, review_due_on=due))
    trace.get_current_span().set_attribute("hardship_file.id", str(file_id))
    return await queries.file_summary(conn, file_id, today)


async def _locked_open_file(conn: asyncpg.Connection, file_id: uuid.UUID, actor: Principal) -> asyncpg.Record:
    row = await row_in_scope(conn, actor, Problem(404, queries.FILE_NOT_FOUND),
                             "SELECT * FROM hardship_files WHERE id = $1 FOR UPDATE", file_id)
    if row["status"] != "open":
        raise RuleViolation("该档案已关闭", kind="file-closed", status=409)
    return row


async def review_hardship_file(uow: UnitOfWork, file_id: uuid.UUID, household: Household, *,
                               actor: Principal, vault: Vault, settings, today: date) -> dict:
    """The yearly re-verification (年度复核): the household as it is now, the level recomputed.
    Still in hardship: next review in a year, the overdue flag cleared. Out of hardship: closed."""
    conn = uow.conn
    actor.require("write")
    row = await _locked_open_file(conn, file_id, actor)
    rules.check_household(household)
    await _check_one_file_per_household(conn, file_id, household, vault, actor)
    assessment = await _assess(conn, row["org_path"], household, today, settings)
    still = assessment.level is not None
    level = assessment.level or row["level"]  # the event names the last level a closed file had
    due = rules.review_due_on(today, settings.hardship_review_interval_months) if still else None
    revision = row["household_revision"] + 1
    await conn.execute("UPDATE household_members SET open_file = false WHERE file_id = $1 AND open_file", file_id)
    await _write_household(conn, file_id, revision, household, vault, actor)
    await conn.execute(
        "UPDATE hardship_files SET level = $2, causes = $3, household_size = $4, minimum_living_standard_fen = $5,"
        " annual_income_enc = $6, unavoidable_costs_enc = $7, largest_event_cost_enc = $8,"
        " per_capita_monthly_enc = $9, household_revision = $10, last_reviewed_on = $11,"
        " review_due_on = COALESCE($12, review_due_on), review_overdue = false, updated_at = now() WHERE id = $1",
        file_id, level, list(household.causes), household.size, assessment.minimum_living_standard_fen,
        *_encrypted_amounts(vault, household, assessment), revision, today, due)
    await conn.execute("INSERT INTO hardship_file_history (file_id, action, actor, detail) VALUES ($1, 'reviewed', $2, $3)",
                       file_id, actor.subject, {"level": assessment.level, "still_in_hardship": still,
                                                "revision": revision})
    await uow.stage(HardshipFileReviewed(
        file_id=file_id, member_id=row["member_id"], org_path=row["org_path"], level=level,
        still_in_hardship=still, reviewed_on=today, review_due_on=due))
    if not still:
        await _close(uow, row, "out_of_hardship", None, actor.subject, vault, settings, today)
    return await queries.file_summary(conn, file_id, today)


async def close_hardship_file(uow: UnitOfWork, file_id: uuid.UUID, reason: str, note: str | None, *,
                              actor: Principal, vault: Vault, settings, today: date) -> dict:
    """Close a file for a reason other than the review (deceased, duplicate, member left …)."""
    conn = uow.conn
    actor.require("write")
    if reason not in rules.CLOSE_REASONS:
        raise RuleViolation(f"关闭原因须为 {'、'.join(rules.CLOSE_REASONS)} 之一", field="reason")
    row = await _locked_open_file(conn, file_id, actor)
    await _close(uow, row, reason, note, actor.subject, vault, settings, today)
    return await queries.file_summary(conn, file_id, today)


async def _close(uow: UnitOfWork, row, reason: str, note: str | None, actor: str, vault: Vault, settings,
                 today: date) -> None:
    conn = uow.conn
    keep_until = rules.retain_until(today, settings.hardship_retention_years)
    await conn.execute(
        "UPDATE hardship_files SET status = 'closed', closed_on = $2, retain_until = $3, close_reason = $4,"
        " close_note_enc = $5, closed_by = $6, review_overdue = false, updated_at = now() WHERE id = $1",
        row["id"], today, keep_until, reason, vault.encrypt("hardship_close_note", note) if note else None, actor)
    # The household's people may now be filed again (by another household, or this one later).
    await conn.execute("UPDATE household_members SET open_file = false WHERE file_id = $1 AND open_file", row["id"])
    await conn.execute("INSERT INTO hardship_file_history (file_id, action, actor, detail) VALUES ($1, 'closed', $2, $3)",
                       row["id"], actor, {"reason": reason})
    await uow.stage(HardshipFileClosed(file_id=row["id"], member_id=row["member_id"],
                                                 org_path=row["org_path"], reason=reason, closed_on=today,
                                                 retain_until=keep_until))


# ---- the yearly sweep ---------------------------------------------------------------------------

async def sweep(uow: UnitOfWork, today: date, vault: Vault, settings) -> tuple[int, int]:
    """Flag files whose re-verification is overdue (they stay open; campaigns skip them) and close
    the files of members who left (退会: the federation aids members; the file is kept 10 years).
    Returns (flagged, closed)."""
    conn = uow.conn
    flagged = await conn.fetch(
        "UPDATE hardship_files SET review_overdue = true, updated_at = now()"
        " WHERE status = 'open' AND NOT review_overdue AND review_due_on < $1 RETURNING id, review_due_on", today)
    if flagged:
        await conn.executemany(
            "INSERT INTO hardship_file_history (file_id, action, actor, detail) VALUES ($1, 'flagged_overdue', $2, $3)",
            [(r["id"], SYSTEM_ACTOR, {"review_due_on": r["review_due_on"].isoformat()}) for r in flagged])
    left = await conn.fetch(
        "SELECT f.* FROM hardship_files f JOIN members m ON m.member_id = f.member_id"
        " WHERE f.status = 'open' AND m.status = 'left' FOR UPDATE OF f")
    for row in left:
        await _close(uow, row, "member_left", None, SYSTEM_ACTOR, vault, settings, today)
    return len(flagged), len(left)
