-- Issue 13: notices people want, and no others.

-- ---- hardship files (welfare.hardship-file.v1), the households a campaign concerns -----------
-- Level and whether open only: no health, income or family detail.
CREATE TABLE hardship_files (
    file_id    uuid PRIMARY KEY,
    member_id  uuid NOT NULL,
    org_path   uuid[] NOT NULL,
    level      text NOT NULL,
    open       boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- The campaign fan-out walks the open files in member order (keyset on member_id).
CREATE INDEX hardship_files_open_member ON hardship_files (member_id) WHERE open;

-- ---- campaign fan-outs go to households, and know their campaign ------------------------------
-- audience 'members': every member under org_id; 'households': members under org_id with an open
-- hardship file of one of `levels` (NULL: any level).
ALTER TABLE fanouts ADD COLUMN audience text NOT NULL DEFAULT 'members' CHECK (audience IN ('members', 'households'));
ALTER TABLE fanouts ADD COLUMN levels text[];
ALTER TABLE fanouts ADD COLUMN campaign_id uuid;
CREATE UNIQUE INDEX fanouts_campaign ON fanouts (campaign_id) WHERE campaign_id IS NOT NULL;

-- A member's notices of one campaign go out in order: the payment notice waits while the
-- campaign's start notice to the same member on the same channel is still pending or sending.
ALTER TABLE deliveries ADD COLUMN campaign_id uuid;
CREATE INDEX deliveries_campaign_member ON deliveries (campaign_id, recipient_id, channel)
    WHERE campaign_id IS NOT NULL;

-- ---- an office's default channels per notice kind, for its subtree --------------------------
-- The nearest unit on a member's path with a row for (kind, channel) decides, unless the member
-- chose for that channel themself (channel_preferences always wins).
CREATE TABLE notice_defaults (
    org_id      uuid NOT NULL,
    org_path    uuid[] NOT NULL,
    notice_kind text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'inapp')),
    opted_in    boolean NOT NULL,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, notice_kind, channel)
);
CREATE INDEX notice_defaults_kind ON notice_defaults (notice_kind);
