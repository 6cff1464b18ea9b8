-- Issue 6: channel preferences, language, the in-app inbox and the webhook bots.

-- Per member and channel: an explicit opt-in (true) or opt-out (false). No row = the default
-- of preferences.channels_for (e-mail and in-app on, SMS only for urgent notices).
CREATE TABLE channel_preferences (
    member_id  uuid NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('email', 'sms', 'webhook', 'inapp')),
    opted_in   boolean NOT NULL,
    updated_by text NOT NULL,                      -- the token subject who set it (member or staff)
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, channel)
);

-- The member's language for templates (NULL = zh-CN) and own SMS quiet hours (Beijing time;
-- NULL = the service default NOTIFY_QUIET_HOURS; start = end: none).
CREATE TABLE member_settings (
    member_id   uuid PRIMARY KEY,
    language    text,
    quiet_start time,
    quiet_end   time,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- In-app messages: one per `inapp` delivery (id = delivery id, so a re-run of the same
-- delivery cannot write a second message). Written in the transaction that marks it delivered.
-- member_id is the recipient: a member, or an officer when recipient_kind = 'officer'.
CREATE TABLE inbox_messages (
    id                uuid PRIMARY KEY REFERENCES deliveries (id),
    recipient_kind    text NOT NULL DEFAULT 'member',
    member_id         uuid NOT NULL,
    org_path          uuid[],
    source_event_type text NOT NULL,
    template          text NOT NULL,
    subject           text NOT NULL,
    body              text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    read_at           timestamptz
);
CREATE INDEX inbox_messages_member ON inbox_messages (member_id, created_at DESC);
CREATE INDEX inbox_messages_unread ON inbox_messages (member_id) WHERE read_at IS NULL;

-- Group-chat robots (DingTalk / WeCom style), one per organisation unit or officer group.
-- A `webhook` delivery's recipient (deliveries.recipient_id, recipient_kind 'bot' — see 003) is
-- the bot's id; the member it is about, if any, is deliveries.subject_member_id (name masked).
CREATE TABLE webhook_bots (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    org_unit_id   uuid NOT NULL,
    org_path      uuid[] NOT NULL,                 -- the unit's path, root first (staff scope)
    officer_group text,                            -- NULL: the unit's own group chat
    flavour       text NOT NULL DEFAULT 'dingtalk' CHECK (flavour IN ('dingtalk', 'wecom')),
    url           text NOT NULL,
    secret_enc    bytea,                           -- signing secret, encrypted with the vault
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX webhook_bots_target ON webhook_bots (org_unit_id, coalesce(officer_group, ''));

ALTER TABLE deliveries ADD COLUMN subject_member_id uuid;

-- Failed deliveries bound for `notify.delivery.v1.dlq`, written in the transaction that fails
-- the delivery (like the outbox, which cannot carry the failure headers); the dispatcher
-- publishes them with the failure in Kafka headers and stamps published_at. Key: delivery id.
CREATE TABLE delivery_dlq (
    delivery_id  uuid PRIMARY KEY REFERENCES deliveries (id),
    reason       text NOT NULL,
    error        text,
    attempts     integer NOT NULL,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX delivery_dlq_unpublished ON delivery_dlq (created_at) WHERE published_at IS NULL;
