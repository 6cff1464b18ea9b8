-- Projections of membership's events; competitions never reads membership's database. No
-- foreign key between them: the two topics are consumed independently, so a member may arrive
-- before its union does.
CREATE TABLE org_units (
    org_id        uuid PRIMARY KEY,
    parent_id     uuid,
    org_path      uuid[] NOT NULL,            -- ids from the city root down to this unit
    name          text NOT NULL,
    level         text NOT NULL CHECK (level IN ('city', 'district', 'street', 'grassroots')),
    last_event_id uuid NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX org_units_path ON org_units USING gin (org_path);

CREATE TABLE members (
    member_id     uuid PRIMARY KEY,
    union_id      uuid NOT NULL,
    union_name    text NOT NULL,
    org_path      uuid[] NOT NULL,            -- ids from the city root down to the member's union
    name          text NOT NULL,
    gender        text NOT NULL CHECK (gender IN ('male', 'female')),  -- team rules need a woman
    joined_on     date NOT NULL,
    last_event_id uuid NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_org_path ON members USING gin (org_path);

-- A contest is organised by one unit and open to members of that unit's subtree.
CREATE TABLE contests (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('labour', 'skill', 'safety', 'energy', 'fun', 'knowledge')),
    org_id     uuid NOT NULL,
    org_path   uuid[] NOT NULL,               -- the organising unit's path: who may manage it
    starts_on  date,
    place      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL
);
CREATE INDEX contests_org_path ON contests USING gin (org_path);

-- Entries keep the member's union and path at registration, as the registration form would.
CREATE TABLE contest_entries (
    id            uuid PRIMARY KEY,
    contest_id    uuid NOT NULL REFERENCES contests (id),
    member_id     uuid NOT NULL,
    member_name   text NOT NULL,
    gender        text NOT NULL,
    union_id      uuid NOT NULL,
    union_name    text NOT NULL,
    org_path      uuid[] NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by text NOT NULL,
    UNIQUE (contest_id, member_id)             -- one entry per member per contest
);
CREATE INDEX contest_entries_contest ON contest_entries (contest_id, registered_at);

-- One judge's score on one criterion for one entry, in hundredths of a point (no floats).
CREATE TABLE judge_scores (
    id                uuid PRIMARY KEY,
    contest_id        uuid NOT NULL REFERENCES contests (id),
    entry_id          uuid NOT NULL REFERENCES contest_entries (id),
    judge_id          text NOT NULL,
    criterion         text NOT NULL,
    score_centipoints integer NOT NULL,
    max_centipoints   integer NOT NULL,
    scored_at         timestamptz NOT NULL DEFAULT now(),
    scored_by         text NOT NULL,
    CHECK (max_centipoints > 0 AND score_centipoints BETWEEN 0 AND max_centipoints),
    UNIQUE (entry_id, judge_id, criterion)     -- a judge scores a criterion once
);
CREATE INDEX judge_scores_contest ON judge_scores (contest_id, entry_id);
