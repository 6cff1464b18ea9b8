-- Each member's data key (DEK): it seals their e-mail and phone on the contact topic (and in the
-- outbox rows that carry it), wrapped under a contact KEK (PII_CONTACT_KEYS, key id inside).
-- Erasure destroys it: `wrapped_key` NULL, `destroyed_at` set; a later contact gets a new key.
CREATE TABLE member_data_keys (
    member_id    uuid PRIMARY KEY REFERENCES members (id),
    key_id       text NOT NULL,
    wrapped_key  bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
);

-- E-mail addresses at rest like phones: encrypted (vault field "email") beside a masked copy.
-- Rows written before this migration still have `email`: the service seals them at start-up
-- (contacts.seal_stored_emails) and clears the plain column.
ALTER TABLE members ADD COLUMN email_enc bytea;
ALTER TABLE members ADD COLUMN email_masked text;
ALTER TABLE members ADD COLUMN personal_data_erased_at timestamptz;
