"""(Over 400 lines: the import's SQL — temporary table, set-based writes — stays beside the one flow using it.)

Bulk import of members (批量导入会员): the command behind `POST /imports/members` (api.imports)
and `python -m membership.cli` (make import). It opens its own unit of work on the caller's
connection (`UnitOfWork.within`), since a dry run and a rejected sheet answer after rolling back.

Rules are those of single admission (commands.members.admit_member): the resident ID number (area,
birth date, check digit), the phone, the limits of `domain.members.MemberFields`, the union exists,
is grassroots and lies in the caller's subtree, one person one membership. On top of that: a person
may appear only once in a sheet, and a person who is already an active member of the same union is
"unchanged" (re-importing a sheet changes nothing). The rules of one row are in domain.imports,
the reading of the file in adapters.spreadsheets.

How it runs, with bounded memory whatever the sheet's size:
1. The file is read once for its SHA-256 (an identical file imported before returns the summary
   of that import) and, for CSV, its encoding.
2. Rows are streamed in chunks; each chunk is validated in Python (off the event loop), personal
   data encrypted, and COPYed into a temporary table.
3. Duplicates within the sheet and existing memberships are found set-based in SQL.
4. Any error: the unit of work is rolled back and the report returned — nothing is half-imported.
   Otherwise members and member-file entries are written with one INSERT … SELECT each, the events
   staged set-based (`uow.stage_select`: each member's MemberJoined, then the MemberContactChanged
   of those with contact details, in sheet order), in the same single transaction, and the import
   is recorded in `imports`.

An import says what it brings (`intake`, domain.imports.INTAKES): new joins, each welcomed as a
single admission is, or the existing register (存量会员), whose members joined long ago: their
MemberJoined says `origin: "register"` (every projection still takes the member; notify sends no
welcome, only the one "会员信息已上线" notice when the office asks for it: `online_notice`)."""
from __future__ import annotations

import asyncio
import json
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

import asyncpg
from opentelemetry import trace

from contracts.events import MemberContactChanged, MemberJoined
from membership.adapters.spreadsheets import Sheet, find_header, sheet_problem, take
from membership.commands import contacts
from membership.domain.contacts import member_contact_changed
from membership.domain.imports import (
    DEFAULT_INTAKE,
    MAX_REPORTED_ERRORS,
    Header,
    ImportRejected,
    ImportReport,
    Membership,
    RowError,
    Unit,
    check_intake,
    judge_membership,
    judge_unit,
    member_origin,
    validate_row,
)
from membership.domain.organisations import check_admitting_unit
from membership.queries import common_office, load_unit
from unionops import idempotency
from unionops.auth import Principal
from unionops.clock import local_today
from unionops.pii import DataKey, Vault, mask_phone
from unionops.problems import Problem
from unionops.unit_of_work import UnitOfWork

CHUNK_ROWS = 5000


# ---- unions and existing memberships -------------------------------------------------------------------------------------


def _name_variants(name: str) -> set[str]:
    nfkc = unicodedata.normalize("NFKC", name).strip()
    return {name, nfkc, nfkc.replace("(", "（").replace(")", "）")}


class UnitCache:
    """The unions a sheet names, looked up once per distinct cell value."""

    def __init__(self, actor: Principal) -> None:
        self.actor = actor
        self.known: dict[str, Unit | str] = {}

    async def resolve(self, conn: asyncpg.Connection, refs: set[str]) -> None:
        refs = {r for r in refs if r not in self.known}
        if not refs:
            return
        ids, names = [], set()
        for r in refs:
            try:
                ids.append(uuid.UUID(r))
            except ValueError:
                names |= _name_variants(r)
        rows = await conn.fetch("SELECT id, name, level, path, status FROM org_units WHERE id = ANY($1::uuid[])"
                                " OR name = ANY($2::text[])", ids, list(names))
        units = [Unit(r["id"], r["name"], r["level"], list(r["path"]), r["status"]) for r in rows]
        for r in refs:
            self.known[r] = judge_unit(r, units, self.actor)


async def load_default_union(conn: asyncpg.Connection, union_id: uuid.UUID, actor: Principal) -> Unit:
    """The union given for the whole import, checked as single admission checks its union_id."""
    row = await load_unit(conn, union_id, field="union_id", actor=actor)
    check_admitting_unit(row["level"])
    return Unit(row["id"], row["name"], row["level"], list(row["path"]), row["status"])


async def _memberships(conn: asyncpg.Connection, hashes: list[str], actor: Principal) -> dict[str, Membership]:
    """Existing members among a chunk's persons, locked like single admission locks them."""
    rows = await conn.fetch(
        "SELECT m.id, m.id_number_hash, m.status, m.union_id, m.left_on, o.name AS union_name, o.path FROM members m"
        " JOIN org_units o ON o.id = m.union_id WHERE m.id_number_hash = ANY($1::text[]) FOR UPDATE OF m", hashes)
    offices: dict[uuid.UUID, str] = {}  # per union: one look-up for all its members in the chunk
    found = {}
    for r in rows:
        office = None
        if r["status"] != "left" and not actor.covers(r["path"]):
            if r["union_id"] not in offices:
                offices[r["union_id"]] = await common_office(conn, actor, r["path"])
            office = offices[r["union_id"]]
        found[r["id_number_hash"]] = Membership(r["id"], r["status"], r["union_id"], r["union_name"], r["left_on"],
                                                office)
    return found


# ---- the temporary table and the set-based writes -------------------------------------------------

_TEMP_TABLE = """
CREATE TEMP TABLE import_rows (
    row_no        integer PRIMARY KEY,
    id_hash       text NOT NULL,
    id_masked     text NOT NULL,
    outcome       text NOT NULL,   -- new | rejoin | unchanged | invalid
    member_id     uuid,
    union_id      uuid,
    name          text,
    gender        text,
    birth_date    date,
    id_enc        bytea,
    phone_enc     bytea,
    phone_masked  text,
    email_enc     bytea,
    email_masked  text,
    dek_id        text,            -- the member's data key (kept, or new), wrapped
    dek_wrapped   bytea,
    employer      text,
    occupation    text,
    education     text,
    is_migrant    boolean,
    joined_on     date,
    gap_days      integer,         -- re-joining: days since the member left
    file_detail   text,            -- JSON: text because COPY is binary and the pool's json codec is text
    contact_key   text,            -- MemberContactChanged as domain.contacts seals it (NULL: no event)
    email_sealed  text,
    phone_sealed  text,
    duplicate_of  integer
) ON COMMIT DROP
"""
_COLUMNS = ("row_no", "id_hash", "id_masked", "outcome", "member_id", "union_id", "name", "gender", "birth_date",
            "id_enc", "phone_enc", "phone_masked", "email_enc", "email_masked", "dek_id", "dek_wrapped", "employer",
            "occupation", "education", "is_migrant", "joined_on", "gap_days", "file_detail", "contact_key",
            "email_sealed", "phone_sealed")

# Once every row is loaded: later copies of a person in the same sheet.
_MARK_DUPLICATES = """
UPDATE import_rows r SET duplicate_of = d.first_row
FROM (SELECT row_no, min(row_no) OVER (PARTITION BY id_hash) AS first_row FROM import_rows) d
WHERE r.row_no = d.row_no AND d.row_no <> d.first_row
"""
_INSERT_MEMBERS = """
INSERT INTO members (id, union_id, name, gender, birth_date, id_number_enc, id_number_hash, id_number_masked,
                     phone_enc, phone_masked, email_enc, email_masked, employer, occupation, education,
                     is_migrant_worker, joined_on, created_by)
SELECT member_id, union_id, name, gender, birth_date, id_enc, id_hash, id_masked, phone_enc, phone_masked, email_enc,
       email_masked, employer, occupation, education, is_migrant, joined_on, $1
FROM import_rows WHERE outcome = 'new' ORDER BY row_no
"""
# Re-joining after having left: the same member record, as single admission does it.
_REJOIN_MEMBERS = """
UPDATE members m SET union_id = r.union_id, name = r.name, phone_enc = r.phone_enc, phone_masked = r.phone_masked,
    email_enc = r.email_enc, email_masked = r.email_masked, employer = r.employer, employer_credit_code = NULL,
    occupation = coalesce(r.occupation, m.occupation), education = coalesce(r.education, m.education),
    is_migrant_worker = r.is_migrant, joined_on = r.joined_on,
    status = 'active', status_reason = NULL, status_changed_on = r.joined_on, left_on = NULL, updated_at = now()
FROM import_rows r WHERE r.outcome = 'rejoin' AND m.id = r.member_id
"""
_INSERT_FILE_ENTRIES = """
INSERT INTO member_file_entries (member_id, kind, union_id, union_ids, detail, actor)
SELECT member_id, CASE outcome WHEN 'rejoin' THEN 'rejoined' ELSE 'joined' END, union_id, ARRAY[union_id],
       file_detail::jsonb || jsonb_build_object('source', 'import', 'import_id', $2::text, 'row', row_no,
                                                'intake', $3::text), $1
FROM import_rows WHERE outcome IN ('new', 'rejoin') ORDER BY row_no
"""
# The events, set-based: the columns are the events' fields (checked against the models by
# unionops.outbox); `_row` keeps sheet order. Each member's MemberJoined is staged before its
# MemberContactChanged (which goes to its own, restricted topic).
_MEMBERS_JOINED = """
SELECT r.member_id, r.union_id, o.name AS union_name, o.path AS org_path, r.name, r.gender,
       extract(year FROM r.birth_date)::int AS birth_year, r.is_migrant AS is_migrant_worker, r.joined_on,
       r.gap_days AS rejoined_after_days, $1::text AS origin, $2::bool AS online_notice, r.row_no AS _row
FROM import_rows r JOIN org_units o ON o.id = r.union_id WHERE r.outcome IN ('new', 'rejoin')
"""
_CONTACTS_CHANGED = """
SELECT member_id, name, contact_key AS data_key, dek_id AS data_key_id, email_sealed, phone_sealed, row_no AS _row
FROM import_rows WHERE outcome IN ('new', 'rejoin') AND contact_key IS NOT NULL
"""

Progress = Callable[[str, int, int | None], None]


@dataclass
class Outcome:
    status_code: int          # 201 imported; 200 dry run, or this very file was imported before
    body: dict[str, Any]
    replayed: bool = False    # the stored answer of an earlier request with the same Idempotency-Key


@dataclass(frozen=True)
class IdempotencyClaim:
    """The request's Idempotency-Key, claimed in the import's unit of work (unionops.idempotency)."""

    scope: str
    key: str
    payload: Any


class _RolledBack(Exception):
    """Ends the unit of work with nothing written: a dry run, or a sheet with errors."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.result)
        self.report = report


async def import_members(
    conn: asyncpg.Connection,
    sheet: Sheet,
    actor: Principal,
    vault: Vault,
    *,
    default_union_id: uuid.UUID | None = None,
    dry_run: bool = False,
    intake: str = DEFAULT_INTAKE,
    online_notice: bool = False,
    idempotency_key: IdempotencyClaim | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    max_errors: int = MAX_REPORTED_ERRORS,
    today: date | None = None,
) -> Outcome:
    """Import a sheet all or nothing, in one unit of work on `conn`.

    Raises ImportRejected (after recording the rejected attempt) when any row is invalid,
    SheetRejected when the file or its header is unusable, RuleViolation/Problem when the
    default union cannot be used."""
    today = today or local_today()
    check_intake(intake, online_notice)
    report = ImportReport(uuid.uuid4(), sheet.file_name, sheet.sha256, sheet.format, None, dry_run=dry_run,
                          intake=intake, online_notice=online_notice)
    span = trace.get_current_span()
    span.set_attribute("import.id", str(report.import_id))
    try:
        async with UnitOfWork.within(conn) as uow:
            outcome = await _import(uow, sheet, actor, vault, report, default_union_id, idempotency_key, progress,
                                    chunk_rows, max_errors, today)
    except _RolledBack:
        if report.result == "dry_run":
            return Outcome(200, report.summary())
        if not dry_run:
            async with UnitOfWork.within(conn) as uow:
                await _record(uow, report, actor, default_union_id)
        raise ImportRejected(report) from None
    except asyncpg.UniqueViolationError:
        # Someone admitted one of these persons while the import ran: nothing was written.
        raise Problem(409, "导入期间有相同人员被另行录入，未导入任何数据；请重新导入以获得最新的校验报告",
                      type_="/problems/import-conflict") from None
    if outcome.status_code == 201:
        if progress:
            progress("写入", report.imported, report.imported)
        span.set_attribute("import.imported", report.imported)
    return outcome


async def _import(uow: UnitOfWork, sheet: Sheet, actor: Principal, vault: Vault, report: ImportReport,
                  default_union_id: uuid.UUID | None, claim: IdempotencyClaim | None, progress: Progress | None,
                  chunk_rows: int, max_errors: int, today: date) -> Outcome:
    conn = uow.conn
    if claim is not None:
        replay = await idempotency.claim(conn, claim.scope, claim.key, claim.payload)
        if replay is not None:
            return Outcome(replay.status_code, replay.body, replayed=True)
    # One import of a given file at a time; a file imported before (same bytes, same default
    # union, same subtree) is answered with the summary of that import and changes nothing.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('membership.import'), hashtext($1))", sheet.sha256)
    if not report.dry_run:
        earlier = await conn.fetchval(
            "SELECT summary FROM imports WHERE file_sha256 = $1 AND default_union_id IS NOT DISTINCT FROM $2"
            " AND actor_org = $3 AND status = 'imported'", sheet.sha256, default_union_id, actor.org_id)
        if earlier is not None:
            await _complete(conn, claim, 200, earlier)
            return Outcome(200, earlier)
    default_unit = await load_default_union(conn, default_union_id, actor) if default_union_id else None
    await conn.execute(_TEMP_TABLE)
    await _load(conn, sheet, actor, vault, report, default_unit, progress, chunk_rows, max_errors, today)
    await _check_duplicates(conn, report, max_errors)
    if report.error_count:
        report.result = "rejected"
        raise _RolledBack(report)
    if report.dry_run:
        report.result = "dry_run"
        raise _RolledBack(report)
    if progress:
        progress("写入", 0, report.imported)
    await _write(uow, report, actor)
    body = report.summary()
    await _record(uow, report, actor, default_union_id, body)
    await _complete(conn, claim, 201, body)
    return Outcome(201, body)


async def _complete(conn: asyncpg.Connection, claim: IdempotencyClaim | None, status_code: int, body: Any) -> None:
    if claim is not None:
        await idempotency.complete(conn, claim.scope, claim.key, status_code, body)


async def _load(conn, sheet: Sheet, actor: Principal, vault: Vault, report: ImportReport, default_unit: Unit | None,
                progress: Progress | None, chunk_rows: int, max_errors: int, today: date) -> None:
    """Stream the sheet in chunks: validate (off the event loop), look up unions and existing
    memberships (one query each per chunk), COPY into the temporary table."""
    rows = sheet.rows()
    header = await asyncio.to_thread(find_header, rows)
    report.sheet = sheet.sheet_name
    report.ignored_columns = header.ignored
    report.id_label = header.label("id_number")
    if "union" not in header.columns and default_unit is None:
        raise sheet_problem("缺少「所属工会」列：请在表中填写，或在导入时指定默认工会", kind="bad-header", errors=[
            {"row": header.row, "field": "union", "column": "所属工会", "message": "缺少列「所属工会」且未指定默认工会"}])
    estimated = sheet.estimated_rows()
    total = max(estimated - header.row, 0) if estimated else None
    units = UnitCache(actor)
    while True:
        chunk = await asyncio.to_thread(take, rows, header, chunk_rows)
        if not chunk:
            break
        validated = await asyncio.to_thread(_validate_chunk, chunk, header, vault, today, default_unit is not None)
        candidates = [c for _, c, _, _ in validated if c is not None]
        await units.resolve(conn, {ref for _, _, _, ref in validated if ref})
        existing = await _memberships(conn, [c.id_hash for c in candidates], actor)
        keys = await contacts.live_keys(conn, vault.contact_keys, [m.member_id for m in existing.values()])
        records = await asyncio.to_thread(_records, validated, header, units, existing, default_unit, vault, report,
                                          max_errors, keys, today)
        if records:
            await conn.copy_records_to_table("import_rows", records=records, columns=_COLUMNS)
        report.rows += len(chunk)
        if progress:
            progress("校验", report.rows, max(total or 0, report.rows) or None)
    if report.rows == 0:
        raise sheet_problem("表格中没有数据行", kind="empty-sheet")


def _validate_chunk(chunk, header: Header, vault: Vault, today: date, has_default: bool):
    return [(row_no, *validate_row(row_no, raw, header, vault, today=today, has_default_union=has_default))
            for row_no, raw in chunk]


def _records(validated, header: Header, units: UnitCache, existing: dict[str, Membership], default_unit: Unit | None,
             vault: Vault, report: ImportReport, max_errors: int, keys: dict[uuid.UUID, DataKey],
             today: date) -> list[tuple]:
    """Rows for the temporary table, with what admitting each would do. Every row with a valid ID
    number is loaded, valid or not, so that duplicates within the sheet are reported too."""
    records = []
    nothing = (None,) * (len(_COLUMNS) - 6)
    for row_no, candidate, errors, union_ref in validated:
        unit: Unit | None = default_unit
        if union_ref:
            judged = units.known[union_ref]
            if isinstance(judged, str):
                errors.append(RowError(row_no, "union", header.label("union"), judged))
                unit = None
            else:
                unit = judged
        outcome, gap = "invalid", None
        if candidate is not None and unit is not None:
            # A row whose other fields failed still joins on its own day: the import's, never the clock's.
            joined_on = candidate.values.get("joined_on", today)
            judged_membership = judge_membership(existing.get(candidate.id_hash), unit.id, candidate.id_masked,
                                                 joined_on)
            if isinstance(judged_membership, RowError):
                errors.append(RowError(candidate.row, judged_membership.field,
                                       header.label(judged_membership.field), judged_membership.message))
            else:
                outcome, gap = judged_membership
        for e in errors:
            report.add_error(e, max_errors)
        if candidate is None:
            continue
        if errors or not candidate.values or outcome == "invalid":
            records.append((candidate.row, candidate.id_hash, candidate.id_masked, "invalid", None,
                            unit.id if unit else None) + nothing)
            continue
        if outcome == "unchanged":
            records.append((candidate.row, candidate.id_hash, candidate.id_masked, "unchanged",
                            existing[candidate.id_hash].member_id, unit.id) + nothing)
            continue
        v = candidate.values
        previous = existing.get(candidate.id_hash)
        member_id = previous.member_id if previous else uuid.uuid4()
        if outcome == "rejoin":
            detail = {"union_name": unit.name, "joined_on": v["joined_on"].isoformat(),
                      "left_on": previous.left_on.isoformat(), "gap_days": gap,
                      "previous_union_id": str(previous.union_id), "previous_union_name": previous.union_name}
        else:
            detail = {"union_name": unit.name, "joined_on": v["joined_on"].isoformat()}
        phone = v["phone"]
        # As single admission: contact details when there are some; always on re-joining.
        dek = keys.get(member_id) or DataKey.generate(str(member_id))
        contact = member_contact_changed(vault.contact_keys, dek, member_id, v["name"], v["email"], phone) \
            if (phone or v["email"] or outcome == "rejoin") else None
        records.append((
            candidate.row, candidate.id_hash, candidate.id_masked, outcome, member_id, unit.id, v["name"],
            candidate.gender, candidate.birth_date, vault.encrypt("id_number", candidate.id_number),
            vault.encrypt("phone", phone) if phone else None, mask_phone(phone) if phone else None,
            *contacts.email_columns(vault, v["email"]), contact.data_key_id if contact else None,
            vault.contact_keys.wrap(dek) if contact else None,
            v["employer"], v["occupation"], v["education"], v["is_migrant_worker"], v["joined_on"], gap,
            json.dumps(detail, ensure_ascii=False), contact.data_key if contact else None,
            contact.email_sealed if contact else None, contact.phone_sealed if contact else None,
        ))
    return records


async def _check_duplicates(conn, report: ImportReport, max_errors: int) -> None:
    """A person may appear once in a sheet; counts of what would be imported."""
    await conn.execute("ANALYZE import_rows")
    await conn.execute(_MARK_DUPLICATES)
    shown = await conn.fetch("SELECT row_no, duplicate_of, id_masked FROM import_rows WHERE duplicate_of IS NOT NULL"
                             " ORDER BY row_no LIMIT $1", max_errors)
    counts = dict(await conn.fetch(
        "SELECT CASE WHEN duplicate_of IS NOT NULL THEN 'duplicate' ELSE outcome END, count(*) FROM import_rows"
        " GROUP BY 1"))
    label = report.id_label
    for r in shown:
        report.add_error(RowError(r["row_no"], "id_number", label,
                                  f"与第{r['duplicate_of']}行的身份证号（{r['id_masked']}）重复，同一人在表中只能出现一次"),
                         max_errors)
    for _ in range(counts.get("duplicate", 0) - len(shown)):  # counted, not listed
        report.error_count += 1
        report.errors_by_field["id_number"] += 1
    report.rejoined = counts.get("rejoin", 0)
    report.imported = counts.get("new", 0) + report.rejoined
    report.unchanged = counts.get("unchanged", 0)


async def _write(uow: UnitOfWork, report: ImportReport, actor: Principal) -> None:
    conn = uow.conn
    await conn.execute(_INSERT_MEMBERS, actor.subject)
    await conn.execute(_REJOIN_MEMBERS)
    # The member file says whether the entry is a join now or a register brought online (statistics).
    await conn.execute(_INSERT_FILE_ENTRIES, actor.subject, str(report.import_id), report.intake)
    await conn.execute(contacts.STORE_KEYS.format(
        select="SELECT member_id, dek_id, dek_wrapped FROM import_rows"
               " WHERE outcome IN ('new', 'rejoin') AND dek_wrapped IS NOT NULL ORDER BY row_no"))
    await uow.stage_select(MemberJoined, _MEMBERS_JOINED, member_origin(report.intake), report.online_notice,
                           order_by=["_row"])
    await uow.stage_select(MemberContactChanged, _CONTACTS_CHANGED, order_by=["_row"])


async def _record(uow: UnitOfWork, report: ImportReport, actor: Principal, default_union_id,
                  summary: dict | None = None) -> None:
    """Who imported which file when, with the counts (rejected attempts too)."""
    await uow.conn.execute(
        "INSERT INTO imports (id, actor, actor_org, file_name, file_sha256, format, default_union_id, status, rows,"
        " imported, unchanged, errors, summary) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
        report.import_id, actor.subject, actor.org_id, report.file_name, report.file_sha256, report.format,
        default_union_id, report.result, report.rows, report.imported if report.result == "imported" else 0,
        report.unchanged, report.error_count, summary or report.summary(),
    )
