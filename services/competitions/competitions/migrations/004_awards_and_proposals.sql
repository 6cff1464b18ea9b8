-- Awards (安康杯, nominations for 五一劳动奖章/奖状, 工人先锋号, 劳模) and rationalisation
-- proposals (合理化建议). Rows name their unit by id only: scope checks read the unit's path
-- from org_units, whose paths follow UnionMoved, so nothing here needs rewriting on a move.

-- The nominations' migrant-worker quota needs the flag MemberJoined carries. Members projected
-- before this migration read false until membership's events are replayed.
ALTER TABLE members ADD COLUMN is_migrant_worker boolean NOT NULL DEFAULT false;

-- ---- 安康杯 ---------------------------------------------------------------------------------------
-- One checklist per organising unit and year: items with full marks, and the year's threshold.
CREATE TABLE ankang_checklists (
    id                    uuid PRIMARY KEY,
    org_id                uuid NOT NULL,          -- the organiser; its staff score
    year                  integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    threshold_centipoints integer NOT NULL CHECK (threshold_centipoints > 0),
    created_by            text NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, year)
);

CREATE TABLE ankang_checklist_items (
    checklist_id    uuid NOT NULL REFERENCES ankang_checklists (id),
    code            text NOT NULL,
    title           text NOT NULL,
    max_centipoints integer NOT NULL CHECK (max_centipoints > 0),
    position        integer NOT NULL,
    PRIMARY KEY (checklist_id, code)
);

-- One score per item per unit, given once by the organiser's staff (who and when kept).
CREATE TABLE ankang_scores (
    checklist_id      uuid NOT NULL,
    unit_id           uuid NOT NULL,
    item_code         text NOT NULL,
    score_centipoints integer NOT NULL CHECK (score_centipoints >= 0),
    scored_by         text NOT NULL,
    scored_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (checklist_id, unit_id, item_code),
    FOREIGN KEY (checklist_id, item_code) REFERENCES ankang_checklist_items (checklist_id, code)
);

-- ---- awards granted ----------------------------------------------------------------------------
-- Every title granted here, for a unit (安康杯, 奖状, 工人先锋号) or a member (奖章, 劳模).
CREATE TABLE awards (
    id              uuid PRIMARY KEY,
    award           text NOT NULL,                -- ankang_cup, may_day_medal, …
    title           text NOT NULL,
    year            integer NOT NULL,
    union_id        uuid,
    member_id       uuid,
    org_id          uuid NOT NULL,                -- the granting (organising) unit
    checklist_id    uuid REFERENCES ankang_checklists (id),
    batch_id        uuid,
    total_centipoints integer,
    granted_on      date NOT NULL,
    granted_by      text NOT NULL,
    granted_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (union_id IS NOT NULL OR member_id IS NOT NULL)
);
CREATE INDEX awards_union ON awards (award, union_id, year);
CREATE INDEX awards_member ON awards (member_id);
-- A unit wins a year's 安康杯 once; the five-year rule is checked under a per-unit lock.
CREATE UNIQUE INDEX awards_ankang_once_a_year ON awards (union_id, year) WHERE award = 'ankang_cup';

-- ---- nominations -------------------------------------------------------------------------------
CREATE TABLE nomination_batches (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL,                   -- the organising (nominating) unit
    award        text NOT NULL,
    year         integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'granted')),
    quotas       jsonb,                           -- the quotas in force when submitted
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    submitted_by text,
    submitted_at timestamptz,
    granted_by   text,
    granted_at   timestamptz,
    UNIQUE (org_id, award, year)
);

-- A nominee: a member (individual awards) or a unit with the collective's name. gender and the
-- migrant flag are copied from the members projection when nominated, as the form records them;
-- front_line and unit_head are entered by staff.
CREATE TABLE nominees (
    id              uuid PRIMARY KEY,
    batch_id        uuid NOT NULL REFERENCES nomination_batches (id),
    award           text NOT NULL,
    year            integer NOT NULL,
    member_id       uuid,
    union_id        uuid NOT NULL,                -- the member's union, or the nominated unit
    name            text NOT NULL,                -- the member's name, or the collective's
    gender          text,
    migrant_worker  boolean NOT NULL DEFAULT false,
    front_line      boolean NOT NULL,
    unit_head       boolean NOT NULL DEFAULT false,
    nominated_by    text NOT NULL,
    nominated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX nominees_batch ON nominees (batch_id, nominated_at);
-- One nomination per member per award and year, whichever unit nominates.
CREATE UNIQUE INDEX nominees_member_once ON nominees (award, year, member_id) WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX nominees_collective_once ON nominees (batch_id, union_id, name) WHERE member_id IS NULL;

-- ---- 合理化建议 ------------------------------------------------------------------------------------
CREATE TABLE proposals (
    id                  uuid PRIMARY KEY,
    member_id           uuid NOT NULL,
    union_id            uuid NOT NULL,            -- the member's union when submitted; it answers
    member_name         text NOT NULL,
    title               text NOT NULL,
    content             text NOT NULL,
    major               boolean NOT NULL DEFAULT false,
    status              text NOT NULL CHECK (status IN ('submitted', 'assigned', 'under_study', 'not_adopted',
                                                        'adopted', 'implemented', 'rewarded')),
    submitted_on        date NOT NULL,
    submitted_by        text NOT NULL,
    submitted_via       text NOT NULL CHECK (submitted_via IN ('member', 'staff')),
    submitted_at        timestamptz NOT NULL DEFAULT now(),
    answer_due_on       date NOT NULL,
    assignee            text,
    assignee_unit       text,
    assigned_by         text,
    assigned_at         timestamptz,
    outcome             text CHECK (outcome IN ('adopted', 'not_adopted', 'under_study')),
    answer              text,
    first_answered_on   date,                     -- 有答复: the date the duty to answer was met
    answered_on         date,
    answered_by         text,
    answered_late       boolean,
    implemented_on      date,
    implementation_note text,
    implemented_by      text,
    effect              text,
    award_grade         text CHECK (award_grade IN ('first', 'second', 'third', 'encouragement')),
    reward_fen          bigint CHECK (reward_fen >= 0),
    rewarded_by         text,
    rewarded_at         timestamptz
);
CREATE INDEX proposals_union ON proposals (union_id, submitted_on);
CREATE INDEX proposals_member ON proposals (member_id, submitted_on);
CREATE INDEX proposals_unanswered ON proposals (answer_due_on) WHERE first_answered_on IS NULL;

-- Every step with who and when (有征集、有答复、有落实、有效果). Append-only.
CREATE TABLE proposal_history (
    id          bigserial PRIMARY KEY,
    proposal_id uuid NOT NULL REFERENCES proposals (id),
    action      text NOT NULL,
    actor       text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX proposal_history_proposal ON proposal_history (proposal_id, id);

CREATE FUNCTION competitions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER proposal_history_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON proposal_history
    FOR EACH STATEMENT EXECUTE FUNCTION competitions_append_only();
