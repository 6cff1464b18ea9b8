"""Commands on members (会员): real-name admission and re-joining, profile changes, status changes
(active → retained → left), erasure of personal data. Each runs in the caller's unit of work and
stages its events there; every change leaves an entry in the member file."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

import asyncpg
from opentelemetry import trace

from contracts.events import MemberLeft, MemberProfileChanged
from membership.commands.contacts import contact_events, email_columns, erase_contact_data
from membership.commands.member_file import add_file_entry
from membership.domain.members import (
    CONTACT_FIELDS,
    HONOURS,
    already_a_member_message,
    check_joined_on,
    check_profile_editable,
    check_readmission,
    check_status_change,
    elsewhere_message,
    honour_changes,
    member_joined,
    member_status_changed,
    profile_changes,
    rejoin_gap_days,
)
from membership.domain.organisations import check_admitting_unit, normalise_credit_code
from membership.queries import common_office, load_member, load_unit, member_view
from unionops.auth import Principal
from unionops.backdating import backdating, check_dated
from unionops.clock import local_today
from unionops.pii import InvalidResidentId, Vault, mask_email, mask_phone, normalise_phone, parse_resident_id
from unionops.problems import Problem, RuleViolation
from unionops.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class AdmitMember:
    union_id: uuid.UUID
    name: str
    id_number: str
    phone: str | None
    email: str | None
    employer: str | None
    is_migrant_worker: bool
    joined_on: date
    # The employer's unified social credit code, optional: the statistics read the employer's
    # ownership (公有/非公) from it when the employer is registered.
    employer_credit_code: str | None = None


@dataclass(frozen=True)
class ChangeStatus:
    member_id: uuid.UUID
    status: str
    reason: str
    effective_on: date


# ---- admission and re-joining -----------------------------------------------------------------------

async def admit_member(uow: UnitOfWork, cmd: AdmitMember, actor: Principal, vault: Vault, *,
                       today: date | None = None) -> dict:
    """Real-name admission (入会): one person, one membership, in a grassroots union. A person who
    has left is admitted again on the same member record, and the file shows the gap. The join
    date is checked by `domain.members.check_joined_on`; a back-dated one is noted in the file entry."""
    conn = uow.conn
    today = today or local_today()
    try:
        rid = parse_resident_id(cmd.id_number, today=today)
    except InvalidResidentId as exc:
        raise RuleViolation(str(exc), field="id_number") from None
    check_joined_on(cmd.joined_on, rid.birth_date, today)
    late = backdating(cmd.joined_on, today, actor.subject)
    phone = _phone(cmd.phone)
    if cmd.employer_credit_code:
        cmd = replace(cmd, employer_credit_code=normalise_credit_code(cmd.employer_credit_code,
                                                                      field="employer_credit_code"))
    unit = await load_unit(conn, cmd.union_id, field="union_id", actor=actor)
    check_admitting_unit(unit["level"])

    id_hash = vault.lookup_hash("id_number", rid.number)
    existing = await conn.fetchrow(
        "SELECT m.id, m.status, m.left_on, m.union_id, o.name AS union_name, o.path FROM members m"
        " JOIN org_units o ON o.id = m.union_id WHERE m.id_number_hash = $1 FOR UPDATE OF m", id_hash)
    if existing is not None:
        await _refuse_second_membership(conn, existing, rid.masked, actor)
        return await _rejoin(uow, existing, cmd, unit, rid, phone, actor, vault, late)

    member_id = uuid.uuid4()
    try:
        async with conn.transaction():  # a savepoint: the duplicate check below must still run
            await conn.execute(
                "INSERT INTO members (id, union_id, name, gender, birth_date, id_number_enc, id_number_hash,"
                " id_number_masked, phone_enc, phone_masked, email_enc, email_masked, employer, is_migrant_worker,"
                " joined_on, created_by, employer_credit_code)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)",
                member_id, unit["id"], cmd.name, rid.gender, rid.birth_date, vault.encrypt("id_number", rid.number),
                id_hash, rid.masked, vault.encrypt("phone", phone) if phone else None,
                mask_phone(phone) if phone else None, *email_columns(vault, cmd.email), cmd.employer, cmd.is_migrant_worker, cmd.joined_on,
                actor.subject, cmd.employer_credit_code,
            )
    except asyncpg.UniqueViolationError:  # admitted concurrently by someone else
        existing = await conn.fetchrow(
            "SELECT m.id, m.status, o.name AS union_name, o.path FROM members m JOIN org_units o ON o.id = m.union_id"
            " WHERE m.id_number_hash = $1", id_hash)
        await _refuse_second_membership(conn, existing, rid.masked, actor)
        raise
    await add_file_entry(conn, member_id, "joined", unit["id"], {"union_name": unit["name"],
                                                                  "joined_on": cmd.joined_on.isoformat(), **late},
                         actor.subject)
    events = [member_joined(
        member_id=member_id, union_id=unit["id"], union_name=unit["name"], org_path=unit["path"], name=cmd.name,
        gender=rid.gender, birth_date=rid.birth_date, is_migrant_worker=cmd.is_migrant_worker,
        joined_on=cmd.joined_on,
    )]
    if phone or cmd.email:
        events += await contact_events(conn, vault.contact_keys, [(member_id, cmd.name, cmd.email, phone)])
    await uow.stage(*events)
    trace.get_current_span().set_attribute("member.id", str(member_id))
    return member_view(await load_member(conn, member_id), rejoined_after_days=None)


async def _refuse_second_membership(conn: asyncpg.Connection, existing, masked_id: str, actor: Principal) -> None:
    try:
        check_readmission(existing["status"])
    except RuleViolation as exc:
        extra = {}
        if actor.covers(existing["path"]):
            # In the caller's own subtree: the union and the member id (to transfer her) may be told.
            message = already_a_member_message(masked_id, existing["union_name"], existing["status"])
            extra["member_id"] = str(existing["id"])
        else:
            message = elsewhere_message(masked_id, await common_office(conn, actor, existing["path"]))
        raise Problem(409, message, type_=f"/problems/{exc.kind}",
                      errors=[{"field": "body.id_number", "message": message}], **extra) from None


async def _rejoin(uow: UnitOfWork, existing, cmd: AdmitMember, unit, rid, phone, actor: Principal, vault: Vault,
                  late: dict) -> dict:
    conn = uow.conn
    gap = rejoin_gap_days(existing["left_on"], cmd.joined_on)
    member_id = existing["id"]
    await conn.execute(
        "UPDATE members SET union_id = $2, name = $3, phone_enc = $4, phone_masked = $5, email_enc = $6,"
        " email_masked = $7, employer = $8, employer_credit_code = $11, is_migrant_worker = $9, joined_on = $10,"
        " status = 'active', status_reason = NULL, status_changed_on = $10, left_on = NULL, updated_at = now()"
        " WHERE id = $1",
        member_id, unit["id"], cmd.name, vault.encrypt("phone", phone) if phone else None,
        mask_phone(phone) if phone else None, *email_columns(vault, cmd.email), cmd.employer, cmd.is_migrant_worker,
        cmd.joined_on, cmd.employer_credit_code,
    )
    await add_file_entry(conn, member_id, "rejoined", unit["id"], {
        "union_name": unit["name"], "joined_on": cmd.joined_on.isoformat(), "left_on": existing["left_on"].isoformat(),
        "gap_days": gap, "previous_union_id": str(existing["union_id"]), "previous_union_name": existing["union_name"],
        **late,
    }, actor.subject)
    events = [member_joined(
        member_id=member_id, union_id=unit["id"], union_name=unit["name"], org_path=unit["path"], name=cmd.name,
        gender=rid.gender, birth_date=rid.birth_date, is_migrant_worker=cmd.is_migrant_worker,
        joined_on=cmd.joined_on, rejoined_after_days=gap,
    ), *await contact_events(conn, vault.contact_keys, [(member_id, cmd.name, cmd.email, phone)])]
    await uow.stage(*events)
    trace.get_current_span().set_attribute("member.id", str(member_id))
    return member_view(await load_member(conn, member_id), rejoined_after_days=gap)


def _phone(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return normalise_phone(raw)
    except ValueError as exc:
        raise RuleViolation(str(exc), field="phone") from None


# ---- profile ----------------------------------------------------------------------------------------

async def update_profile(uow: UnitOfWork, member_id: uuid.UUID, requested: dict, actor: Principal,
                         vault: Vault) -> dict:
    """Change profile fields (only those in `requested`). Every change is audited in the member
    file (contact data masked); non-sensitive changes go out as MemberProfileChanged, contact
    changes only as MemberContactChanged on the restricted topic."""
    conn = uow.conn
    row = await load_member(conn, member_id, actor, for_update=True)
    check_profile_editable(row["status"])
    requested = dict(requested)
    if "phone" in requested:
        requested["phone"] = _phone(requested["phone"])
    if "email" in requested:
        requested["email"] = requested["email"] or None
    current = current_profile(row, vault)
    changes = profile_changes(current, requested)
    if changes:
        await apply_profile_changes(uow, row, current, changes, actor.subject, vault)
        row = await load_member(conn, member_id)
    return member_view(row)


def current_profile(row, vault: Vault) -> dict:
    """The editable profile of a member row, phone and e-mail decrypted (to compare and re-store, never shown)."""
    return {
        "name": row["name"], "phone": vault.decrypt("phone", row["phone_enc"]) if row["phone_enc"] else None,
        "email": vault.decrypt("email", row["email_enc"]) if row["email_enc"] else None, "employer": row["employer"], "occupation": row["occupation"],
        "education": row["education"], "is_migrant_worker": row["is_migrant_worker"], "honours": list(row["honours"]),
    }


def _audited(field: str, value):
    """Values as the member file keeps them: contact data masked, never raw."""
    if value is None:
        return None
    if field == "phone":
        return mask_phone(value)
    if field == "email":
        return mask_email(value)
    return value


async def apply_profile_changes(uow: UnitOfWork, row, current: dict, changes: dict[str, tuple],
                                actor_name: str, vault: Vault) -> None:
    """Write `changes` ({field: (old, new)}), audit them and stage their events. Used by staff
    edits and by HR's employment changes that stay within the same union."""
    conn = uow.conn
    new = current | {f: v for f, (_, v) in changes.items()}
    phone = new["phone"]
    await conn.execute(
        "UPDATE members SET name = $2, phone_enc = $3, phone_masked = $4, email_enc = $5, email_masked = $6,"
        " employer = $7, occupation = $8, education = $9, is_migrant_worker = $10, honours = $11, updated_at = now()"
        " WHERE id = $1",
        row["id"], new["name"], vault.encrypt("phone", phone) if phone else None, mask_phone(phone) if phone else None,
        *email_columns(vault, new["email"]), new["employer"], new["occupation"], new["education"], new["is_migrant_worker"],
        sorted(set(new["honours"] or ()), key=list(HONOURS).index),
    )
    plain = {f: c for f, c in changes.items() if f != "honours"}
    if plain:
        await add_file_entry(conn, row["id"], "profile_changed", row["union_id"], {
            "fields": sorted(plain),
            "changes": {f: {"from": _audited(f, old), "to": _audited(f, new_)} for f, (old, new_) in plain.items()},
        }, actor_name)
    if "honours" in changes:
        awarded, revoked = honour_changes(*changes["honours"])
        for kind, codes in (("honour_awarded", awarded), ("honour_revoked", revoked)):
            for code in codes:
                await add_file_entry(conn, row["id"], kind, row["union_id"], {"honour": code, "label": HONOURS[code]},
                                     actor_name)
    events = []
    public = [f for f in changes if f not in CONTACT_FIELDS]
    if public:
        events.append(MemberProfileChanged(member_id=row["id"], changed_fields=public,
                                           **{f: new[f] for f in public}))
    if changes.keys() & {"name", *CONTACT_FIELDS}:
        # notify keeps the whole contact (latest wins), so the event carries all of it.
        events += await contact_events(conn, vault.contact_keys, [(row["id"], new["name"], new["email"], phone)])
    await uow.stage(*events)
    trace.get_current_span().set_attribute("member.id", str(row["id"]))


# ---- status -----------------------------------------------------------------------------------------

async def change_status(uow: UnitOfWork, cmd: ChangeStatus, actor: Principal, *,
                        max_backdate_days: int | None = None, today: date | None = None) -> dict:
    """active ↔ retained (会籍保留), or → left (退会, final). Rules in `domain.members.check_status_change`.
    The change takes effect today or on a day at most `max_backdate_days` before; a back-dated
    change says who back-dated it and by how much in the member file."""
    conn = uow.conn
    today = today or local_today()
    row = await load_member(conn, cmd.member_id, actor, for_update=True)
    check_status_change(row["status"], cmd.status, cmd.reason, by_admin=actor.role == "federation_admin")
    check_dated(cmd.effective_on, today, field="effective_on", what="生效日期", max_backdate_days=max_backdate_days)
    if cmd.effective_on < row["joined_on"]:
        raise RuleViolation(f"生效日期不能早于入会日期（{row['joined_on'].isoformat()}）", field="effective_on")
    left = cmd.status == "left"
    await conn.execute(
        "UPDATE members SET status = $2, status_reason = $3, status_changed_on = $4, left_on = $5, updated_at = now()"
        " WHERE id = $1",
        row["id"], cmd.status, None if cmd.status == "active" else cmd.reason, cmd.effective_on,
        cmd.effective_on if left else None,
    )
    await add_file_entry(conn, row["id"], "left" if left else "status_changed", row["union_id"], {
        "from_status": row["status"], "to_status": cmd.status, "reason": cmd.reason,
        "effective_on": cmd.effective_on.isoformat(), **backdating(cmd.effective_on, today, actor.subject),
    }, actor.subject)
    if left:
        event = MemberLeft(member_id=row["id"], union_id=row["union_id"], org_path=row["path"], reason=cmd.reason,
                           left_on=cmd.effective_on)
    else:
        event = member_status_changed(row["id"], union_id=row["union_id"], org_path=row["path"],
                                      from_status=row["status"], to_status=cmd.status, reason=cmd.reason,
                                      changed_on=cmd.effective_on)
    await uow.stage(event)
    trace.get_current_span().set_attribute("member.id", str(row["id"]))
    return member_view(await load_member(conn, row["id"]))


# ---- erasure (PIPL 删除个人信息) ---------------------------------------------------------------------

async def erase_personal_data(uow: UnitOfWork, member_id: uuid.UUID, actor: Principal) -> dict:
    """Destroy the member's data key and contact details (commands.contacts), noted in the file."""
    row = await load_member(uow.conn, member_id, actor, for_update=True)
    result = await erase_contact_data(uow, row["id"], actor.subject)
    await add_file_entry(uow.conn, row["id"], "personal_data_erased", row["union_id"],
                         {"data_key_destroyed": result["data_key_destroyed"]}, actor.subject)
    return result
