"""Hardship files (困难职工建档): commands, the yearly sweep, and what each caller may read.

One file per household: the household's people are entered by staff (welfare receives no ID
numbers from membership), encrypted field by field, with a keyed hash of each ID number; a unique
index over the hashes of open files makes "one person, one open file" hold under concurrency.
Each command runs in the caller's transaction and stages its events in the outbox there; the
events carry level and dates only — no health, income or family detail.

Field-level rule of what a caller reads (`file_view`):
- staff, federation admins and service accounts (write permission) within the file's subtree:
  everything, ID numbers masked;
- auditors (read only) within the subtree: levels, causes, amounts and the household's
  relations, masked names and masked ID numbers — no health, disability or employment notes;
- the member, with a member token, their own file: as the auditor, plus names and their own
  notes (relation `self`); other people's notes stay hidden. Nobody ever gets an unmasked ID.

A member who left (MemberLeft → members.status 'left') has their open file closed with reason
`member_left` by the sweep (`run_sweeps`, every HARDSHIP_SWEEP_INTERVAL_SECONDS): assistance is
for members, and the file is kept 10 years like any closed file. A retained member (会籍保留:
retired, unemployed, employer closed) keeps an open file. A file is not re-homed when its member
transfers: like a case it stays with the union that opened it (its path follows UnionMoved).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg
from opentelemetry import trace

from contracts.events import HardshipFileClosed, HardshipFileOpened, HardshipFileReviewed
from unionops import outbox, periodic
from unionops.auth import ROLES, Principal
from unionops.clock import local_today
from unionops.pii import Vault, mask_name, mask_resident_id
from unionops.projections import common_ancestor
from unionops.problems import Problem, RuleViolation
from welfare import hardship_rules as rules

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "welfare:hardship-sweep"


@dataclass(frozen=True)
class HouseholdPerson:
    relation: str           # self, spouse, child, parent, sibling, grandparent, grandchild, other
    name: str
    id_number: str          # validated, normalised resident ID number
    monthly_income_fen: int
    health_note: str | None = None
    disability_note: str | None = None
    employment_note: str | None = None


@dataclass(frozen=True)
class Household:
    """What staff enter when opening or re-verifying a file."""

    people: tuple[HouseholdPerson, ...]
    causes: tuple[str, ...]
    annual_income_fen: int
    unavoidable_costs_fen: int
    largest_event_cost_fen: int = 0

    @property
    def size(self) -> int:
        return len(self.people)


def thresholds(settings) -> rules.Thresholds:
    return rules.Thresholds(settings.hardship_deep_percent_of_minimum, settings.hardship_relative_percent_of_minimum,
                            settings.hardship_accident_percent_of_income)


# ---- reads other parts of welfare rely on -------------------------------------------------------

async def open_file_for_member(conn: asyncpg.Connection, member_id: uuid.UUID) -> asyncpg.Record | None:
    """The member's open hardship file (先建档、后帮扶), or None. Columns: those of
    `hardship_files` listed in migration 003 as stable (id … retain_until)."""
    return await conn.fetchrow(
        "SELECT id, member_id, union_id, org_path, file_kind, level, status, opened_on, review_due_on,"
        " review_overdue, closed_on, retain_until FROM hardship_files WHERE member_id = $1 AND status = 'open'",
        member_id)


async def minimum_living_standard(conn: asyncpg.Connection, org_path: list[uuid.UUID], on: date) -> int | None:
    """The 低保 in force on `on` for a unit: that of the nearest unit on its path that has one."""
    return await conn.fetchval(
        "SELECT monthly_fen FROM minimum_living_standards WHERE org_id = ANY($1::uuid[]) AND effective_from <= $2"
        " ORDER BY array_position($1::uuid[], org_id) DESC, effective_from DESC LIMIT 1",
        org_path, on)


# ---- commands -----------------------------------------------------------------------------------

UNKNOWN_UNIT = "组织不存在或不在您的管辖范围内"


async def readable_unit(conn: asyncpg.Connection, org_id: uuid.UUID, actor: Principal, *, own_chain: bool) -> list:
    """The unit's path, if the caller covers it — or, with `own_chain`, if it lies on the caller's
    own path (the district's 低保 applies to its streets' staff too); else 404 as for no unit."""
    path = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", org_id)
    if path is not None and actor.role != "member":
        if actor.covers(path):
            return list(path)
        if own_chain:
            own = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", actor.org_id)
            if own is not None and org_id in own:
                return list(path)
    raise Problem(404, UNKNOWN_UNIT, type_="/problems/not-found")


async def set_minimum_living_standard(conn: asyncpg.Connection, org_id: uuid.UUID, effective_from: date,
                                      monthly_fen: int, actor: Principal) -> dict:
    """A federation admin sets any unit's 低保; other staff only their own unit's (a district's
    staff for their district). Setting the same date again corrects it. A unit welfare does not
    know, or one outside the caller's subtree, is refused alike (404), nothing written."""
    actor.require("write")
    await readable_unit(conn, org_id, actor, own_chain=True)  # above one's own unit: 403 below
    if actor.role != "federation_admin" and actor.org_id != org_id:
        raise Problem(403, "只有市总工会管理员或本级工会可设置低保标准", type_="/problems/out-of-scope")
    row = await conn.fetchrow(
        "INSERT INTO minimum_living_standards (org_id, effective_from, monthly_fen, set_by) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (org_id, effective_from) DO UPDATE SET monthly_fen = EXCLUDED.monthly_fen,"
        " set_by = EXCLUDED.set_by, set_at = now()"
        " RETURNING org_id, effective_from, monthly_fen, set_by, set_at",
        org_id, effective_from, monthly_fen, actor.subject)
    return dict(row)


async def _load_member(conn: asyncpg.Connection, member_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT member_id, union_id, union_name, org_path, name, is_migrant_worker, joined_on, status"
        " FROM members WHERE member_id = $1", member_id)


def _check_household(household: Household) -> None:
    if not household.people:
        raise RuleViolation("家庭成员不能为空", field="household")
    if sum(1 for p in household.people if p.relation == "self") != 1:
        raise RuleViolation("家庭成员中须有且仅有一位本人（relation = self）", field="household")
    seen: set[str] = set()
    for i, person in enumerate(household.people):
        if person.id_number in seen:
            raise RuleViolation("同一人在家庭成员中出现两次", field=f"household.{i}.id_number")
        seen.add(person.id_number)
    if not household.causes:
        raise RuleViolation("须至少选择一项致困原因", field="causes")


async def _assess(conn: asyncpg.Connection, org_path: list[uuid.UUID], household: Household, today: date,
                  settings) -> rules.Assessment:
    standard = await minimum_living_standard(conn, org_path, today)
    if standard is None:
        raise RuleViolation("所属区县尚未设置低保标准，无法认定困难等级", field="member_id",
                            kind="minimum-living-standard-missing")
    return rules.hardship_level(
        annual_income_fen=household.annual_income_fen, unavoidable_costs_fen=household.unavoidable_costs_fen,
        household_size=household.size, largest_event_cost_fen=household.largest_event_cost_fen,
        minimum_living_standard_fen=standard, thresholds=thresholds(settings))


def _not_in_hardship(settings) -> RuleViolation:
    return RuleViolation(rules.NOT_IN_HARDSHIP.format(relative=settings.hardship_relative_percent_of_minimum,
                                                      accident=settings.hardship_accident_percent_of_income),
                         field="annual_income_fen", kind="not-in-hardship")


_CLASH = (
    "SELECT hm.id_number_hash, f.id, f.union_id, f.union_name, f.org_path FROM household_members hm"
    " JOIN hardship_files f ON f.id = hm.file_id"
    " WHERE hm.open_file AND hm.id_number_hash = ANY($1::text[]) AND hm.file_id IS DISTINCT FROM $2::uuid LIMIT 1"
)


def _id_hashes(vault: Vault, household: Household) -> list[str]:
    return [vault.lookup_hash("household_member_id_number", p.id_number) for p in household.people]


async def common_office(conn: asyncpg.Connection, actor: Principal, path) -> str:
    """The office above both the caller's unit and `path` (one of the caller's own ancestors)."""
    own = await conn.fetchval("SELECT org_path FROM org_units WHERE org_id = $1", actor.org_id)
    common = common_ancestor(own, path)
    name = await conn.fetchval("SELECT name FROM org_units WHERE org_id = $1", common) if common else None
    return name or "上级工会"


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
    office = await common_office(conn, actor, clash["org_path"])
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


async def open_hardship_file(conn: asyncpg.Connection, *, member_id: uuid.UUID, file_kind: str, household: Household,
                             actor: Principal, vault: Vault, settings, today: date) -> dict:
    """Open a household's file (建档) for a member of the caller's subtree; HardshipFileOpened."""
    member = await _load_member(conn, member_id)
    if member is None or not actor.covers(member["org_path"]):  # out of scope: exactly as unknown
        raise RuleViolation("会员不存在：尚未入会或尚未同步", field="member_id", kind="unknown-member")
    if member["status"] == "left":
        raise RuleViolation("该会员已退会，不能建档", field="member_id", kind="member-left")
    if file_kind not in rules.FILE_KINDS:
        raise RuleViolation("档案类型须为 worker 或 model_worker", field="file_kind")
    if member["is_migrant_worker"] and not rules.migrant_worker_qualifies(
            member["joined_on"], today, settings.migrant_worker_min_membership_months):
        raise RuleViolation(f"农民工会员入会满{settings.migrant_worker_min_membership_months}个月后方可建档",
                            field="member_id", kind="migrant-worker-waiting-period")
    _check_household(household)
    # One file per member: checked before the heavier household check, and by the unique index.
    existing = await open_file_for_member(conn, member_id)
    if existing is not None:
        raise Problem(409, "该会员家庭已有在档的困难档案", type_="/problems/duplicate-household",
                      existing_union_id=str(existing["union_id"]), existing_file_id=str(existing["id"]))
    await _check_one_file_per_household(conn, None, household, vault, actor)
    assessment = await _assess(conn, member["org_path"], household, today, settings)
    if assessment.level is None:
        raise _not_in_hardship(settings)

    file_id = uuid.uuid4()
    due = rules.review_due_on(today, settings.hardship_review_interval_months)
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO hardship_files (id, member_id, union_id, union_name, org_path, file_kind, level, status,"
                " opened_on, review_due_on, causes, household_size, minimum_living_standard_fen, annual_income_enc,"
                " unavoidable_costs_enc, largest_event_cost_enc, per_capita_monthly_enc, opened_by)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                file_id, member_id, member["union_id"], member["union_name"], member["org_path"], file_kind,
                assessment.level, today, due, list(household.causes), household.size,
                assessment.minimum_living_standard_fen, *_encrypted_amounts(vault, household, assessment),
                actor.subject)
    except asyncpg.UniqueViolationError:
        raise Problem(409, "该会员家庭已有在档的困难档案", type_="/problems/duplicate-household") from None
    await _write_household(conn, file_id, 1, household, vault, actor)
    await conn.execute("INSERT INTO hardship_file_history (file_id, action, actor, detail) VALUES ($1, 'opened', $2, $3)",
                       file_id, actor.subject, {"level": assessment.level, "file_kind": file_kind})
    await outbox.record(conn, HardshipFileOpened(
        file_id=file_id, member_id=member_id, union_id=member["union_id"], org_path=member["org_path"],
        file_kind=file_kind, level=assessment.level, opened_on=today, review_due_on=due))
    trace.get_current_span().set_attribute("hardship_file.id", str(file_id))
    return await file_summary(conn, file_id)


async def _locked_open_file(conn: asyncpg.Connection, file_id: uuid.UUID, actor: Principal) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM hardship_files WHERE id = $1 FOR UPDATE", file_id)
    if row is None or not actor.covers(row["org_path"]):
        raise Problem(404, "困难档案不存在或不在您的管辖范围内")
    if row["status"] != "open":
        raise RuleViolation("该档案已关闭", kind="file-closed", status=409)
    return row


async def review_hardship_file(conn: asyncpg.Connection, file_id: uuid.UUID, household: Household, *,
                               actor: Principal, vault: Vault, settings, today: date) -> dict:
    """The yearly re-verification (年度复核): the household as it is now, the level recomputed.
    Still in hardship: next review in a year, the overdue flag cleared. Out of hardship: closed."""
    actor.require("write")
    row = await _locked_open_file(conn, file_id, actor)
    _check_household(household)
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
    await outbox.record(conn, HardshipFileReviewed(
        file_id=file_id, member_id=row["member_id"], org_path=row["org_path"], level=level,
        still_in_hardship=still, reviewed_on=today, review_due_on=due))
    if not still:
        await _close(conn, row, "out_of_hardship", None, actor.subject, vault, settings, today)
    return await file_summary(conn, file_id)


async def close_hardship_file(conn: asyncpg.Connection, file_id: uuid.UUID, reason: str, note: str | None, *,
                              actor: Principal, vault: Vault, settings, today: date) -> dict:
    """Close a file for a reason other than the review (deceased, duplicate, member left …)."""
    actor.require("write")
    if reason not in rules.CLOSE_REASONS:
        raise RuleViolation(f"关闭原因须为 {'、'.join(rules.CLOSE_REASONS)} 之一", field="reason")
    row = await _locked_open_file(conn, file_id, actor)
    await _close(conn, row, reason, note, actor.subject, vault, settings, today)
    return await file_summary(conn, file_id)


async def _close(conn: asyncpg.Connection, row, reason: str, note: str | None, actor: str, vault: Vault, settings,
                 today: date) -> None:
    keep_until = rules.retain_until(today, settings.hardship_retention_years)
    await conn.execute(
        "UPDATE hardship_files SET status = 'closed', closed_on = $2, retain_until = $3, close_reason = $4,"
        " close_note_enc = $5, closed_by = $6, review_overdue = false, updated_at = now() WHERE id = $1",
        row["id"], today, keep_until, reason, vault.encrypt("hardship_close_note", note) if note else None, actor)
    # The household's people may now be filed again (by another household, or this one later).
    await conn.execute("UPDATE household_members SET open_file = false WHERE file_id = $1 AND open_file", row["id"])
    await conn.execute("INSERT INTO hardship_file_history (file_id, action, actor, detail) VALUES ($1, 'closed', $2, $3)",
                       row["id"], actor, {"reason": reason})
    await outbox.record(conn, HardshipFileClosed(file_id=row["id"], member_id=row["member_id"],
                                                 org_path=row["org_path"], reason=reason, closed_on=today,
                                                 retain_until=keep_until))


# ---- the yearly sweep ---------------------------------------------------------------------------

async def sweep(conn: asyncpg.Connection, today: date, vault: Vault, settings) -> tuple[int, int]:
    """Flag files whose re-verification is overdue (they stay open; campaigns skip them) and close
    the files of members who left (退会: the federation aids members; the file is kept 10 years).
    Returns (flagged, closed)."""
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
        await _close(conn, row, "member_left", None, SYSTEM_ACTOR, vault, settings, today)
    return len(flagged), len(left)


async def run_sweeps(runtime) -> None:
    """Background task: the sweep every HARDSHIP_SWEEP_INTERVAL_SECONDS, one replica at a time."""
    settings = runtime.settings

    async def round_() -> None:
        async with runtime.pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('welfare.hardship-sweep'))"):
                flagged, closed = await sweep(conn, local_today(), runtime.vault, settings)
                if flagged or closed:
                    log.info("hardship sweep", extra={"flagged": flagged, "closed": closed})
    await periodic.every(settings.hardship_sweep_interval_seconds, round_, "hardship sweep")


# ---- what callers read --------------------------------------------------------------------------

_SUMMARY = (
    "SELECT f.id, f.member_id, m.name AS member_name, f.union_id, f.union_name, f.org_path, f.file_kind, f.level,"
    " f.status, f.causes, f.household_size, f.opened_on, f.review_due_on, f.review_overdue, f.last_reviewed_on,"
    " f.closed_on, f.close_reason, f.retain_until FROM hardship_files f JOIN members m ON m.member_id = f.member_id"
)


def _summary(row) -> dict:
    out = {k: row[k] for k in row.keys() if k != "org_path"}
    out["level_label"] = rules.LEVELS[row["level"]]
    out["file_kind_label"] = rules.FILE_KINDS[row["file_kind"]]
    return out


async def file_summary(conn: asyncpg.Connection, file_id: uuid.UUID) -> dict:
    """No income, health or family detail: also what an Idempotency-Key keeps for replays."""
    return _summary(await conn.fetchrow(_SUMMARY + " WHERE f.id = $1", file_id))


async def list_files(conn: asyncpg.Connection, actor: Principal, *, status: str | None, level: str | None,
                     member_id: uuid.UUID | None, due_by: date | None, limit: int, offset: int) -> list[dict]:
    rows = await conn.fetch(
        _SUMMARY + " WHERE $1 = ANY(f.org_path) AND ($2::text IS NULL OR f.status = $2)"
        " AND ($3::text IS NULL OR f.level = $3) AND ($4::uuid IS NULL OR f.member_id = $4)"
        " AND ($5::date IS NULL OR (f.status = 'open' AND f.review_due_on <= $5))"
        " ORDER BY CASE WHEN $5::date IS NULL THEN NULL ELSE f.review_due_on END, f.opened_at DESC, f.id"
        " LIMIT $6 OFFSET $7",
        actor.org_id, status, level, member_id, due_by, limit, offset)
    return [_summary(r) for r in rows]


async def file_view(conn: asyncpg.Connection, row, actor: Principal, vault: Vault) -> dict:
    """The file as `actor` may read it (the field-level rule in this module's docstring)."""
    own = actor.is_member(row["member_id"])
    full = not own and "write" in ROLES.get(actor.role, ())
    detail = await conn.fetchrow(
        "SELECT annual_income_enc, unavoidable_costs_enc, largest_event_cost_enc, per_capita_monthly_enc,"
        " minimum_living_standard_fen, close_note_enc, household_revision FROM hardship_files WHERE id = $1",
        row["id"])
    out = _summary(row) | {
        "annual_income_fen": int(vault.decrypt("hardship_annual_income", detail["annual_income_enc"])),
        "unavoidable_costs_fen": int(vault.decrypt("hardship_unavoidable_costs", detail["unavoidable_costs_enc"])),
        "largest_event_cost_fen": int(vault.decrypt("hardship_largest_event_cost", detail["largest_event_cost_enc"])),
        "per_capita_monthly_fen": int(vault.decrypt("hardship_per_capita_monthly", detail["per_capita_monthly_enc"])),
        "minimum_living_standard_fen": detail["minimum_living_standard_fen"],
        "close_note": (vault.decrypt("hardship_close_note", detail["close_note_enc"])
                       if full and detail["close_note_enc"] is not None else None),
    }
    people = await conn.fetch(
        "SELECT * FROM household_members WHERE file_id = $1 AND revision = $2 ORDER BY position",
        row["id"], detail["household_revision"])

    def note(field: str, blob, relation: str) -> str | None:
        if blob is None or not (full or (own and relation == "self")):
            return None
        return vault.decrypt(field, blob)

    household = []
    for p in people:
        name = vault.decrypt("household_member_name", p["name_enc"])
        household.append({
            "relation": p["relation"],
            "name": name if (full or own) else mask_name(name),
            "id_number_masked": mask_resident_id(vault.decrypt("household_member_id_number", p["id_number_enc"])),
            "monthly_income_fen": int(vault.decrypt("household_member_monthly_income", p["monthly_income_enc"])),
            "health_note": note("household_member_health", p["health_enc"], p["relation"]),
            "disability_note": note("household_member_disability", p["disability_enc"], p["relation"]),
            "employment_note": note("household_member_employment", p["employment_enc"], p["relation"]),
        })
    out["household"] = household
    out["notes_visible"] = "all" if full else ("own" if own else "none")
    return out


async def readable_file(conn: asyncpg.Connection, file_id: uuid.UUID, actor: Principal):
    """The file's summary row if `actor` may read it (its staff, or the member themselves), else 404."""
    row = await conn.fetchrow(_SUMMARY + " WHERE f.id = $1", file_id)
    if row is None or not (actor.covers(row["org_path"]) or actor.is_member(row["member_id"])):
        raise Problem(404, "困难档案不存在或不在您的管辖范围内")
    return row


async def members_latest_file(conn: asyncpg.Connection, member_id: uuid.UUID):
    """The member's open file, else the most recently closed one."""
    return await conn.fetchrow(_SUMMARY + " WHERE f.member_id = $1 ORDER BY (f.status = 'open') DESC,"
                               " f.opened_at DESC LIMIT 1", member_id)
