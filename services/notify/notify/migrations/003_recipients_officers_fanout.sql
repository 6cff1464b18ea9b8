-- Issue 6: deliveries to officers as well as members, the officers directory, the organisation
-- units and campaigns notify needs to word and address notices, and campaign fan-outs.

-- ---- recipients ------------------------------------------------------------------------------
-- A delivery goes to a member, an officer or a group-chat bot. The exactly-once key becomes
-- (source event, recipient kind, recipient id, channel). For member rows recipient_id is the
-- member id, so the new key is the old one with a constant added: no existing row can collide,
-- and both keys exist inside this migration's transaction until the old one is dropped.
ALTER TABLE deliveries ADD COLUMN recipient_kind text NOT NULL DEFAULT 'member'
    CHECK (recipient_kind IN ('member', 'officer', 'bot'));
ALTER TABLE deliveries ADD COLUMN recipient_id uuid;
UPDATE deliveries SET recipient_id = member_id;
ALTER TABLE deliveries ALTER COLUMN recipient_id SET NOT NULL;
-- An officer's delivery has no member as recipient (the member it is about, if any, is
-- subject_member_id); member rows keep member_id = recipient_id.
ALTER TABLE deliveries ALTER COLUMN member_id DROP NOT NULL;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_member_is_recipient
    CHECK (recipient_kind <> 'member' OR member_id = recipient_id);
ALTER TABLE deliveries ADD CONSTRAINT deliveries_once UNIQUE (source_event_id, recipient_kind, recipient_id, channel);
ALTER TABLE deliveries DROP CONSTRAINT deliveries_source_event_id_member_id_channel_key;
CREATE INDEX deliveries_recipient ON deliveries (recipient_kind, recipient_id, created_at);

-- Writers that only know member_id (older code, tests, bots keyed by member_id) stay valid.
CREATE FUNCTION deliveries_default_recipient() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.recipient_id := coalesce(NEW.recipient_id, NEW.member_id);
    RETURN NEW;
END $$;
CREATE TRIGGER deliveries_default_recipient BEFORE INSERT ON deliveries
    FOR EACH ROW EXECUTE FUNCTION deliveries_default_recipient();

-- ---- organisation units (UnionEstablished; paths follow UnionMoved) ------------------------
CREATE TABLE org_units (
    org_id     uuid PRIMARY KEY,
    name       text NOT NULL,
    level      text NOT NULL,
    org_path   uuid[] NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Members who left get no campaign notices (MemberLeft).
ALTER TABLE members ADD COLUMN left_on date;

-- ---- officers directory ----------------------------------------------------------------------
-- Staff who receive work items and copies: resolved by role and unit (nearest unit upward on
-- the path that has an active officer with the role). Phone encrypted like members' phones.
CREATE TABLE officers (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    org_id        uuid NOT NULL,
    org_path      uuid[] NOT NULL,                  -- root first, ends with org_id; rewritten on UnionMoved
    roles         text[] NOT NULL CHECK (cardinality(roles) > 0),
    email         text,
    phone_enc     bytea,
    phone_masked  text,
    inapp_user_id text,                             -- the staff account (token subject) in the app
    active        boolean NOT NULL DEFAULT true,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX officers_unit ON officers (org_id) WHERE active;
CREATE INDEX officers_org_path ON officers USING gin (org_path);
CREATE UNIQUE INDEX officers_inapp_user ON officers (inapp_user_id) WHERE inapp_user_id IS NOT NULL;

-- Name and address of any recipient, for the dispatcher's claim:
--   JOIN delivery_recipients r ON (r.kind, r.id) = (d.recipient_kind, d.recipient_id)
CREATE VIEW delivery_recipients AS
    SELECT 'member'::text AS kind, c.member_id AS id, c.name, c.email, c.phone_enc, c.member_id::text AS inapp_user_id
    FROM contacts c
    UNION ALL
    SELECT 'officer'::text, o.id, o.name, o.email, o.phone_enc, o.inapp_user_id
    FROM officers o;

CREATE TRIGGER officers_notify AFTER INSERT OR UPDATE ON officers
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify();

-- ---- campaigns (CampaignLaunched), for wording payments of a campaign -----------------------
CREATE TABLE campaigns (
    campaign_id uuid PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL,
    org_id      uuid NOT NULL,
    org_path    uuid[] NOT NULL,
    starts_on   date NOT NULL,
    ends_on     date NOT NULL
);

-- ---- fan-outs --------------------------------------------------------------------------------
-- One row per fanned-out event. The consumer inserts it (exactly once: the key is the event id);
-- the fan-out worker then creates the deliveries chunk by chunk, keyset-paginated over members
-- by member_id, advancing `cursor` in the same transaction as each chunk's INSERT … SELECT.
CREATE TABLE fanouts (
    source_event_id   uuid PRIMARY KEY,
    source_event_type text NOT NULL,
    org_id            uuid NOT NULL,
    org_path          uuid[] NOT NULL,                -- the scope: every member under org_id
    template          text NOT NULL,
    template_version  integer NOT NULL,
    context           jsonb NOT NULL,
    trace_headers     jsonb NOT NULL DEFAULT '{}'::jsonb,
    status            text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
    members_total     integer NOT NULL,               -- members in scope when the event arrived
    members_done      integer NOT NULL DEFAULT 0,     -- members the worker went past
    created           integer NOT NULL DEFAULT 0,     -- deliveries created (member × channel)
    cursor            uuid,                           -- last member id handled
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz
);
CREATE INDEX fanouts_running ON fanouts (started_at) WHERE status = 'running';
CREATE INDEX members_org_path ON members USING gin (org_path);

CREATE FUNCTION fanouts_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fanouts', '');
    RETURN NULL;
END $$;
CREATE TRIGGER fanouts_notify AFTER INSERT ON fanouts
    FOR EACH STATEMENT EXECUTE FUNCTION fanouts_notify();
