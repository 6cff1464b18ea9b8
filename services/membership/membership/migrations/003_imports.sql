-- Bulk imports of members (批量导入): who imported which file when, with the counts. Rejected
-- attempts are kept too (nothing of them was written but the attempt itself).
CREATE TABLE imports (
    id               uuid PRIMARY KEY,
    actor            text NOT NULL,
    actor_org        uuid NOT NULL,             -- the subtree the actor covered
    created_at       timestamptz NOT NULL DEFAULT now(),
    file_name        text NOT NULL,
    file_sha256      text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    format           text NOT NULL CHECK (format IN ('xlsx', 'csv')),
    default_union_id uuid REFERENCES org_units (id),
    status           text NOT NULL CHECK (status IN ('imported', 'rejected')),
    rows             integer NOT NULL,
    imported         integer NOT NULL,
    unchanged        integer NOT NULL,
    errors           integer NOT NULL,
    summary          jsonb NOT NULL
);
-- An identical file imported again by the same subtree answers with the first summary.
CREATE UNIQUE INDEX imports_file_once ON imports (file_sha256, actor_org, coalesce(default_union_id, '00000000-0000-0000-0000-000000000000'))
    WHERE status = 'imported';
CREATE INDEX imports_created_at ON imports (created_at);
