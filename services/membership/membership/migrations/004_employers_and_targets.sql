-- Employers (for 建会 coverage: "哪里有企业,哪里就要建立工会组织"), unit status and history,
-- and the yearly targets superiors set for a subtree.

CREATE TABLE IF NOT EXISTS employers (
    id                      uuid PRIMARY KEY,
    union_id                uuid REFERENCES org_units (id),   -- the grassroots union covering it, if any
    name                    text NOT NULL,
    credit_code             text UNIQUE,                      -- 统一社会信用代码
    ownership               text NOT NULL CHECK (ownership IN ('state_owned', 'collective', 'non_public')),
    headcount               integer NOT NULL DEFAULT 0 CHECK (headcount >= 0),
    has_collective_contract boolean NOT NULL DEFAULT false,
    created_at              timestamptz NOT NULL DEFAULT now()
);
-- The unit answerable for the employer in coverage figures (usually a street/town union).
ALTER TABLE employers ADD COLUMN IF NOT EXISTS org_id uuid REFERENCES org_units (id);
ALTER TABLE employers ADD COLUMN IF NOT EXISTS region_code text;
CREATE INDEX IF NOT EXISTS employers_org ON employers (org_id);
CREATE INDEX IF NOT EXISTS employers_union ON employers (union_id);

ALTER TABLE org_units ADD COLUMN status text NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'merged', 'dissolved'));
ALTER TABLE org_units ADD COLUMN closed_on date;
ALTER TABLE org_units ADD COLUMN merged_into uuid REFERENCES org_units (id);
CREATE INDEX org_units_established ON org_units (established_on) WHERE level = 'grassroots';

-- Moves, merges and dissolutions keep their history.
CREATE TABLE org_unit_history (
    id          bigserial PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES org_units (id),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('established', 'moved', 'merged', 'dissolved', 'absorbed')),
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    actor       text NOT NULL
);
CREATE INDEX org_unit_history_org ON org_unit_history (org_id, id);

CREATE TABLE coverage_targets (
    org_id         uuid NOT NULL REFERENCES org_units (id),
    year           integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    unions_target  integer CHECK (unions_target >= 0),
    members_target integer CHECK (members_target >= 0),
    set_by         text NOT NULL,
    set_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, year)
);

CREATE INDEX member_file_entries_month ON member_file_entries (occurred_at, kind);
