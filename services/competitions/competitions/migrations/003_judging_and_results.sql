-- Judging (评分) and results (成绩公布). Scores stay integers of centipoints (hundredths of a
-- point); weights are basis points (10000 = 100 %). A NULL event_id means "the whole contest"
-- (a contest without events), so every rule below works with and without events.

-- How a contest judges and awards; created with the service defaults when first needed.
CREATE TABLE contest_judging_rules (
    contest_id              uuid PRIMARY KEY REFERENCES contests (id),
    theory_cap_bp           integer NOT NULL CHECK (theory_cap_bp BETWEEN 0 AND 10000),
    trim_min_judges         integer NOT NULL CHECK (trim_min_judges >= 3),
    spread_flag_centipoints integer NOT NULL CHECK (spread_flag_centipoints >= 0),
    team_score              text NOT NULL DEFAULT 'sum' CHECK (team_score IN ('sum', 'mean')),
    prize_basis             text NOT NULL DEFAULT 'count' CHECK (prize_basis IN ('count', 'share')),
    prize_first             integer NOT NULL DEFAULT 1 CHECK (prize_first >= 0),
    prize_second            integer NOT NULL DEFAULT 2 CHECK (prize_second >= 0),
    prize_third             integer NOT NULL DEFAULT 3 CHECK (prize_third >= 0),
    prize_excellence        integer NOT NULL DEFAULT 0 CHECK (prize_excellence >= 0),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    updated_by              text NOT NULL
);

-- 评分标准: the criteria of an event, replaced as a whole while nothing is scored against them.
CREATE TABLE scoring_criteria (
    id              uuid PRIMARY KEY,
    contest_id      uuid NOT NULL REFERENCES contests (id),
    event_id        uuid REFERENCES contest_events (id),
    name            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('theory', 'practical')),
    weight_bp       integer NOT NULL CHECK (weight_bp BETWEEN 1 AND 10000),
    max_centipoints integer NOT NULL CHECK (max_centipoints > 0),
    position        integer NOT NULL,
    created_by      text NOT NULL
);
CREATE UNIQUE INDEX scoring_criteria_name
    ON scoring_criteria (contest_id, COALESCE(event_id, '00000000-0000-0000-0000-000000000000'), name);

-- 评委: assigned per event (NULL: every event). `subject` is the judge's own staff token `sub`,
-- when they record scores themselves; `union_id` is their unit, for conflicts of interest.
CREATE TABLE contest_judges (
    id          uuid PRIMARY KEY,
    contest_id  uuid NOT NULL REFERENCES contests (id),
    event_id    uuid REFERENCES contest_events (id),
    judge_id    text NOT NULL,
    name        text NOT NULL,
    union_id    uuid NOT NULL,
    union_name  text NOT NULL,
    subject     text,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    assigned_by text NOT NULL
);
CREATE UNIQUE INDEX contest_judges_once
    ON contest_judges (contest_id, COALESCE(event_id, '00000000-0000-0000-0000-000000000000'), judge_id);

ALTER TABLE judge_scores ADD COLUMN criterion_id uuid REFERENCES scoring_criteria (id);

-- A competitor's recorded completion time (用时), for ties: an entry's or a team's.
CREATE TABLE completion_times (
    contest_id    uuid NOT NULL REFERENCES contests (id),
    competitor_id uuid NOT NULL,               -- contest_entries.id or contest_teams.id
    time_ms       integer NOT NULL CHECK (time_ms > 0),
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    recorded_by   text NOT NULL,
    PRIMARY KEY (contest_id, competitor_id)
);

-- Each publication of results is kept: revision 1, then one more per correction.
CREATE TABLE contest_results (
    contest_id        uuid NOT NULL REFERENCES contests (id),
    revision          integer NOT NULL CHECK (revision >= 1),
    published_at      timestamptz NOT NULL,
    published_by      text NOT NULL,
    correction_reason text,
    rankings          jsonb NOT NULL,           -- [{event_id, event_name, placings: [...]}]
    PRIMARY KEY (contest_id, revision)
);

-- 更正: who changed which score, why, from what to what, and the revision it produced.
CREATE TABLE score_corrections (
    id                uuid PRIMARY KEY,
    contest_id        uuid NOT NULL REFERENCES contests (id),
    score_id          uuid NOT NULL REFERENCES judge_scores (id),
    entry_id          uuid NOT NULL,
    judge_id          text NOT NULL,
    criterion         text NOT NULL,
    old_centipoints   integer NOT NULL,
    new_centipoints   integer NOT NULL,
    reason            text NOT NULL CHECK (length(reason) > 0),
    corrected_at      timestamptz NOT NULL DEFAULT now(),
    corrected_by      text NOT NULL,
    revision          integer                   -- the re-publication it led to (NULL before publication)
);
CREATE INDEX score_corrections_contest ON score_corrections (contest_id, corrected_at);

-- Published results and the correction trail are history: never rewritten.
CREATE FUNCTION competitions_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER contest_results_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON contest_results
    FOR EACH STATEMENT EXECUTE FUNCTION competitions_refuse_rewrite();
CREATE TRIGGER score_corrections_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON score_corrections
    FOR EACH STATEMENT EXECUTE FUNCTION competitions_refuse_rewrite();
