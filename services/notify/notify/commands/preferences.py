"""A member's notification preferences: channel opt-ins / opt-outs, language, SMS quiet hours —
changed by the member themself or by staff (`write`) whose subtree holds the member's unit; and an
office's default channels per notice kind for its subtree."""
from __future__ import annotations

import uuid

from notify import queries
from notify.domain.preferences import Preferences, QuietHours
from unionops.auth import Principal
from unionops.unit_of_work import UnitOfWork


async def choose(uow: UnitOfWork, member_id: uuid.UUID, *, channels: dict[str, bool], language: str | None,
                 quiet_hours: "QuietHours | None | bool", principal: Principal) -> Preferences:
    """Record the member's choices; returns them as they now stand. `quiet_hours`: a window,
    None to go back to the default, False to leave as it is."""
    conn = uow.conn
    await queries.authorise_member(conn, principal, member_id, "write")
    updated_by = f"{principal.role}:{principal.subject}"
    for channel, opted_in in channels.items():
        await conn.execute(
            "INSERT INTO channel_preferences (member_id, channel, opted_in, updated_by) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (member_id, channel) DO UPDATE SET opted_in = EXCLUDED.opted_in,"
            " updated_by = EXCLUDED.updated_by, updated_at = now()",
            member_id, channel, opted_in, updated_by,
        )
    await conn.execute("INSERT INTO member_settings (member_id) VALUES ($1) ON CONFLICT DO NOTHING", member_id)
    if language is not None:
        await conn.execute("UPDATE member_settings SET language = $2, updated_at = now() WHERE member_id = $1",
                           member_id, language)
    if quiet_hours is not False:
        await conn.execute(
            "UPDATE member_settings SET quiet_start = $2, quiet_end = $3, updated_at = now() WHERE member_id = $1",
            member_id, quiet_hours.start if quiet_hours else None, quiet_hours.end if quiet_hours else None)
    return await queries.preferences(conn, member_id)


async def set_office_defaults(uow: UnitOfWork, org_id: uuid.UUID, notice_kind: str,
                              channels: dict[str, bool | None], principal: Principal) -> None:
    """An office's default channels of one notice kind for its subtree (members' own choices
    still win): True/False sets the channel's default, None gives it back to the units above
    (or the built-in default). Only a unit of the caller's subtree (others are not found)."""
    conn = uow.conn
    path = await queries.unit_path(conn, org_id, principal)
    updated_by = f"{principal.role}:{principal.subject}"
    for channel, opted_in in channels.items():
        if opted_in is None:
            await conn.execute("DELETE FROM notice_defaults WHERE org_id = $1 AND notice_kind = $2 AND channel = $3",
                               org_id, notice_kind, channel)
            continue
        await conn.execute(
            "INSERT INTO notice_defaults (org_id, org_path, notice_kind, channel, opted_in, updated_by)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, notice_kind, channel) DO UPDATE SET"
            " opted_in = EXCLUDED.opted_in, updated_by = EXCLUDED.updated_by, updated_at = now()",
            org_id, path, notice_kind, channel, opted_in, updated_by)
