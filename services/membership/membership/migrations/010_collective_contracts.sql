-- Collective contracts (集体合同, 工资集体协商; issue 14): the negotiation (offers,
-- sessions, the workers' vote), signing, review by the labour administration and the term.
-- Above designated size (规模以上企业) is a statistical classification by main-business revenue
-- (国家统计局: 年主营业务收入2000万元及以上), not a headcount: recorded on the employer, not derived.
ALTER TABLE employers ADD COLUMN above_designated_size boolean NOT NULL DEFAULT false;
-- employers.has_collective_contract stays as imported (a legacy contract, dates unknown): the
-- figures count only contracts in force on the day.

CREATE TABLE collective_contracts (
    id                      uuid PRIMARY KEY,
    org_id                  uuid NOT NULL REFERENCES org_units (id),  -- the union side: grassroots, or street/industry for regional ones
    title                   text NOT NULL,
    kind                    text NOT NULL CHECK (kind IN ('comprehensive', 'wage', 'women', 'safety')),
    coverage                text NOT NULL CHECK (coverage IN ('enterprise', 'regional', 'industry')),
    -- the workers' congress (or all workers) on the draft (集体合同规定 Art. 36)
    vote_body               text CHECK (vote_body IN ('congress', 'all_workers')),
    voted_on                date,
    vote_electorate         integer CHECK (vote_electorate > 0),
    vote_present            integer CHECK (vote_present >= 0),
    vote_in_favour          integer CHECK (vote_in_favour >= 0),
    vote_outcome            text CHECK (vote_outcome IN ('adopted', 'rejected', 'inquorate')),
    -- signing by both chief representatives (officials' names, not members' personal data)
    signed_on               date,
    union_representative    text,
    employer_representative text,
    starts_on               date,
    ends_on                 date,
    renewal_opens_on        date,   -- six months before ends_on: either side may ask to renew from then
    CHECK (ends_on > starts_on),
    -- review by the labour administration (劳动合同法 Art. 54)
    received_on             date,
    in_force_from           date,   -- received_on + 15 days unless objected to
    objected_on             date,
    objection               text,
    published_on            date,
    -- what the periodic job raised, once each
    in_force_raised_at      timestamptz,
    expiring_raised_at      timestamptz,
    expired_raised_at       timestamptz,
    renews_contract_id      uuid REFERENCES collective_contracts (id),  -- the contract this one renews (续订)
    created_by              text NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collective_contracts_org ON collective_contracts (org_id);
CREATE UNIQUE INDEX collective_contracts_renewal ON collective_contracts (renews_contract_id);
CREATE INDEX collective_contracts_in_force ON collective_contracts (in_force_from, ends_on) WHERE objected_on IS NULL;

CREATE TABLE collective_contract_employers (
    contract_id uuid NOT NULL REFERENCES collective_contracts (id),
    employer_id uuid NOT NULL REFERENCES employers (id),
    PRIMARY KEY (contract_id, employer_id)
);
CREATE INDEX collective_contract_employers_employer ON collective_contract_employers (employer_id);

-- Written offers (要约) and their written answers within 20 days (集体合同规定 Art. 32).
CREATE TABLE collective_offers (
    id                  uuid PRIMARY KEY,
    contract_id         uuid NOT NULL REFERENCES collective_contracts (id),
    offered_by          text NOT NULL CHECK (offered_by IN ('union', 'employer')),
    sent_on             date NOT NULL,
    received_on         date NOT NULL CHECK (received_on >= sent_on),
    answer_due_on       date NOT NULL,
    answered_on         date CHECK (answered_on >= received_on),
    answer              text CHECK (answer IN ('accepted', 'declined')),
    decline_reasons     text,
    reminder_raised_at  timestamptz,
    overdue_raised_at   timestamptz,
    recorded_by         text NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collective_offers_contract ON collective_offers (contract_id);
CREATE INDEX collective_offers_open ON collective_offers (answer_due_on) WHERE answered_on IS NULL;

-- Negotiation sessions (协商会议).
CREATE TABLE collective_sessions (
    id          bigserial PRIMARY KEY,
    contract_id uuid NOT NULL REFERENCES collective_contracts (id),
    held_on     date NOT NULL,
    summary     text NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collective_sessions_contract ON collective_sessions (contract_id, held_on);
