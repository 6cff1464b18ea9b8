-- The employer side's contact for collective bargaining (企业方联系人): the other side of a union's
-- offer to negotiate is told through notify. The e-mail is encrypted at rest under the vault.
ALTER TABLE employers ADD COLUMN contact_name text;
ALTER TABLE employers ADD COLUMN contact_email_enc bytea;
ALTER TABLE employers ADD COLUMN contact_changed_at timestamptz;
