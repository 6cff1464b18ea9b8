-- unionops: no-transaction
-- The relay's purge deletes applied inbox rows and Idempotency-Key answers past their retention
-- (unionops.relay.purge_expired) in bounded rounds; these indexes find the old rows without
-- scanning the tables. Built without blocking writes, as 002.
DROP INDEX CONCURRENTLY IF EXISTS inbox_applied_received_at;
CREATE INDEX CONCURRENTLY inbox_applied_received_at ON inbox (received_at) WHERE status = 'applied';
DROP INDEX CONCURRENTLY IF EXISTS idempotency_keys_created_at;
CREATE INDEX CONCURRENTLY idempotency_keys_created_at ON idempotency_keys (created_at);
