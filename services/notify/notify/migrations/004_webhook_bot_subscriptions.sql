-- Group-chat robots subscribe to notice kinds (template names, e.g. member_joined). A bot gets
-- only what it subscribed to: a new bot, or one created before this migration, gets nothing, so
-- a bulk member import cannot flood group chats by default. Managed at /webhook-bots (api_bots.py).
ALTER TABLE webhook_bots ADD COLUMN notice_kinds text[] NOT NULL DEFAULT '{}';
ALTER TABLE webhook_bots ADD COLUMN created_by text;
ALTER TABLE webhook_bots ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Look-up by unit (deliveries.create_for_bots joins the units of a member's path) is served by
-- the unique index webhook_bots_target (org_unit_id, …) of 002. Staff list the bots of their
-- subtree by path, like the officers.
CREATE INDEX webhook_bots_org_path ON webhook_bots USING gin (org_path);

-- A bot enabled again (or given a new URL) may make waiting deliveries sendable: wake the dispatcher.
CREATE TRIGGER webhook_bots_notify AFTER INSERT OR UPDATE ON webhook_bots
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify();
