-- An officer's e-mail address is personal data like a member's: kept encrypted with the vault
-- (field "officer_email") beside a masked copy for display, as their phone already was. Rows
-- written before this migration still have the clear `email`: the service encrypts them at
-- start-up (officers.encrypt_stored_emails) and empties the clear column, which nothing writes.
ALTER TABLE officers ADD COLUMN email_enc bytea;
ALTER TABLE officers ADD COLUMN email_masked text;
ALTER TABLE officers ADD CONSTRAINT officers_email_not_in_clear_beside_ciphertext
    CHECK (email IS NULL OR email_enc IS NULL);
