-- A channel a member has no address for is not a failure: such a delivery ends `undeliverable`
-- (failure_reason 'no_address'), visible per member, never dead-lettered, no NotificationFailed.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'sending', 'delivered', 'failed', 'undeliverable'));
ALTER TABLE deliveries ADD COLUMN undeliverable_at timestamptz;

-- Whether a member's contact is the latest word on their address: the contact topic and the
-- member topic are not ordered with each other, so a contact older than the member's latest
-- admission (a rejoin, a re-import) may still be replaced by the one that admission sent.
-- Both are the events' own times (membership's clock), not the times notify received them.
ALTER TABLE contacts ADD COLUMN changed_at timestamptz;
ALTER TABLE members ADD COLUMN joined_at timestamptz;
