-- The case workflow (welfare.cases): opened → assessed → [district_reviewed, 金秋助学 only] →
-- approved | rejected → paid → closed; withdrawn cases are closed with outcome 'withdrawn'.
ALTER TABLE assistance_cases DROP CONSTRAINT assistance_cases_status_check;
ALTER TABLE assistance_cases ADD CONSTRAINT assistance_cases_status_check
    CHECK (status IN ('opened', 'assessed', 'district_reviewed', 'approved', 'rejected', 'paid', 'closed'));
ALTER TABLE assistance_cases
    ADD COLUMN proposed_amount_fen  bigint CHECK (proposed_amount_fen >= 0),
    ADD COLUMN findings_enc         bytea,          -- the assessor's findings: health, income, family
    ADD COLUMN assessed_by          text,
    ADD COLUMN assessed_on          date,
    ADD COLUMN district_reviewed_by text,
    ADD COLUMN district_reviewed_on date,
    ADD COLUMN approved_amount_fen  bigint CHECK (approved_amount_fen >= 0),
    ADD COLUMN fund_id              uuid REFERENCES funds (id),
    ADD COLUMN commitment_id        uuid REFERENCES ledger_entries (id),   -- NULL when nothing is paid
    ADD COLUMN approved_by          text,
    ADD COLUMN approved_on          date,
    ADD COLUMN rejected_reason      text CHECK (rejected_reason IN ('not_eligible', 'no_hardship_file', 'duplicate',
                                                                    'insufficient_evidence', 'over_cap', 'other')),
    ADD COLUMN rejected_by          text,
    ADD COLUMN rejected_on          date,
    ADD COLUMN disbursement_id      uuid REFERENCES ledger_entries (id),
    ADD COLUMN paid_by              text,
    ADD COLUMN paid_on              date,
    ADD COLUMN outcome              text CHECK (outcome IN ('paid', 'rejected', 'withdrawn', 'referred')),
    ADD COLUMN closed_by            text,
    ADD COLUMN closed_on            date,
    ADD COLUMN hotline_ticket_id    uuid,           -- the 12351 ticket the case was opened from
    ADD CONSTRAINT assistance_cases_closed_has_outcome CHECK ((status = 'closed') = (outcome IS NOT NULL)),
    ADD CONSTRAINT assistance_cases_paid_has_entry CHECK (status NOT IN ('paid') OR disbursement_id IS NOT NULL);
CREATE INDEX assistance_cases_status ON assistance_cases (status, kind);

-- 金秋助学: the student an education case is for. The ID number is kept encrypted and as a keyed
-- hash; `live` is false once the case is rejected or withdrawn, so the unique index says "one
-- grant per student per year" under concurrency.
CREATE TABLE golden_autumn_students (
    case_id           uuid PRIMARY KEY REFERENCES assistance_cases (id),
    grant_year        integer NOT NULL,
    school_level      text NOT NULL CHECK (school_level IN ('primary', 'junior_high', 'senior_high', 'vocational',
                                                             'junior_college', 'undergraduate', 'postgraduate')),
    tier_amount_fen   bigint NOT NULL CHECK (tier_amount_fen > 0),
    student_name_enc  bytea NOT NULL,
    student_id_hash   text NOT NULL,
    student_id_enc    bytea NOT NULL,
    live              boolean NOT NULL DEFAULT true
);
CREATE UNIQUE INDEX golden_autumn_one_grant_per_student_year ON golden_autumn_students (student_id_hash, grant_year)
    WHERE live;

-- 公示: the masked list of approved education cases of a unit, up for N working days. The
-- entries are written once, masked, and never show more than name, school level and amount.
CREATE TABLE golden_autumn_notices (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL,                 -- the unit whose cases are listed
    title        text NOT NULL,
    posted_on    date NOT NULL,
    ends_on      date NOT NULL,                 -- the last working day of the notice
    payable_from date NOT NULL,                 -- the day after ends_on
    posted_by    text NOT NULL,
    posted_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on > posted_on AND payable_from > ends_on)
);
CREATE TABLE golden_autumn_notice_entries (
    notice_id     uuid NOT NULL REFERENCES golden_autumn_notices (id),
    position      integer NOT NULL,
    case_id       uuid NOT NULL UNIQUE REFERENCES assistance_cases (id),   -- a case is posted once
    member_name   text NOT NULL,                -- masked (张*), as written: never the full name
    student_name  text NOT NULL,                -- masked
    school_level  text NOT NULL,
    amount_fen    bigint NOT NULL CHECK (amount_fen > 0),
    PRIMARY KEY (notice_id, position)
);

-- 12351 hotline tickets (工单). The summary and resolution hold what the caller said: encrypted.
CREATE TABLE hotline_tickets (
    id             uuid PRIMARY KEY,
    org_id         uuid NOT NULL,               -- the responsible unit
    org_path       uuid[] NOT NULL,             -- its path, for scope
    member_id      uuid REFERENCES members (member_id),   -- the caller, when a known member
    category       text NOT NULL CHECK (category IN ('general', 'difficult', 'complex')),
    summary_enc    bytea NOT NULL,
    status         text NOT NULL CHECK (status IN ('open', 'assigned', 'resolved')),
    opened_by      text NOT NULL,
    opened_at      timestamptz NOT NULL DEFAULT now(),
    due_at         timestamptz NOT NULL,
    assignee       text,
    assigned_by    text,
    assigned_at    timestamptz,
    resolution_enc bytea,
    resolved_by    text,
    resolved_at    timestamptz,
    satisfaction   smallint CHECK (satisfaction BETWEEN 1 AND 5),
    rated_at       timestamptz,
    overdue_at     timestamptz,                 -- set once, when the overdue check first saw it late
    case_id        uuid REFERENCES assistance_cases (id),
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
    CHECK (satisfaction IS NULL OR status = 'resolved')
);
CREATE INDEX hotline_tickets_org_path ON hotline_tickets USING gin (org_path);
CREATE INDEX hotline_tickets_due ON hotline_tickets (due_at) WHERE overdue_at IS NULL AND status <> 'resolved';

-- What happened to a ticket, in order, with who did it (audit trail; no caller detail).
CREATE TABLE hotline_ticket_history (
    id          bigserial PRIMARY KEY,
    ticket_id   uuid NOT NULL REFERENCES hotline_tickets (id),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,                  -- opened, assigned, resolved, rated, overdue, case_opened
    actor       text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX hotline_ticket_history_ticket ON hotline_ticket_history (ticket_id, id);
