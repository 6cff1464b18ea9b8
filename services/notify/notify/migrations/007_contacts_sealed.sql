-- Members' contact details are kept as membership sent them: sealed under the member's own data
-- key (MemberContactChanged v2). The key is kept here wrapped under a contact KEK
-- (PII_CONTACT_KEYS); MemberPersonalDataErased deletes it, and with it every readable copy.
-- Rows written before this migration (clear `email`, phone under the vault) are sealed at
-- start-up under a data key made here (contacts.seal_stored), and the old columns cleared.
CREATE TABLE member_keys (
    member_id   uuid PRIMARY KEY,
    key_id      text NOT NULL,
    wrapped_key bytea NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE contacts ADD COLUMN email_sealed bytea;
ALTER TABLE contacts ADD COLUMN phone_sealed bytea;
ALTER TABLE contacts ADD COLUMN erased_at timestamptz;

-- Unused, and it read the clear e-mail.
DROP VIEW delivery_recipients;
