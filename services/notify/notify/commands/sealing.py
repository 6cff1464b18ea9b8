"""Start-up, one unit of work: what older migrations kept in clear is sealed once — robot URLs
(before 006), contacts (before 007), officers' e-mail addresses (before 009). Robots and officers
share one rule (encrypt the clear column into its sealed columns, then empty it); contacts are
sealed under a data key made here."""
from __future__ import annotations

from typing import Callable

from notify.domain import bots, officers
from notify.projections import put_contact
from unionops.pii import Vault
from unionops.unit_of_work import UnitOfWork


async def seal_clear_columns(uow: UnitOfWork, vault: Vault) -> int:
    """Returns how many rows were sealed."""
    sealed = await _seal_column(uow, "webhook_bots", "url", lambda url: bots.url_columns(vault, url))
    sealed += await _seal_contacts(uow, vault)
    sealed += await _seal_column(uow, "officers", "email", lambda email: officers.email_columns(vault, email))
    return sealed


async def _seal_column(uow: UnitOfWork, table: str, clear: str, columns: Callable[[str], dict]) -> int:
    """Each row's clear `table.clear` becomes `columns(value)` (sealed and masked) and is emptied.
    `table` and `clear` are identifiers from code, never from input."""
    rows = await uow.conn.fetch(f"SELECT id, {clear} FROM {table} WHERE {clear} IS NOT NULL FOR UPDATE")
    for r in rows:
        cols = columns(r[clear])
        sets = ", ".join(f"{c} = ${n}" for n, c in enumerate(cols, start=2))
        await uow.conn.execute(f"UPDATE {table} SET {sets}, {clear} = NULL WHERE id = $1", r["id"], *cols.values())
    return len(rows)


async def _seal_contacts(uow: UnitOfWork, vault: Vault) -> int:
    """Contacts kept before migration 007 (clear e-mail, vault phone) are sealed under a data key
    made here, and the old columns cleared — by the contacts projection's own upsert, the one writer
    of `contacts` (hence this import of projections)."""
    ring = vault.contact_keys
    rows = await uow.conn.fetch("SELECT member_id, name, email, phone_enc FROM contacts"
                                " WHERE email IS NOT NULL OR phone_enc IS NOT NULL FOR UPDATE")
    for r in rows:
        phone = vault.decrypt("phone", bytes(r["phone_enc"])) if r["phone_enc"] is not None else None
        await put_contact(uow.conn, ring, r["member_id"], r["name"], r["email"], phone)
    return len(rows)
