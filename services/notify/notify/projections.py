"""What notify keeps of other services' events: members (with their unit path and admission
time), contacts (sealed), organisation units, campaigns, hardship files (level and open only: the
households a campaign concerns), employers' contacts (their side of collective bargaining,
the address under the vault), and the officers and robots of units that
merged away or dissolved. Each handler runs in the idempotent consumer's transaction (registered in
consumers.py, which also runs the commands that turn the same events into deliveries).

Paths follow the tree: a UnionMoved rewrites every organisation path of notify's database
(`unionops.projections.follow_move`, derived from the catalogue — deliveries, fan-outs, officers,
robots and in-app messages included)."""
from __future__ import annotations

import uuid

import asyncpg

from contracts.events import (
    CampaignLaunched,
    EmployerContactChanged,
    HardshipFileClosed,
    HardshipFileOpened,
    HardshipFileReviewed,
    MemberLeft,
    MemberPersonalDataErased,
    MemberTransferred,
    UnionDissolved,
    UnionEstablished,
    UnionMerged,
    UnionMoved,
)
from notify.domain import contacts
from unionops.consumer import Received, last_per
from unionops.envelope import Envelope
from unionops.pii import DataKey, KeyRing, Vault, unb64
from unionops.projections import follow_move, pg_path, upsert_latest

# ---- contacts ----------------------------------------------------------------------------------

_UPSERT_CONTACTS = """
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


async def store_contacts(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    """Rows in the form of `domain.contacts.rows_from_events` (the member's key with them)."""
    await conn.execute(_UPSERT_CONTACTS, *[list(c) for c in zip(*rows)])


async def put_contact(conn: asyncpg.Connection, ring: KeyRing, member_id: uuid.UUID, name: str, email: str | None,
                      phone: str | None, dek: DataKey | None = None) -> None:
    """Keep a contact sealed under a data key made here (contacts from before v2; test fixtures)."""
    await store_contacts(conn, [contacts.sealed_row(ring, member_id, name, email, phone, dek)])


async def contacts_changed(conn: asyncpg.Connection, batch: list[Received], ring: KeyRing) -> list[uuid.UUID]:
    """MemberContactChanged: the latest contact of each member, kept sealed under the member's
    data key (opened only when a message is sent). Returns the members whose contact lacks an
    e-mail or a phone (their waiting messages on that channel are not deliverable)."""
    # Events of one member come in order (keyed by member id): the latest contact wins — within a
    # batch too, so a mail waiting for an address goes out if the batch ends with one. The event's
    # time says whether the contact is the latest word on the address or older than the member's
    # latest admission (commands.settlement.settle_unaddressable).
    latest = [(r.event, r.envelope.time) for r in last_per(batch, lambda r: r.event.member_id)]
    rows = contacts.rows_from_events(ring, latest)
    await store_contacts(conn, rows)
    return [r[0] for r in rows if r[2] is None or r[3] is None]


async def personal_data_erased(conn: asyncpg.Connection, event: MemberPersonalDataErased, env: Envelope) -> None:
    """The member's data key goes: every sealed copy of their contact, here or on the topic, is
    unreadable. The name stays for the records of past deliveries."""
    await conn.execute("DELETE FROM member_keys WHERE member_id = $1", event.member_id)
    await conn.execute(
        "UPDATE contacts SET email = NULL, email_sealed = NULL, phone_enc = NULL, phone_sealed = NULL,"
        " phone_masked = NULL, erased_at = now(), updated_at = now() WHERE member_id = $1", event.member_id)


# ---- members -----------------------------------------------------------------------------------

async def members_joined(conn: asyncpg.Connection, batch: list[Received]) -> None:
    """MemberJoined: the member's union and path, admission date and time (latest wins: a leave
    and rejoin in one batch is the last)."""
    last = last_per(batch, lambda r: r.event.member_id)
    # joined_at, the event's time: a contact older than it may yet be replaced by the one this
    # admission sent on the contact topic, so the welcome waits for that one.
    await upsert_latest(conn, "members", "member_id", [
        {"member_id": r.event.member_id, "union_id": r.event.union_id, "union_name": r.event.union_name,
         "org_path": r.event.org_path, "joined_on": r.event.joined_on, "joined_at": r.envelope.time,
         "left_on": None} for r in last])
    # Notifications that came before the join (a score) get their scope now.
    await conn.execute(
        "UPDATE deliveries d SET org_path = t.p::uuid[] FROM unnest($1::uuid[], $2::text[]) AS t(m, p)"
        " WHERE d.member_id = t.m AND d.org_path IS NULL",
        [r.event.member_id for r in last], [pg_path(r.event.org_path) for r in last])


async def member_transferred(conn: asyncpg.Connection, event: MemberTransferred, env: Envelope) -> None:
    """Later notifications are scoped to the receiving union; past deliveries keep theirs."""
    await conn.execute(
        "UPDATE members SET union_id = $2, union_name = $3, org_path = $4, updated_at = now() WHERE member_id = $1",
        event.member_id, event.to_union_id, event.to_union_name, event.to_org_path)


async def member_left(conn: asyncpg.Connection, event: MemberLeft, env: Envelope) -> None:
    await conn.execute("UPDATE members SET left_on = $2, updated_at = now() WHERE member_id = $1",
                       event.member_id, event.left_on)


# ---- organisation units ------------------------------------------------------------------------

async def union_established(conn: asyncpg.Connection, event: UnionEstablished, env: Envelope) -> None:
    await upsert_latest(conn, "org_units", "org_id", [
        {"org_id": event.org_id, "name": event.name, "level": event.level, "org_path": event.org_path}])


async def union_moved(conn: asyncpg.Connection, event: UnionMoved, env: Envelope) -> None:
    await follow_move(conn, event.old_path, event.new_path)


async def union_closed(conn: asyncpg.Connection, event: UnionMerged | UnionDissolved, env: Envelope) -> None:
    """UnionMerged / UnionDissolved: the union has no officers and no group chat any more — its
    posts end (the receiving or holding union's officers are its own), its bots stop. Their
    messages already waiting fail with `no_address` after the contact wait (a work item that
    reached nobody is for an operator to see)."""
    await conn.execute("UPDATE officers SET active = false, updated_at = now() WHERE org_id = $1 AND active",
                       event.org_id)
    await conn.execute("UPDATE webhook_bots SET enabled = false, updated_at = now()"
                       " WHERE org_unit_id = $1 AND enabled", event.org_id)


# ---- campaigns ---------------------------------------------------------------------------------

async def campaign_launched(conn: asyncpg.Connection, event: CampaignLaunched, env: Envelope) -> None:
    await conn.execute(
        "INSERT INTO campaigns (campaign_id, name, kind, org_id, org_path, starts_on, ends_on)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (campaign_id) DO NOTHING",
        event.campaign_id, event.name, event.kind, event.org_id, event.org_path, event.starts_on, event.ends_on)


# ---- hardship files (the households a campaign concerns) ---------------------------------------

async def hardship_file_kept(conn: asyncpg.Connection, event: HardshipFileOpened | HardshipFileReviewed,
                            env: Envelope) -> None:
    """HardshipFileOpened / HardshipFileReviewed: the file's member, path and level (a
    re-verification may change the level; the file stays open until HardshipFileClosed)."""
    await upsert_latest(conn, "hardship_files", "file_id", [
        {"file_id": event.file_id, "member_id": event.member_id, "org_path": event.org_path, "level": event.level,
         "open": True}])


async def hardship_file_closed(conn: asyncpg.Connection, event: HardshipFileClosed, env: Envelope) -> None:
    await conn.execute("UPDATE hardship_files SET open = false, updated_at = now() WHERE file_id = $1", event.file_id)


async def employer_contact_changed(conn: asyncpg.Connection, event: EmployerContactChanged, env: Envelope,
                                   vault: Vault) -> None:
    """EmployerContactChanged: the employer side's contact, the address opened from the contact
    ring and kept under the vault (as officers' are). Keyed by employer: the latest event wins,
    an older one arriving late is ignored."""
    email = None
    if event.email_sealed is not None:
        email = vault.contact_keys.open_field(contacts.EMPLOYER_EMAIL_FIELD, str(event.employer_id),
                                              unb64(event.email_sealed))
    await conn.execute(
        "INSERT INTO employer_contacts (employer_id, employer_name, contact_name, email_enc, changed_at)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (employer_id) DO UPDATE SET employer_name = EXCLUDED.employer_name,"
        " contact_name = EXCLUDED.contact_name, email_enc = EXCLUDED.email_enc, changed_at = EXCLUDED.changed_at,"
        " updated_at = now() WHERE employer_contacts.changed_at <= EXCLUDED.changed_at",
        event.employer_id, event.employer_name, event.contact_name,
        vault.encrypt(contacts.EMPLOYER_EMAIL_FIELD, email) if email else None, env.time)
