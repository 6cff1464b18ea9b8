-- Hardship files (困难职工建档), one per household, and visits (走访慰问).
-- Health, family, income and ID numbers are encrypted by the service (AES-GCM, field name as
-- associated data); only keyed hashes of ID numbers are kept in clear, for de-duplication.

-- Minimum living standard (低保), monthly, per organisation unit (usually a district; the city
-- root's value is the default). The standard that applies to a member is the one of the nearest
-- unit on their path, effective on the day in question.
CREATE TABLE minimum_living_standards (
    org_id         uuid NOT NULL,
    effective_from date NOT NULL,
    monthly_fen    bigint NOT NULL CHECK (monthly_fen > 0),
    set_by         text NOT NULL,
    set_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, effective_from)
);

-- The file. Other parts of welfare (campaigns, cases: 先建档、后帮扶) read the columns up to
-- retain_until; keep them stable.
CREATE TABLE hardship_files (
    id                uuid PRIMARY KEY,
    member_id         uuid NOT NULL REFERENCES members (member_id),
    union_id          uuid NOT NULL,              -- the member's union at opening: it keeps the file
    union_name        text NOT NULL,
    org_path          uuid[] NOT NULL,            -- that union's path; follows UnionMoved
    file_kind         text NOT NULL CHECK (file_kind IN ('worker', 'model_worker')),
    level             text NOT NULL CHECK (level IN ('deep', 'relative', 'accident')),
    status            text NOT NULL CHECK (status IN ('open', 'closed')),
    opened_on         date NOT NULL,
    review_due_on     date NOT NULL,
    review_overdue    boolean NOT NULL DEFAULT false,   -- not re-verified in time: not eligible for campaigns
    closed_on         date,
    retain_until      date,                       -- closed_on + 10 years
    -- what the level was computed from (clear: category codes and public standards only)
    causes            text[] NOT NULL,
    household_size    integer NOT NULL CHECK (household_size > 0),
    minimum_living_standard_fen bigint NOT NULL,
    last_reviewed_on  date,
    household_revision integer NOT NULL DEFAULT 1,  -- the household_members revision now in force
    close_reason      text CHECK (close_reason IN ('out_of_hardship', 'member_left', 'deceased', 'duplicate', 'other')),
    -- income and costs (fen, as decimal text) and the staff's notes: encrypted
    annual_income_enc      bytea NOT NULL,
    unavoidable_costs_enc  bytea NOT NULL,
    largest_event_cost_enc bytea NOT NULL,
    per_capita_monthly_enc bytea NOT NULL,
    close_note_enc    bytea,
    opened_by         text NOT NULL,
    closed_by         text,
    opened_at         timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'open') = (closed_on IS NULL)),
    CHECK (status = 'open' OR (retain_until IS NOT NULL AND close_reason IS NOT NULL))
);
-- At most one open file per member (a member's household is one household).
CREATE UNIQUE INDEX hardship_files_one_open_per_member ON hardship_files (member_id) WHERE status = 'open';
CREATE INDEX hardship_files_org_path ON hardship_files USING gin (org_path);
CREATE INDEX hardship_files_review_due ON hardship_files (review_due_on) WHERE status = 'open';

-- The household entered by staff (welfare receives no ID numbers from membership).
-- `open_file` mirrors the file's status so that one unique index makes "one person, one open
-- file" hold under concurrency: a person shared with another open file is a duplicate household.
-- Each review adds a revision; earlier ones are kept (audit) with open_file = false.
CREATE TABLE household_members (
    file_id          uuid NOT NULL REFERENCES hardship_files (id),
    revision         integer NOT NULL,
    position         integer NOT NULL,
    relation         text NOT NULL,
    id_number_hash   text NOT NULL,               -- HMAC of the resident ID number
    open_file        boolean NOT NULL,
    name_enc         bytea NOT NULL,
    id_number_enc    bytea NOT NULL,
    health_enc       bytea,
    disability_enc   bytea,
    employment_enc   bytea,
    monthly_income_enc bytea NOT NULL,
    PRIMARY KEY (file_id, revision, position)
);
CREATE UNIQUE INDEX household_members_one_open_file_per_person ON household_members (id_number_hash)
    WHERE open_file;
CREATE INDEX household_members_hash ON household_members (id_number_hash);

-- Every opening, review and closing of a file, in order, with who did it (audit trail; no
-- sensitive detail).
CREATE TABLE hardship_file_history (
    id          bigserial PRIMARY KEY,
    file_id     uuid NOT NULL REFERENCES hardship_files (id),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,                    -- opened, reviewed, flagged_overdue, closed
    actor       text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX hardship_file_history_file ON hardship_file_history (file_id, id);

-- Visits (走访慰问, 五必访), recorded against the member. Scope is checked against the member's
-- current path (members.org_path), so a member's visit history follows them.
CREATE TABLE visits (
    id           uuid PRIMARY KEY,
    member_id    uuid NOT NULL REFERENCES members (member_id),
    union_id     uuid NOT NULL,                   -- the member's union on the day of the visit
    kind         text NOT NULL CHECK (kind IN ('sick_or_hospitalised', 'bereaved', 'in_hardship', 'family_change',
                                                'major_event', 'other')),
    visited_on   date NOT NULL,
    visitors     text[] NOT NULL,
    notes_enc    bytea NOT NULL,
    gift_fen     bigint CHECK (gift_fen >= 0),
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visits_member ON visits (member_id, visited_on DESC);
