-- Transfer requests (issue 10): staff of a receiving union may only ASK for a member of another
-- subtree, by the person's ID number; the member or the sending side confirms (then the transfer
-- is made), the member may decline, and an unanswered request expires. A request about a person
-- who is not a member (or outside every subtree the asker sees) is kept all the same, so the
-- answer to asking is the same whether or not the person exists; it just expires.
-- The ID number is kept only as the keyed lookup hash and the masked form.

CREATE TABLE transfer_requests (
    id                       uuid PRIMARY KEY,
    id_number_hash           text NOT NULL,
    id_number_masked         text NOT NULL,
    member_id                uuid REFERENCES members (id),       -- NULL: no such member when asked
    from_union_id            uuid REFERENCES org_units (id),     -- the member's union when asked
    to_union_id              uuid NOT NULL REFERENCES org_units (id),
    new_employer             text NOT NULL,
    new_employer_credit_code text,
    requested_by             text NOT NULL,                      -- the asking staff account
    requested_by_org_id      uuid NOT NULL REFERENCES org_units (id),
    requested_at             timestamptz NOT NULL DEFAULT now(),
    expires_on               date NOT NULL,
    status                   text NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'confirmed', 'declined', 'expired')),
    decided_by               text,                               -- who confirmed or declined
    decided_as               text CHECK (decided_as IN ('member', 'from_union', 'system')),
    decided_at               timestamptz,
    transfer_id              uuid REFERENCES member_transfers (id),
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX transfer_requests_to ON transfer_requests (to_union_id, requested_at);
CREATE INDEX transfer_requests_member ON transfer_requests (member_id) WHERE member_id IS NOT NULL;
CREATE INDEX transfer_requests_due ON transfer_requests (expires_on) WHERE status = 'pending';
-- One open request per asking union and person: asking again answers with the same request.
CREATE UNIQUE INDEX transfer_requests_open ON transfer_requests (to_union_id, id_number_hash)
    WHERE status = 'pending';

-- A member may now move themself (their own consent is the sending side's act).
ALTER TABLE member_transfers DROP CONSTRAINT IF EXISTS member_transfers_initiated_by_check;
ALTER TABLE member_transfers ADD CONSTRAINT member_transfers_initiated_by_check
    CHECK (initiated_by IN ('from_union', 'to_union', 'hr_system', 'federation', 'member'));
ALTER TABLE member_transfers ADD COLUMN request_id uuid;
