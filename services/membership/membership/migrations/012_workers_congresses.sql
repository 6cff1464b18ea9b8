-- Democratic management (issue 14): workers' congresses (职代会) of one employer or
-- regional/industry ones (区域性、行业性职代会) of a street or industry union covering several small
-- employers; their delegates with terms, sessions, resolutions, democratic evaluation of managers
-- (民主评议干部) and delegates' proposals (提案); 厂务公开 per employer; labour-dispute mediation
-- committees (劳动争议调解委员会) of employers and of streets.

CREATE TABLE congresses (
    id                   uuid PRIMARY KEY,
    union_id             uuid NOT NULL REFERENCES org_units (id),  -- the union it belongs to (scope)
    kind                 text NOT NULL CHECK (kind IN ('employer', 'regional', 'industry')),
    name                 text NOT NULL,
    established_on       date NOT NULL,
    proposal_answer_days integer NOT NULL CHECK (proposal_answer_days BETWEEN 1 AND 90),
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX congresses_union ON congresses (union_id);

-- An employer is covered by one congress: its own, or the regional/industry one it belongs to.
CREATE TABLE congress_employers (
    congress_id uuid NOT NULL REFERENCES congresses (id),
    employer_id uuid NOT NULL UNIQUE REFERENCES employers (id),
    PRIMARY KEY (congress_id, employer_id)
);

CREATE TABLE congress_delegates (
    congress_id uuid NOT NULL REFERENCES congresses (id),
    member_id   uuid NOT NULL REFERENCES members (id),
    term_start  date NOT NULL,
    term_end    date NOT NULL,
    elected_on  date NOT NULL,
    elected_by  text NOT NULL,
    PRIMARY KEY (congress_id, member_id, term_start),
    CHECK (term_end > term_start)
);
CREATE INDEX congress_delegates_term ON congress_delegates (congress_id, term_start, term_end);

CREATE TABLE congress_sessions (
    id          uuid PRIMARY KEY,
    congress_id uuid NOT NULL REFERENCES congresses (id),
    held_on     date NOT NULL,
    electorate  integer NOT NULL CHECK (electorate > 0),   -- delegates in term on the day
    present     integer NOT NULL CHECK (present BETWEEN 0 AND electorate),
    quorate     boolean NOT NULL,                         -- two thirds present: only then "held"
    -- 民主评议干部 at this session: managers evaluated and the ballots' verdicts
    managers_evaluated  integer CHECK (managers_evaluated > 0),
    satisfied           integer CHECK (satisfied >= 0),
    basically_satisfied integer CHECK (basically_satisfied >= 0),
    dissatisfied        integer CHECK (dissatisfied >= 0),
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX congress_sessions_held ON congress_sessions (congress_id, held_on) WHERE quorate;

CREATE TABLE congress_resolutions (
    id         uuid PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES congress_sessions (id),
    title      text NOT NULL,
    in_favour  integer NOT NULL CHECK (in_favour >= 0),
    outcome    text NOT NULL CHECK (outcome IN ('adopted', 'rejected', 'inquorate'))
);
CREATE INDEX congress_resolutions_session ON congress_resolutions (session_id);

CREATE TABLE congress_proposals (
    id                uuid PRIMARY KEY,
    congress_id       uuid NOT NULL REFERENCES congresses (id),
    member_id         uuid NOT NULL REFERENCES members (id),   -- the proposing delegate
    title             text NOT NULL,
    content           text NOT NULL,
    submitted_on      date NOT NULL,
    answer_due_on     date NOT NULL,
    submitted_by      text NOT NULL,
    outcome           text CHECK (outcome IN ('adopted', 'not_adopted', 'for_reference')),
    answer            text,
    answered_on       date,
    answered_by       text,
    answered_late     boolean,
    overdue_raised_at timestamptz,    -- CongressProposalOverdue staged (once per proposal)
    CHECK ((answered_on IS NULL) = (outcome IS NULL))
);
CREATE INDEX congress_proposals_unanswered ON congress_proposals (answer_due_on)
    WHERE answered_on IS NULL AND overdue_raised_at IS NULL;
CREATE INDEX congress_proposals_congress ON congress_proposals (congress_id);

-- 厂务公开: the system in place at an employer, and each time it published.
CREATE TABLE openness_systems (
    employer_id    uuid PRIMARY KEY REFERENCES employers (id),
    established_on date NOT NULL,
    items          text[] NOT NULL,
    recorded_by    text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE openness_publications (
    id           bigserial PRIMARY KEY,
    employer_id  uuid NOT NULL REFERENCES openness_systems (employer_id),
    published_on date NOT NULL,
    items        text[] NOT NULL,
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX openness_publications_employer ON openness_publications (employer_id, published_on);

-- 劳动争议调解委员会: of one employer, or a street's (区域性) — exactly one of the two.
CREATE TABLE mediation_committees (
    id             uuid PRIMARY KEY,
    employer_id    uuid UNIQUE REFERENCES employers (id),
    street_id      uuid UNIQUE REFERENCES org_units (id),
    established_on date NOT NULL,
    members_count  integer NOT NULL CHECK (members_count >= 2),
    chair_name     text,
    recorded_by    text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((employer_id IS NULL) <> (street_id IS NULL))
);
