"""A member's notification preferences: channel opt-ins / opt-outs, language, SMS quiet hours —
changed by the member themself or by staff (`write`) whose subtree holds the member's unit."""
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
