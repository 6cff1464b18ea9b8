"""Members' contact details on the wire, and their erasure.

Each member has a data key (DEK, `member_data_keys`), wrapped under the contact key ring
(PII_CONTACT_KEYS) that membership and notify alone hold. A MemberContactChanged carries the
e-mail and phone sealed under that DEK and the DEK itself wrapped under the ring's current KEK;
only notify (which holds the ring) can open them. Erasure destroys the DEK here, deletes the outbox
rows that carried it and tells notify (MemberPersonalDataErased) to drop its copy: every remaining
ciphertext of that member, on the topic or anywhere else, is then unreadable."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import asyncpg

from contracts.events import MemberContactChanged, MemberPersonalDataErased
from membership.domain.contacts import member_contact_changed
from unionops.pii import DataKey, KeyRing, Vault, mask_email
from unionops.unit_of_work import UnitOfWork


async def data_keys(conn: asyncpg.Connection, ring: KeyRing, member_ids: list[uuid.UUID]) -> dict[uuid.UUID, DataKey]:
    """Each member's live data key, created for those who have none (new, or erased before).
    Two statements for any number of members (imports)."""
    ids = list(dict.fromkeys(member_ids))
    keys = await live_keys(conn, ring, ids)
    new = {m: DataKey.generate(str(m)) for m in ids if m not in keys}
    if new:
        await conn.execute(
            STORE_KEYS.format(select="SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[])"),
            list(new), [k.key_id for k in new.values()], [ring.wrap(k) for k in new.values()])
    return keys | new


async def live_keys(conn: asyncpg.Connection, ring: KeyRing, member_ids: list[uuid.UUID]) -> dict[uuid.UUID, DataKey]:
    """The data keys that exist and were not destroyed."""
    rows = await conn.fetch("SELECT member_id, wrapped_key FROM member_data_keys"
                            " WHERE member_id = ANY($1::uuid[]) AND wrapped_key IS NOT NULL", list(member_ids))
    return {r["member_id"]: ring.unwrap(str(r["member_id"]), bytes(r["wrapped_key"])) for r in rows}


# New keys (imports stage them in their temporary table): kept, or a destroyed one replaced.
STORE_KEYS = (
    "INSERT INTO member_data_keys (member_id, key_id, wrapped_key) {select}"
    " ON CONFLICT (member_id) DO UPDATE SET key_id = EXCLUDED.key_id, wrapped_key = EXCLUDED.wrapped_key,"
    " created_at = CASE WHEN member_data_keys.key_id = EXCLUDED.key_id THEN member_data_keys.created_at ELSE now() END,"
    " destroyed_at = NULL")


async def contact_events(conn: asyncpg.Connection, ring: KeyRing,
                         contacts: list[tuple[uuid.UUID, str, str | None, str | None]]) -> list[MemberContactChanged]:
    """`domain.contacts.member_contact_changed` for many (member_id, name, email, phone) at once."""
    keys = await data_keys(conn, ring, [c[0] for c in contacts])
    return [member_contact_changed(ring, keys[m], m, name, email, phone) for m, name, email, phone in contacts]


def email_columns(vault: Vault, email: str | None) -> tuple[bytes | None, str | None]:
    """(email_enc, email_masked) as `members` keeps them."""
    return (vault.encrypt("email", email), mask_email(email)) if email else (None, None)


async def seal_stored_emails(uow: UnitOfWork, vault: Vault) -> int:
    """Start-up: e-mail addresses kept in plain text before migration 005 are encrypted once."""
    conn = uow.conn
    rows = await conn.fetch("SELECT id, email FROM members WHERE email IS NOT NULL FOR UPDATE")
    for r in rows:
        enc, masked = email_columns(vault, r["email"])
        await conn.execute("UPDATE members SET email_enc = $2, email_masked = $3, email = NULL WHERE id = $1",
                           r["id"], enc, masked)
    return len(rows)


async def erase_contact_data(uow: UnitOfWork, member_id: uuid.UUID, actor_name: str) -> dict:
    """Destroy the member's data key and their contact details here; stage the erasure for notify.
    The outbox rows that carried the wrapped key (kept for replay within OUTBOX_RETENTION_DAYS)
    are deleted, so no replay can bring the key back. Idempotent."""
    conn = uow.conn
    key_id = await conn.fetchval(
        "UPDATE member_data_keys SET wrapped_key = NULL, destroyed_at = now()"
        " WHERE member_id = $1 AND wrapped_key IS NOT NULL RETURNING key_id", member_id)
    await conn.execute(
        "UPDATE members SET phone_enc = NULL, phone_masked = NULL, email = NULL, email_enc = NULL,"
        " email_masked = NULL, personal_data_erased_at = now(), updated_at = now() WHERE id = $1", member_id)
    deleted = await conn.fetchval(
        "WITH d AS (DELETE FROM outbox WHERE topic = $1 AND key = $2 AND event_type = $3 RETURNING 1)"
        " SELECT count(*) FROM d", MemberContactChanged.topic, str(member_id), MemberContactChanged.event_type())
    erased_at = datetime.now(timezone.utc)
    await uow.stage(MemberPersonalDataErased(member_id=member_id, data_key_id=key_id, erased_at=erased_at))
    return {"member_id": member_id, "data_key_destroyed": key_id is not None, "outbox_rows_deleted": deleted,
            "erased_at": erased_at, "actor": actor_name}
