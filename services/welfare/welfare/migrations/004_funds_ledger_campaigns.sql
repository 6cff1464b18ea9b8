-- The organisation tree as welfare needs it (from UnionEstablished / UnionMoved): a fund or a
-- campaign belongs to a unit, and staff scope is checked against that unit's path.
CREATE TABLE org_units (
    org_id        uuid PRIMARY KEY,
    parent_id     uuid,
    org_path      uuid[] NOT NULL,            -- ids from the city root down to this unit
    name          text NOT NULL,
    level         text NOT NULL CHECK (level IN ('city', 'district', 'street', 'grassroots')),
    last_event_id uuid NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX org_units_path ON org_units USING gin (org_path);

-- Special assistance funds (专项帮扶资金), one per unit and year and purpose. A fund's children
-- belong to units in its unit's subtree (city → district → street).
CREATE TABLE funds (
    id             uuid PRIMARY KEY,
    org_id         uuid NOT NULL,
    org_path       uuid[] NOT NULL,
    name           text NOT NULL,
    year           integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    parent_fund_id uuid REFERENCES funds (id),
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, year, name)
);
CREATE INDEX funds_org_path ON funds USING gin (org_path);
CREATE INDEX funds_parent ON funds (parent_fund_id);

-- The ledger: every movement of money, append-only. Amounts are positive fen; the kind says the
-- direction (welfare.money.EFFECTS). A reversal points at the entry it undoes, once.
CREATE TABLE ledger_entries (
    id                  uuid PRIMARY KEY,
    seq                 bigserial NOT NULL UNIQUE,   -- total order for reports
    fund_id             uuid NOT NULL REFERENCES funds (id),
    kind                text NOT NULL CHECK (kind IN ('allocation_in', 'allocation_out', 'commitment',
                                                      'commitment_release', 'disbursement', 'reversal')),
    amount_fen          bigint NOT NULL CHECK (amount_fen > 0),
    counterpart_fund_id uuid REFERENCES funds (id),  -- the other side of an allocation
    commitment_id       uuid REFERENCES ledger_entries (id),  -- what a release/disbursement consumes
    transfer_id         uuid,                        -- both sides of one allocation share it
    case_id             uuid,                        -- an assistance case, or a campaign payment
    campaign_id         uuid,
    reverses_entry_id   uuid UNIQUE REFERENCES ledger_entries (id),
    approver            text,
    actor               text NOT NULL,
    reason              text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'reversal') = (reverses_entry_id IS NOT NULL)),
    CHECK (kind NOT IN ('commitment_release', 'disbursement') OR commitment_id IS NOT NULL),
    CHECK (kind <> 'allocation_out' OR counterpart_fund_id IS NOT NULL),
    CHECK (kind <> 'reversal' OR reason IS NOT NULL)
);
CREATE INDEX ledger_entries_fund ON ledger_entries (fund_id, created_at, seq);
CREATE INDEX ledger_entries_case ON ledger_entries (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX ledger_entries_campaign ON ledger_entries (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX ledger_entries_transfer ON ledger_entries (transfer_id) WHERE transfer_id IS NOT NULL;
CREATE INDEX ledger_entries_commitment ON ledger_entries (commitment_id) WHERE commitment_id IS NOT NULL;

CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only: % refused (book a reversal instead)', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only();

-- Each fund's balance, updated in the transaction of every entry by a conditional UPDATE; the
-- CHECK is the last line: no interleaving of transactions can make a figure negative.
CREATE TABLE fund_balances (
    fund_id       uuid PRIMARY KEY REFERENCES funds (id),
    allocated_fen bigint NOT NULL DEFAULT 0,
    available_fen bigint NOT NULL DEFAULT 0,
    committed_fen bigint NOT NULL DEFAULT 0,
    disbursed_fen bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (available_fen >= 0 AND committed_fen >= 0 AND disbursed_fen >= 0 AND allocated_fen >= 0),
    CHECK (allocated_fen = available_fen + committed_fen + disbursed_fen)
);

-- What is left of each commitment (an approved case, a launched campaign's budget). Disbursements
-- and releases draw it down with a conditional UPDATE, like the balance row.
CREATE TABLE fund_commitments (
    entry_id      uuid PRIMARY KEY REFERENCES ledger_entries (id),
    fund_id       uuid NOT NULL REFERENCES funds (id),
    amount_fen    bigint NOT NULL CHECK (amount_fen > 0),
    remaining_fen bigint NOT NULL CHECK (remaining_fen >= 0),
    case_id       uuid,
    campaign_id   uuid,
    settled       boolean NOT NULL DEFAULT false,   -- paid or released: nothing more may be drawn
    CHECK (remaining_fen <= amount_fen),
    CHECK (NOT settled OR remaining_fen = 0)
);

-- Campaign kinds and their default caps (configurable: a city changes these rows).
CREATE TABLE campaign_kind_defaults (
    kind                    text PRIMARY KEY,
    label                   text NOT NULL,
    usual_month             integer CHECK (usual_month BETWEEN 1 AND 12),
    case_kind               text NOT NULL,     -- the kind of aid its payments are (AidDisbursed.kind)
    per_payment_cap_fen     bigint NOT NULL CHECK (per_payment_cap_fen > 0),
    per_person_year_cap_fen bigint NOT NULL CHECK (per_person_year_cap_fen > 0)
);
INSERT INTO campaign_kind_defaults VALUES
    ('spring_festival', '送温暖', 1, 'living', 300000, 600000),
    ('golden_autumn', '金秋助学', 8, 'education', 500000, 1000000),
    ('mid_autumn', '中秋国庆慰问', 10, 'living', 200000, 400000),
    ('summer_cooling', '送清凉', 7, 'living', 50000, 100000),
    ('other', '其他帮扶活动', NULL, 'temporary', 300000, 600000);

CREATE TABLE campaigns (
    id                      uuid PRIMARY KEY,
    name                    text NOT NULL,
    kind                    text NOT NULL REFERENCES campaign_kind_defaults (kind),
    org_id                  uuid NOT NULL,
    org_path                uuid[] NOT NULL,
    fund_id                 uuid NOT NULL REFERENCES funds (id),
    commitment_id           uuid NOT NULL REFERENCES ledger_entries (id),
    year                    integer NOT NULL,
    budget_fen              bigint NOT NULL CHECK (budget_fen > 0),
    per_payment_cap_fen     bigint NOT NULL CHECK (per_payment_cap_fen > 0),
    per_person_year_cap_fen bigint NOT NULL CHECK (per_person_year_cap_fen > 0),
    level_amounts           jsonb NOT NULL,    -- {"deep": fen, "relative": fen, "accident": fen}
    starts_on               date NOT NULL,
    ends_on                 date NOT NULL CHECK (ends_on >= starts_on),
    status                  text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    launched_by             text NOT NULL,
    launched_at             timestamptz NOT NULL DEFAULT now(),
    closed_by               text,
    closed_at               timestamptz
);
CREATE INDEX campaigns_org_path ON campaigns USING gin (org_path);

CREATE TABLE campaign_runs (
    id          uuid PRIMARY KEY,
    campaign_id uuid NOT NULL REFERENCES campaigns (id),
    run_on      date NOT NULL,
    run_by      text NOT NULL,
    run_at      timestamptz NOT NULL DEFAULT now(),
    paid_count  integer NOT NULL,
    paid_fen    bigint NOT NULL,
    not_paid    integer NOT NULL
);

-- One payment per hardship file per campaign, whatever happens: the unique key is the rule.
CREATE TABLE campaign_payments (
    id              uuid PRIMARY KEY,          -- the case_id of its AidDisbursed
    campaign_id     uuid NOT NULL REFERENCES campaigns (id),
    campaign_kind   text NOT NULL,
    year            integer NOT NULL,
    run_id          uuid NOT NULL REFERENCES campaign_runs (id),
    file_id         uuid NOT NULL,
    member_id       uuid NOT NULL,
    union_id        uuid NOT NULL,
    org_path        uuid[] NOT NULL,
    level           text NOT NULL,
    amount_fen      bigint NOT NULL CHECK (amount_fen > 0),
    ledger_entry_id uuid NOT NULL UNIQUE REFERENCES ledger_entries (id),
    paid_on         date NOT NULL,
    UNIQUE (campaign_id, file_id)
);
CREATE INDEX campaign_payments_person_year ON campaign_payments (member_id, year, campaign_kind);

-- Who a run did not pay, and why (the run's report, kept for audit).
CREATE TABLE campaign_run_skips (
    run_id    uuid NOT NULL REFERENCES campaign_runs (id),
    file_id   uuid NOT NULL,
    member_id uuid NOT NULL,
    reason    text NOT NULL,
    PRIMARY KEY (run_id, file_id)
);
