"""Commands on members (会员): real-name admission. Each runs in the caller's transaction and
stages its events in the outbox of that same transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg
from opentelemetry import trace

from contracts.events import MemberContactChanged, MemberJoined
from membership.domain import check_admitting_unit
from membership.organisations import load_unit
from unionops import outbox
from unionops.auth import Principal
from unionops.pii import InvalidResidentId, Vault, mask_phone, normalise_phone, parse_resident_id
from unionops.problems import RuleViolation


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


def mask_union(name: str | None) -> str:
    """The refusal names the existing union without exposing it whole to any caller."""
    if not name:
        return "其他工会"
    return name[:2] + "*" * max(len(name) - 4, 1) + name[-2:] if len(name) > 4 else name[0] + "*" * (len(name) - 1)


async def admit_member(conn: asyncpg.Connection, cmd: AdmitMember, actor: Principal, vault: Vault) -> dict:
    """Real-name admission (入会): one person, one membership, in a grassroots union."""
    try:
        rid = parse_resident_id(cmd.id_number)
    except InvalidResidentId as exc:
        raise RuleViolation(str(exc), field="id_number") from None
    phone = None
    if cmd.phone:
        try:
            phone = normalise_phone(cmd.phone)
        except ValueError as exc:
            raise RuleViolation(str(exc), field="phone") from None
    unit = await load_unit(conn, cmd.union_id, field="union_id")
    actor.require_scope(unit["path"])
    check_admitting_unit(unit["level"])

    id_hash = vault.lookup_hash("id_number", rid.number)
    member_id = uuid.uuid4()
    try:
        async with conn.transaction():  # a savepoint: the duplicate check below must still run
            await conn.execute(
                "INSERT INTO members (id, union_id, name, gender, birth_date, id_number_enc, id_number_hash,"
                " id_number_masked, phone_enc, phone_masked, email, employer, is_migrant_worker, joined_on, created_by)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
                member_id, unit["id"], cmd.name, rid.gender, rid.birth_date, vault.encrypt("id_number", rid.number),
                id_hash, rid.masked, vault.encrypt("phone", phone) if phone else None,
                mask_phone(phone) if phone else None, cmd.email, cmd.employer, cmd.is_migrant_worker, cmd.joined_on,
                actor.subject,
            )
    except asyncpg.UniqueViolationError:
        existing = await conn.fetchval(
            "SELECT o.name FROM members m JOIN org_units o ON o.id = m.union_id WHERE m.id_number_hash = $1", id_hash)
        raise RuleViolation(
            f"该身份证号（{rid.masked}）已是{mask_union(existing)}会员，一人只能有一个会籍",
            field="id_number", status=409, kind="already-a-member",
        ) from None
    await conn.execute(
        "INSERT INTO member_file_entries (member_id, kind, union_id, detail, actor) VALUES ($1, 'joined', $2, $3, $4)",
        member_id, unit["id"], {"union_name": unit["name"]}, actor.subject,
    )
    events = [MemberJoined(
        member_id=member_id, union_id=unit["id"], union_name=unit["name"], org_path=unit["path"], name=cmd.name,
        gender=rid.gender, birth_year=rid.birth_date.year, is_migrant_worker=cmd.is_migrant_worker,
        joined_on=cmd.joined_on,
    )]
    if phone or cmd.email:
        events.append(MemberContactChanged(member_id=member_id, name=cmd.name, email=cmd.email, phone=phone))
    await outbox.record_many(conn, events)
    trace.get_current_span().set_attribute("member.id", str(member_id))
    return {
        "id": member_id, "union_id": unit["id"], "union_name": unit["name"], "name": cmd.name, "gender": rid.gender,
        "birth_date": rid.birth_date, "id_number_masked": rid.masked,
        "phone_masked": mask_phone(phone) if phone else None, "email": cmd.email, "employer": cmd.employer,
        "is_migrant_worker": cmd.is_migrant_worker, "status": "active", "joined_on": cmd.joined_on,
    }
