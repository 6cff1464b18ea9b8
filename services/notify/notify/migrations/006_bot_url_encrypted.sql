-- A robot's URL carries its access token (DingTalk access_token, WeCom key): whoever has it can
-- post to the group. It is kept encrypted like the signing secret (vault field "webhook_url"),
-- beside a masked copy for display. Rows written before this migration still have `url`: the
-- service encrypts them at start-up (bots.encrypt_stored_urls) and clears the plain column.
ALTER TABLE webhook_bots ADD COLUMN url_enc bytea;
ALTER TABLE webhook_bots ADD COLUMN url_masked text;
ALTER TABLE webhook_bots ALTER COLUMN url DROP NOT NULL;
ALTER TABLE webhook_bots ADD CONSTRAINT webhook_bots_url_kept CHECK (url IS NOT NULL OR url_enc IS NOT NULL);
