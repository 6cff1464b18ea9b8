CREATE TABLE org_units (
    id             uuid PRIMARY KEY,
    parent_id      uuid REFERENCES org_units (id),
    path           uuid[] NOT NULL,           -- ids from the city root down to this unit
    level          text NOT NULL CHECK (level IN ('city', 'district', 'street', 'grassroots')),
    kind           text NOT NULL,
    name           text NOT NULL,
    region_code    text NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
    established_on date NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL,
    UNIQUE (parent_id, name),
    CHECK ((level = 'city') = (parent_id IS NULL))
);
CREATE INDEX org_units_path ON org_units USING gin (path);

CREATE TABLE members (
    id                uuid PRIMARY KEY,
    union_id          uuid NOT NULL REFERENCES org_units (id),
    name              text NOT NULL,
    gender            text NOT NULL CHECK (gender IN ('male', 'female')),
    birth_date        date NOT NULL,
    id_number_enc     bytea NOT NULL,
    id_number_hash    text NOT NULL UNIQUE,   -- keyed hash: one person, one membership
    id_number_masked  text NOT NULL,
    phone_enc         bytea,
    phone_masked      text,
    email             text,
    employer          text,
    is_migrant_worker boolean NOT NULL DEFAULT false,
    status            text NOT NULL DEFAULT 'active',
    joined_on         date NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text NOT NULL
);
CREATE INDEX members_union ON members (union_id);

-- The member file (会员档案): every join, transfer, status change and honour, in order.
CREATE TABLE member_file_entries (
    id          bigserial PRIMARY KEY,
    member_id   uuid NOT NULL REFERENCES members (id),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL,
    union_id    uuid NOT NULL REFERENCES org_units (id),
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    actor       text NOT NULL
);
CREATE INDEX member_file_entries_member ON member_file_entries (member_id, id);
