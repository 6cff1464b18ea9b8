-- Issue 13 (money write side): the rule a campaign shares a short budget by, reversals (冲正)
-- of wrong payments with four-eyes approval, and visits' gifts booked against a fund.

-- by_level: 深度困难, 意外致困, 相对困难 in turn until the budget is spent; pro_rata: every
-- household the same share of its amount; cap: at most household_cap_fen each. NULL: none
-- chosen (the campaign fitted its budget at launch).
ALTER TABLE campaigns
    ADD COLUMN allocation text CHECK (allocation IN ('by_level', 'pro_rata', 'cap')),
    ADD COLUMN household_cap_fen bigint CHECK (household_cap_fen > 0),
    ADD CONSTRAINT campaigns_cap_rule CHECK ((allocation = 'cap') = (household_cap_fen IS NOT NULL));

-- What a run needed, what budget it faced and which rule it applied (each run of a campaign may
-- face another need); NULL: none chosen, the budget covered everyone.
ALTER TABLE campaign_runs
    ADD COLUMN allocation text CHECK (allocation IN ('by_level', 'pro_rata', 'cap')),
    ADD COLUMN need_fen bigint,
    ADD COLUMN budget_fen bigint;

-- A household the run paid less than its full amount (pro rata, cap) is listed with what it got.
ALTER TABLE campaign_run_skips
    ADD COLUMN wanted_fen bigint,
    ADD COLUMN paid_fen bigint;

-- A reversal (冲正) of a payment: asked for by one officer with a reason, booked when a second
-- officer approves (never the one who asked). One open or approved request per payment.
CREATE TABLE payment_reversals (
    id                uuid PRIMARY KEY,
    entry_id          uuid NOT NULL REFERENCES ledger_entries (id),
    fund_id           uuid NOT NULL REFERENCES funds (id),
    org_path          uuid[] NOT NULL,               -- the fund's: scope of who may see and decide
    amount_fen        bigint NOT NULL CHECK (amount_fen > 0),
    reason            text NOT NULL CHECK (length(reason) BETWEEN 2 AND 500),
    status            text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'rejected')),
    requested_by      text NOT NULL,
    requested_at      timestamptz NOT NULL DEFAULT now(),
    decided_by        text,
    decided_at        timestamptz,
    decision_note     text CHECK (length(decision_note) <= 500),
    reversal_entry_id uuid UNIQUE REFERENCES ledger_entries (id),
    CHECK (decided_by IS NULL OR decided_by <> requested_by),
    CHECK ((status = 'approved') = (reversal_entry_id IS NOT NULL))
);
CREATE UNIQUE INDEX payment_reversals_one_live ON payment_reversals (entry_id) WHERE status <> 'rejected';
CREATE INDEX payment_reversals_org_path ON payment_reversals USING gin (org_path);

-- A visit's gift (慰问金) comes out of a fund: its commitment and disbursement entries.
ALTER TABLE visits
    ADD COLUMN fund_id uuid REFERENCES funds (id),
    ADD COLUMN ledger_entry_id uuid UNIQUE REFERENCES ledger_entries (id);
