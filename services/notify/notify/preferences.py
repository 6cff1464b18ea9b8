"""Which channels reach a member, when SMS may go out, and in which language.

Stable contract for the event subscriptions and the fan-out (issue 6):

    channels = await channels_for(conn, member_ids, notice_kind)   # {member_id: ["email", "inapp", ...]}

`notice_kind` is the template name of the notice (e.g. "member_joined", "case_approved").
Default per member: "email" and "inapp", "sms" only when the member opted in or the notice kind
is urgent (URGENT_NOTICE_KINDS). The choice does not look at the contact: a delivery on a channel
the member has no address for ends `undeliverable`, visible in the member's deliveries, not failed
(`deliveries.settle_unaddressable`); one whose contact may still come waits for it. An explicit opt-out
(channel_preferences.opted_in = false) always wins, for urgent notices too. "webhook" is never
a member's channel: group-chat bots are recipients of their own, chosen by the notice kinds they
subscribed to (`deliveries.create_for_bots`, bots.py).

Webhook deliveries: one per event x bot: recipient_kind 'bot', recipient_id = the bot's id,
member_id NULL, subject_member_id = the member the message is about (its name is shown masked)."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

import asyncpg

CHANNELS = ("email", "sms", "webhook", "inapp")
MEMBER_CHANNELS = ("email", "sms", "inapp")
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGES = ("zh-CN", "en")

# Notices important enough for an SMS without an opt-in (still not against an opt-out).
URGENT_NOTICE_KINDS: frozenset[str] = frozenset({
    "case_approved", "aid_disbursed", "campaign_payment_made", "hotline_ticket_overdue",
})

BEIJING = timezone(timedelta(hours=8), "CST")


def default_channels(notice_kind: str, *, sms_opt_in: bool | None,
                     email_opt_in: bool | None, inapp_opt_in: bool | None) -> list[str]:
    """The rule, free of I/O. `*_opt_in`: True/False when the member chose, None when not."""
    out = []
    if email_opt_in is not False:
        out.append("email")
    if sms_opt_in is True or (sms_opt_in is None and notice_kind in URGENT_NOTICE_KINDS):
        out.append("sms")
    if inapp_opt_in is not False:
        out.append("inapp")
    return out


async def channels_for(conn: asyncpg.Connection, member_ids: list[uuid.UUID],
                       notice_kind: str) -> dict[uuid.UUID, list[str]]:
    """The channels on which each member gets a notice of this kind (see the module docstring).
    One query for any number of members (fan-out batches call it per batch)."""
    if not member_ids:
        return {}
    rows = await conn.fetch(
        """
        SELECT m.id AS member_id, p.prefs
        FROM unnest($1::uuid[]) AS m(id)
        LEFT JOIN LATERAL (
            SELECT jsonb_object_agg(channel, opted_in) AS prefs FROM channel_preferences WHERE member_id = m.id
        ) p ON true
        """,
        list(dict.fromkeys(member_ids)),
    )
    out: dict[uuid.UUID, list[str]] = {}
    for r in rows:
        prefs = _json(r["prefs"])
        out[r["member_id"]] = default_channels(
            notice_kind, sms_opt_in=prefs.get("sms"),
            email_opt_in=prefs.get("email"), inapp_opt_in=prefs.get("inapp"),
        )
    return out


@dataclass(frozen=True)
class Preferences:
    channels: dict[str, bool]        # explicit choices only
    language: str
    quiet_hours: "QuietHours | None"  # None: the service default


async def get_preferences(conn: asyncpg.Connection, member_id: uuid.UUID) -> Preferences:
    rows = await conn.fetch("SELECT channel, opted_in FROM channel_preferences WHERE member_id = $1", member_id)
    s = await conn.fetchrow("SELECT language, quiet_start, quiet_end FROM member_settings WHERE member_id = $1",
                            member_id)
    quiet = QuietHours(s["quiet_start"], s["quiet_end"]) if s and s["quiet_start"] is not None else None
    return Preferences({r["channel"]: r["opted_in"] for r in rows},
                       (s and s["language"]) or DEFAULT_LANGUAGE, quiet)


async def set_preferences(conn: asyncpg.Connection, member_id: uuid.UUID, *, channels: dict[str, bool],
                          language: str | None, quiet_hours: "QuietHours | None | bool", updated_by: str) -> None:
    """Record the member's choices. `quiet_hours`: a window, None to go back to the default,
    False to leave as it is."""
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


# ---- quiet hours -------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuietHours:
    """A daily window in Beijing time in which no SMS goes out, e.g. 21:00-08:00 (may wrap
    midnight). start == end means no quiet hours."""
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> "QuietHours":
        """'21:00-08:00' -> QuietHours; '' or 'off' -> no window."""
        text = (text or "").strip()
        if text.lower() in ("", "off", "none"):
            return cls(time(0), time(0))
        a, b = (s.strip() for s in text.split("-", 1))
        return cls(time.fromisoformat(a), time.fromisoformat(b))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, at: datetime) -> bool:
        t = at.astimezone(BEIJING).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def ends_after(self, at: datetime) -> datetime:
        """When the window containing `at` ends (the morning), as an aware instant; `at` itself
        when it lies outside the window."""
        if not self.contains(at):
            return at
        local = at.astimezone(BEIJING)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=self.end.second, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(timezone.utc)


def _json(value) -> dict:
    if value is None:
        return {}
    if isinstance(value, str):
        return json.loads(value)
    return dict(value)
