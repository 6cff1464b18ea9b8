"""Members' contact details as notify keeps them: sealed under each member's data key (DEK), as
membership sent them on MemberContactChanged v2; the DEK in `member_keys`, wrapped under the
contact key ring (PII_CONTACT_KEYS, re-wrapped on receipt under its current KEK). They are opened
only by the dispatcher, at send time. MemberPersonalDataErased deletes the key and the sealed values."""
from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from contracts.events import MemberContactChanged, MemberPersonalDataErased
from unionops.pii import DataKey, KeyRing, Vault, mask_phone, unb64


def rows_from_events(ring: KeyRing, events: list[tuple[MemberContactChanged, datetime | None]]) -> list[tuple]:
    """(member_id, name, email_sealed, phone_sealed, phone_masked, key_id, wrapped_key, changed_at)
    per (event, the event's time). The masked phone (shown to staff) is the only thing opened here."""
    out = []
    for e, changed_at in events:
        dek = ring.unwrap(str(e.member_id), unb64(e.data_key))
        email, phone = unb64(e.email_sealed), unb64(e.phone_sealed)
        masked = mask_phone(dek.open("phone", phone)) if phone else None
        out.append((e.member_id, e.name, email, phone, masked, dek.key_id, ring.wrap(dek), changed_at))
    return out


_UPSERT = """
WITH k AS (
    INSERT INTO member_keys (member_id, key_id, wrapped_key)
    SELECT * FROM unnest($1::uuid[], $6::text[], $7::bytea[])
    ON CONFLICT (member_id) DO UPDATE SET key_id = EXCLUDED.key_id, wrapped_key = EXCLUDED.wrapped_key,
        updated_at = now()
)
INSERT INTO contacts (member_id, name, email_sealed, phone_sealed, phone_masked, changed_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bytea[], $5::text[], $8::timestamptz[])
ON CONFLICT (member_id) DO UPDATE SET name = EXCLUDED.name, email_sealed = EXCLUDED.email_sealed,
    phone_sealed = EXCLUDED.phone_sealed, phone_masked = EXCLUDED.phone_masked, email = NULL, phone_enc = NULL,
    changed_at = EXCLUDED.changed_at, erased_at = NULL, updated_at = now()
"""


async def store(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    cols = [list(c) for c in zip(*rows)]
    await conn.execute(_UPSERT, *cols)


async def erase(conn: asyncpg.Connection, event: MemberPersonalDataErased) -> None:
    """Drop the member's key and sealed contact; the name stays for the records of past deliveries."""
    await conn.execute("DELETE FROM member_keys WHERE member_id = $1", event.member_id)
    await conn.execute(
        "UPDATE contacts SET email = NULL, email_sealed = NULL, phone_enc = NULL, phone_sealed = NULL,"
        " phone_masked = NULL, erased_at = now(), updated_at = now() WHERE member_id = $1", event.member_id)


async def put(conn: asyncpg.Connection, ring: KeyRing, member_id: uuid.UUID, name: str, email: str | None,
              phone: str | None, dek: DataKey | None = None) -> None:
    """Keep a contact sealed under a data key made here (contacts from before v2; test fixtures).
    No event time: taken as the latest word on the member's address."""
    dek = dek or DataKey.generate(str(member_id))
    await store(conn, [(member_id, name, dek.seal("email", email) if email else None,
                        dek.seal("phone", phone) if phone else None, mask_phone(phone) if phone else None,
                        dek.key_id, ring.wrap(dek), None)])


def open_contact(ring: KeyRing, member_id: uuid.UUID, wrapped_key: bytes, field: str, sealed: bytes) -> str:
    """The dispatcher's one way to a member's address."""
    return ring.unwrap(str(member_id), bytes(wrapped_key)).open(field, bytes(sealed))


async def seal_stored(conn: asyncpg.Connection, vault: Vault) -> int:
    """Start-up: contacts kept before migration 007 (clear e-mail, vault phone) are sealed under a
    data key made here, and the old columns cleared."""
    ring = vault.contact_keys
    rows = await conn.fetch("SELECT member_id, name, email, phone_enc FROM contacts"
                            " WHERE email IS NOT NULL OR phone_enc IS NOT NULL FOR UPDATE")
    for r in rows:
        phone = vault.decrypt("phone", bytes(r["phone_enc"])) if r["phone_enc"] is not None else None
        await put(conn, ring, r["member_id"], r["name"], r["email"], phone)
    return len(rows)
