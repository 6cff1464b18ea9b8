-- The DLQ depth gauge counts dead-lettered inbox rows per consumer at every scrape: a partial
-- index keeps that to the (few) dead letters however large the inbox grows.
CREATE INDEX inbox_dead_lettered ON inbox (consumer) WHERE status = 'dead_lettered';
