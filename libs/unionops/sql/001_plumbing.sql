-- Tables every service has: the transactional outbox, the consumer inbox (idempotency),
-- relay bookkeeping and HTTP idempotency keys.

CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE,
    topic           text NOT NULL,
    key             text NOT NULL,
    event_type      text NOT NULL,
    subject         text,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    payload         jsonb NOT NULL,
    trace_headers   jsonb NOT NULL DEFAULT '{}'::jsonb,
    published_at    timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

-- One wake-up per inserting statement, delivered to the relay's LISTEN at commit.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Highest offset the broker has acknowledged per partition: when the broker hands out a lower
-- one, it has lost its log (the local memory broker after a restart) and the relay replays.
CREATE TABLE relay_offsets (
    topic      text NOT NULL,
    partition  integer NOT NULL,
    max_offset bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);

CREATE TABLE inbox (
    consumer    text NOT NULL,
    event_id    uuid NOT NULL,
    event_type  text NOT NULL,
    topic       text NOT NULL,
    status      text NOT NULL DEFAULT 'applied' CHECK (status IN ('applied', 'dead_lettered')),
    error       text,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL,
    fingerprint  text NOT NULL,
    status_code  integer,
    body         jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
