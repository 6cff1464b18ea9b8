-- The members welfare may aid: a projection of membership's MemberJoined events. Welfare never
-- reads membership's database; no ID number or phone ever reaches it.
CREATE TABLE members (
    member_id         uuid PRIMARY KEY,
    union_id          uuid NOT NULL,
    union_name        text NOT NULL,
    org_path          uuid[] NOT NULL,        -- ids from the city root down to the member's union
    name              text NOT NULL,
    gender            text NOT NULL CHECK (gender IN ('male', 'female')),
    is_migrant_worker boolean NOT NULL DEFAULT false,
    joined_on         date NOT NULL,
    last_event_id     uuid NOT NULL,          -- the event this row was last written from
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_org_path ON members USING gin (org_path);

-- Assistance cases (帮扶案件). The case keeps the union and path of the member when it was
-- opened: that union handles it, and staff scope is checked against that path.
CREATE TABLE assistance_cases (
    id          uuid PRIMARY KEY,
    member_id   uuid NOT NULL REFERENCES members (member_id),
    union_id    uuid NOT NULL,
    org_path    uuid[] NOT NULL,
    kind        text NOT NULL
                CHECK (kind IN ('living', 'medical', 'education', 'employment', 'legal', 'temporary')),
    source      text NOT NULL CHECK (source IN ('application', 'visit', 'hotline')),
    -- The whole lifecycle is allowed here so later steps need no constraint change.
    status      text NOT NULL CHECK (status IN ('opened', 'assessed', 'approved', 'paid', 'closed')),
    summary_enc bytea NOT NULL,               -- health and family circumstances: encrypted at rest
    opened_on   date NOT NULL,
    opened_at   timestamptz NOT NULL DEFAULT now(),
    opened_by   text NOT NULL
);
CREATE INDEX assistance_cases_member ON assistance_cases (member_id, opened_at);
CREATE INDEX assistance_cases_org_path ON assistance_cases USING gin (org_path);

-- Every status change of a case, in order, with who made it (audit trail).
CREATE TABLE case_history (
    id          bigserial PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES assistance_cases (id),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    status      text NOT NULL,
    actor       text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX case_history_case ON case_history (case_id, id);
