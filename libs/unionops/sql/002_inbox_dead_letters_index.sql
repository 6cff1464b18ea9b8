-- unionops: no-transaction
-- The DLQ depth gauge counts dead-lettered inbox rows per consumer at every scrape: a partial
-- index keeps that to the (few) dead letters however large the inbox grows. Built without
-- locking the inbox against writes (the largest table of a long-running service); a build that
-- failed midway leaves an INVALID index, so it is dropped before building again.
DROP INDEX CONCURRENTLY IF EXISTS inbox_dead_lettered;
CREATE INDEX CONCURRENTLY inbox_dead_lettered ON inbox (consumer) WHERE status = 'dead_lettered';
