-- Rights protection (维权, issue 14): the yearly targets superiors set for a subtree's rates —
-- "集体合同建制率达50%", "职代会建制率达50%", "厂务公开面达90%", "调解组织组建率75%" — in whole percent.
-- The areas' own tables come in their own migrations (010 collective contracts, 011 congresses).
CREATE TABLE rights_targets (
    org_id         uuid NOT NULL REFERENCES org_units (id),
    year           integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    measure        text NOT NULL,
    target_percent integer NOT NULL CHECK (target_percent BETWEEN 0 AND 100),
    set_by         text NOT NULL,
    set_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, year, measure)
);
