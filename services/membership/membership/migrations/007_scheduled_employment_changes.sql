-- An HR system may announce an employment change dated ahead. Nothing is dated in the future:
-- the change waits here (the ID number still sealed under the HR key, as it arrived) and is
-- applied on its effective day, as if it had arrived then.
CREATE TABLE scheduled_employment_changes (
    event_id      uuid PRIMARY KEY,            -- the EmploymentChanged CloudEvent's id
    effective_on  date NOT NULL,
    payload       jsonb NOT NULL,              -- the event as received (id_number_sealed, never clear)
    trace_headers jsonb NOT NULL DEFAULT '{}', -- the consuming span's context: one trace per change
    received_at   timestamptz NOT NULL DEFAULT now(),
    applied_at    timestamptz,
    outcome       text
);
CREATE INDEX scheduled_employment_changes_due ON scheduled_employment_changes (effective_on) WHERE applied_at IS NULL;
