-- Member lifecycle (issue 3): profile fields, status active → retained → left, re-joining,
-- transfers that follow employment, and a member file readable by every union the member was in.

ALTER TABLE members
    ADD COLUMN occupation           text,
    ADD COLUMN education            text,
    ADD COLUMN honours              text[] NOT NULL DEFAULT '{}',
    ADD COLUMN employer_credit_code text,
    ADD COLUMN status_reason        text,
    ADD COLUMN status_changed_on    date,
    ADD COLUMN left_on              date,
    ADD COLUMN updated_at           timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT members_status CHECK (status IN ('active', 'retained', 'left')),
    ADD CONSTRAINT members_left_on CHECK ((status = 'left') = (left_on IS NOT NULL));
CREATE INDEX members_status ON members (union_id, status);

-- Every union an entry concerns (a transfer: from and to). The member file is readable by staff
-- whose subtree covers any of them, checked against the units' current paths, so moves in the
-- tree are respected. `union_id` stays the union the member is in after the entry.
ALTER TABLE member_file_entries ADD COLUMN union_ids uuid[] NOT NULL DEFAULT '{}';
UPDATE member_file_entries SET union_ids = ARRAY[union_id] WHERE union_ids = '{}';

-- Transfers (会员关系转移), one row each, for the figures (transfers per month) and the audit.
CREATE TABLE member_transfers (
    id                      uuid PRIMARY KEY,
    member_id               uuid NOT NULL REFERENCES members (id),
    from_union_id           uuid NOT NULL REFERENCES org_units (id),
    to_union_id             uuid NOT NULL REFERENCES org_units (id),
    reason                  text NOT NULL,
    initiated_by            text NOT NULL CHECK (initiated_by IN ('from_union', 'to_union', 'hr_system', 'federation')),
    held_by_residence_union boolean NOT NULL DEFAULT false,
    new_employer            text,
    new_employer_credit_code text,
    residence_region_code   text,
    effective_on            date NOT NULL,
    source_event_id         uuid UNIQUE,          -- the HR event that caused it, if any
    actor                   text NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (from_union_id <> to_union_id)
);
CREATE INDEX member_transfers_member ON member_transfers (member_id, created_at);
CREATE INDEX member_transfers_effective ON member_transfers (effective_on);
