"""Event handlers of the notify service. Each runs in the idempotent consumer's transaction
(the event id is recorded in `inbox` in that same transaction) and only writes rows: contacts,
the members projection and pending deliveries. Sending is the dispatcher's job."""
from __future__ import annotations

from typing import Callable

import asyncpg

from contracts.events import (
    CaseOpened,
    ContestScored,
    MemberContactChanged,
    MemberJoined,
    MemberTransferred,
    UnionMoved,
)
from notify import deliveries, domain
from notify.templates import TemplateRegistry
from unionops.consumer import IdempotentConsumer
from unionops.envelope import Envelope
from unionops.pii import Vault, mask_phone
from unionops.projections import rewrite_path_prefix


def subscribe(consumer: IdempotentConsumer, *, vault: Callable[[], Vault], templates: TemplateRegistry) -> None:
    """Register the handlers on `consumer`; `vault` is looked up when a contact arrives."""

    @consumer.on(MemberContactChanged)
    async def contact_changed(conn: asyncpg.Connection, event: MemberContactChanged, env: Envelope) -> None:
        # Events of one member come in order (keyed by member id): the latest contact wins.
        email = (event.email or "").strip() or None
        phone = (event.phone or "").strip() or None
        v = vault()
        await conn.execute(
            "INSERT INTO contacts (member_id, name, email, phone_enc, phone_masked) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (member_id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,"
            " phone_enc = EXCLUDED.phone_enc, phone_masked = EXCLUDED.phone_masked, updated_at = now()",
            event.member_id, event.name, email, v.encrypt("phone", phone) if phone else None,
            mask_phone(phone) if phone else None,
        )
        if email is None:
            await deliveries.fail_unaddressable(conn, event.member_id)

    @consumer.on(MemberJoined)
    async def member_joined(conn: asyncpg.Connection, event: MemberJoined, env: Envelope) -> None:
        await conn.execute(
            "INSERT INTO members (member_id, union_id, union_name, org_path, joined_on) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (member_id) DO UPDATE SET union_id = EXCLUDED.union_id, union_name = EXCLUDED.union_name,"
            " org_path = EXCLUDED.org_path, joined_on = EXCLUDED.joined_on, updated_at = now()",
            event.member_id, event.union_id, event.union_name, event.org_path, event.joined_on,
        )
        # Notifications that came before the join (a score) get their scope now.
        await conn.execute("UPDATE deliveries SET org_path = $2 WHERE member_id = $1 AND org_path IS NULL",
                           event.member_id, event.org_path)
        await deliveries.create(conn, env, domain.welcome(event), templates)

    @consumer.on(CaseOpened)
    async def case_opened(conn: asyncpg.Connection, event: CaseOpened, env: Envelope) -> None:
        union_name = await conn.fetchval("SELECT union_name FROM members WHERE member_id = $1", event.member_id)
        await deliveries.create(conn, env, domain.case_opened(event, union_name), templates)

    @consumer.on(ContestScored)
    async def contest_scored(conn: asyncpg.Connection, event: ContestScored, env: Envelope) -> None:
        org_path = await conn.fetchval("SELECT org_path FROM members WHERE member_id = $1", event.member_id)
        await deliveries.create(conn, env, domain.score_recorded(event, org_path), templates)

    @consumer.on(MemberTransferred)
    async def member_transferred(conn: asyncpg.Connection, event: MemberTransferred, env: Envelope) -> None:
        # Later notifications are scoped to the receiving union; past deliveries keep theirs.
        await conn.execute(
            "UPDATE members SET union_id = $2, union_name = $3, org_path = $4, updated_at = now() WHERE member_id = $1",
            event.member_id, event.to_union_id, event.to_union_name, event.to_org_path)

    @consumer.on(UnionMoved)
    async def union_moved(conn: asyncpg.Connection, event: UnionMoved, env: Envelope) -> None:
        await rewrite_path_prefix(conn, "members", "org_path", event.old_path, event.new_path)
        await rewrite_path_prefix(conn, "deliveries", "org_path", event.old_path, event.new_path)
