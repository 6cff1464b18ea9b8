-- Issue 14: labour-dispute mediation (劳动争议调解) at a union's mediation committee, and referral
-- of the worker to legal aid (法律援助) as an assistance case of kind 'legal'.

-- A dispute registered at a unit (the employer's grassroots union or a street union's mediation
-- committee). The worker is a member (member_id) or, not being one, named only (worker_name): no
-- contact is kept for a non-member. Claim, agreement terms and session notes are free text that
-- may hold health or family detail: encrypted at rest, never in an event.
CREATE TABLE labour_disputes (
    id                    uuid PRIMARY KEY,
    unit_id               uuid NOT NULL,
    org_path              uuid[] NOT NULL,               -- the unit's: scope of who may see and act
    application_form      text NOT NULL CHECK (application_form IN ('written', 'oral')),
    applied_on            date NOT NULL,                 -- the 15 days of Art. 14 count from it
    oral_recorded_by      text,                          -- an oral application: the officer who wrote it down
    oral_recorded_at      timestamptz,
    member_id             uuid REFERENCES members (member_id),
    worker_name           text CHECK (length(worker_name) BETWEEN 1 AND 50),
    employer_name         text NOT NULL CHECK (length(employer_name) BETWEEN 1 AND 100),
    employer_credit_code  text CHECK (length(employer_credit_code) = 18),
    kind                  text NOT NULL
                          CHECK (kind IN ('pay', 'contract', 'dismissal', 'injury', 'social_insurance', 'other')),
    workers_concerned     integer NOT NULL CHECK (workers_concerned >= 1),
    collective            boolean NOT NULL,              -- ten or more workers (集体劳动争议)
    claim_enc             bytea NOT NULL,
    status                text NOT NULL DEFAULT 'mediating' CHECK (status IN ('mediating', 'agreed', 'failed')),
    agreed_on             date,
    agreement_terms_enc   bytea,
    agreement_amount_fen  bigint CHECK (agreement_amount_fen >= 0),
    failed_on             date,
    failure_reason        text CHECK (failure_reason IN ('no_agreement', 'party_refused', 'party_absent', 'other')),
    concluded_by          text,
    arbitration_raised_at timestamptz,                   -- DisputeArbitrationOpen staged (once)
    legal_aid_case_id     uuid UNIQUE REFERENCES assistance_cases (id),
    referred_on           date,
    referred_by           text,
    opened_by             text NOT NULL,
    opened_at             timestamptz NOT NULL DEFAULT now(),
    CHECK ((application_form = 'oral') = (oral_recorded_by IS NOT NULL AND oral_recorded_at IS NOT NULL)),
    CHECK ((member_id IS NULL) = (worker_name IS NOT NULL)),
    CHECK ((status = 'agreed') = (agreed_on IS NOT NULL AND agreement_terms_enc IS NOT NULL)),
    CHECK ((status = 'failed') = (failed_on IS NOT NULL AND failure_reason IS NOT NULL)),
    CHECK ((legal_aid_case_id IS NULL) = (referred_on IS NULL))
);
CREATE INDEX labour_disputes_org_path ON labour_disputes USING gin (org_path);
CREATE INDEX labour_disputes_applied ON labour_disputes (applied_on);
-- What the 15-day check reads: disputes still in mediation and not yet reported.
CREATE INDEX labour_disputes_awaiting_arbitration ON labour_disputes (applied_on)
    WHERE status = 'mediating' AND arbitration_raised_at IS NULL;

-- Mediation sessions (调解记录): the note is encrypted like the claim.
CREATE TABLE labour_dispute_sessions (
    id          bigserial PRIMARY KEY,
    dispute_id  uuid NOT NULL REFERENCES labour_disputes (id),
    held_on     date NOT NULL,
    mediator    text NOT NULL CHECK (length(mediator) BETWEEN 1 AND 50),
    note_enc    bytea NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX labour_dispute_sessions_dispute ON labour_dispute_sessions (dispute_id, held_on, id);

-- A legal assistance case opened by a referral names its dispute, and records what legal aid
-- gave (advice, representation in arbitration or in court, or withdrawn) and the result.
ALTER TABLE assistance_cases
    ADD COLUMN dispute_id            uuid UNIQUE REFERENCES labour_disputes (id),
    ADD COLUMN legal_aid_form        text CHECK (legal_aid_form IN ('advice', 'arbitration', 'litigation', 'withdrawn')),
    ADD COLUMN legal_aid_result      text CHECK (legal_aid_result IN ('won', 'partly', 'lost', 'settled')),
    ADD COLUMN legal_aid_recorded_by text,
    ADD COLUMN legal_aid_recorded_on date,
    ADD CONSTRAINT assistance_cases_legal_aid_kind CHECK (legal_aid_form IS NULL OR kind = 'legal'),
    ADD CONSTRAINT assistance_cases_legal_aid_result CHECK (
        (legal_aid_result IS NOT NULL) = (legal_aid_form IN ('arbitration', 'litigation')));
