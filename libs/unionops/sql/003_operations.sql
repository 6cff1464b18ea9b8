-- What the people on call act on: dead letters kept as consumed (to inspect, replay, discard)
-- and the audit of every operator action (who, when, what, why).

CREATE TABLE dead_letters (
    id               bigserial PRIMARY KEY,
    consumer         text NOT NULL,
    event_id         uuid,                 -- NULL when the record was not a CloudEvent of ours
    event_type       text,
    topic            text NOT NULL,
    partition        integer NOT NULL,
    "offset"         bigint NOT NULL,
    key              bytea,
    value            bytea,
    headers          jsonb NOT NULL,       -- [[name, value], …] as consumed (sealed fields stay sealed)
    error            text NOT NULL,        -- redacted
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'replayed', 'discarded')),
    replay_attempts  integer NOT NULL DEFAULT 0,
    dead_lettered_at timestamptz NOT NULL DEFAULT now(),
    resolved_at      timestamptz,
    resolved_by      text,
    resolution       text
);
-- A record dead-lettered twice (redelivered before its offset was committed) is kept once.
CREATE UNIQUE INDEX dead_letters_event ON dead_letters (consumer, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX dead_letters_pending ON dead_letters (consumer, id) WHERE status = 'pending';

CREATE TABLE operator_actions (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,        -- the token's subject
    actor_name text NOT NULL DEFAULT '',
    action     text NOT NULL,        -- dead_letter.replay, dead_letter.discard, outbox.replay, …
    target     text NOT NULL,        -- what it was done to: a dead letter id, a topic and range
    reason     text,
    outcome    text NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX operator_actions_at ON operator_actions (at);
