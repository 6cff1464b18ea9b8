-- The employer side of collective bargaining (企业方联系人), from membership's restricted topic
-- membership.employer-contact.v1: the other side of a union's offer to negotiate and of the renewal
-- window is told by e-mail. The address is kept under the vault, opened only to send.
CREATE TABLE employer_contacts (
    employer_id   uuid PRIMARY KEY,
    employer_name text NOT NULL,
    contact_name  text,
    email_enc     bytea,
    changed_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE deliveries DROP CONSTRAINT deliveries_recipient_kind_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_recipient_kind_check
    CHECK (recipient_kind IN ('member', 'officer', 'bot', 'employer'));
