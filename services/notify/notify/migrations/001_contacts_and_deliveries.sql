-- How to reach each member, from the restricted contact topic. The phone number is kept
-- encrypted (AES-GCM, bound to the field name) and masked for display; it is never logged.
CREATE TABLE contacts (
    member_id    uuid PRIMARY KEY,
    name         text NOT NULL,
    email        text,
    phone_enc    bytea,
    phone_masked text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The members notify has seen join (MemberJoined): where they sit in the organisation tree,
-- for scoping deliveries of events that do not carry it (ContestScored).
CREATE TABLE members (
    member_id  uuid PRIMARY KEY,
    union_id   uuid NOT NULL,
    union_name text NOT NULL,
    org_path   uuid[] NOT NULL,
    joined_on  date NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per event × recipient × channel: the unique key makes a notification exactly once
-- however often its event is delivered. pending -> sending (leased) -> delivered | failed;
-- a temporary failure puts it back to pending with a later next_attempt_at.
CREATE TABLE deliveries (
    id                uuid PRIMARY KEY,            -- also the mail's Message-ID: the idempotency key
    source_event_id   uuid NOT NULL,
    source_event_type text NOT NULL,
    member_id         uuid NOT NULL,
    org_path          uuid[],                      -- the member's unit path, for staff scope
    channel           text NOT NULL CHECK (channel IN ('email', 'sms', 'webhook', 'inapp')),
    template          text NOT NULL,
    template_version  integer NOT NULL,
    context           jsonb NOT NULL,              -- what the template needs; no ID or phone number
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,  -- sends started
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    lease_expires_at  timestamptz,                 -- while sending: when another dispatcher may take over
    last_error        text,
    failure_reason    text,
    trace_headers     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    delivered_at      timestamptz,
    failed_at         timestamptz,
    UNIQUE (source_event_id, member_id, channel),
    CHECK ((status = 'sending') = (lease_expires_at IS NOT NULL))
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_leased ON deliveries (lease_expires_at) WHERE status = 'sending';
CREATE INDEX deliveries_member ON deliveries (member_id, created_at);
CREATE INDEX deliveries_org_path ON deliveries USING gin (org_path);

-- Wake the dispatcher when something may have become sendable: a new delivery, or a contact
-- (an address) arriving for deliveries that were waiting for one.
CREATE FUNCTION deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('deliveries', '');
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_notify AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify();
CREATE TRIGGER contacts_notify AFTER INSERT OR UPDATE ON contacts
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify();
