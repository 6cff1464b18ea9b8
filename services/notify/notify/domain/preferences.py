"""Which channels reach a member, when SMS may go out, and in which language (the rules; the
query is `queries.channels_for(conn, member_ids, notice_kind)` -> {member_id: ["email", ...]}).

`notice_kind` is the template name of the notice (e.g. "member_joined", "case_approved").
Built-in default per member: "email" and "inapp"; SMS is opt-in — "sms" only when the member
opted in or the notice kind is urgent (URGENT_NOTICE_KINDS). An office may set its own default
per notice kind and channel for its subtree (notice_defaults: the nearest unit on the member's
path that has one decides); the member's own choice for a channel always wins over both. The choice does not look at the contact: a delivery on a channel
the member has no address for ends `undeliverable`, visible in the member's deliveries, not failed
(`commands.deliveries.settle_unaddressable`); one whose contact may still come waits for it. An explicit opt-out
(channel_preferences.opted_in = false) always wins, for urgent notices too. "webhook" is never
a member's channel: group-chat bots are recipients of their own, chosen by the notice kinds they
subscribed to (`commands.deliveries.create_for_bots`).

Webhook deliveries: one per event x bot: recipient_kind 'bot', recipient_id = the bot's id,
member_id NULL, subject_member_id = the member the message is about (its name is shown masked)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from notify.domain.templates import BEIJING

CHANNELS = ("email", "sms", "webhook", "inapp")
MEMBER_CHANNELS = ("email", "sms", "inapp")
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGES = ("zh-CN", "en")

# Notices important enough for an SMS without an opt-in (still not against an opt-out).
URGENT_NOTICE_KINDS: frozenset[str] = frozenset({
    "case_approved", "aid_disbursed", "visit_gift_paid", "aid_reversed", "campaign_payment_made", "hotline_ticket_overdue",
    "dispute_arbitration_open",
})


def default_channels(notice_kind: str, *, sms_opt_in: bool | None,
                     email_opt_in: bool | None, inapp_opt_in: bool | None,
                     office: dict[str, bool] | None = None) -> list[str]:
    """The rule, free of I/O. `*_opt_in`: True/False when the member chose, None when not;
    `office`: the office's defaults for this kind on the member's path ({channel: on})."""
    chosen = {"email": email_opt_in, "sms": sms_opt_in, "inapp": inapp_opt_in}
    defaults = built_in_defaults(notice_kind) | (office or {})
    return [c for c in MEMBER_CHANNELS if (chosen[c] if chosen[c] is not None else defaults[c])]


def built_in_defaults(notice_kind: str) -> dict[str, bool]:
    """Without any choice: e-mail and in-app on; SMS (opt-in) only for the urgent kinds."""
    return {"email": True, "sms": notice_kind in URGENT_NOTICE_KINDS, "inapp": True}


# The notices members get (template names), for which an office may set defaults and the
# preferences API shows them. Officers' work items and group-chat copies are not among them.
MEMBER_NOTICE_KINDS: tuple[str, ...] = (
    "member_joined", "member_registered", "member_transferred", "transfer_requested", "transfer_request_closed",
    "case_opened", "case_approved", "case_rejected", "aid_disbursed", "visit_gift_paid", "aid_reversed", "campaign_started",
    "campaign_payment_made", "contest_scored", "contest_results", "team_registered", "team_promoted", "team_waitlisted", "proposal_answered",
    "congress_delegate_elected", "congress_proposal_answered",
    "dispute_registered", "dispute_mediated", "dispute_failed", "dispute_arbitration_open", "dispute_referred",
    "training_enrolled", "training_completed",
)


@dataclass(frozen=True)
class Preferences:
    channels: dict[str, bool]        # explicit choices only
    language: str
    quiet_hours: "QuietHours | None"  # None: the service default


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
