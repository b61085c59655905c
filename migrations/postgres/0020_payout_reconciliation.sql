-- Reconciliation against the departments' payout files (三方比对, issue
-- 15): see the SQLite migration of the same number for what each table
-- holds.
CREATE TABLE payouts (
    id            UUID PRIMARY KEY,
    household_id  UUID NOT NULL REFERENCES households (id),
    item_code     TEXT NOT NULL REFERENCES subsidy_items (code),
    stat_year     INTEGER NOT NULL,
    paid_fen      BIGINT NOT NULL CHECK (paid_fen > 0),
    payments      INTEGER NOT NULL CHECK (payments >= 1),
    first_paid_on DATE NOT NULL,
    last_paid_on  DATE NOT NULL,
    account_tail  TEXT,
    department    TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    imported_by   UUID NOT NULL REFERENCES users (id),
    imported_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX payouts_household ON payouts (household_id, stat_year);

-- The payments a payout sums, by day: a visit is compared with what had
-- been paid by its own day, not with payments made after it.
CREATE TABLE payout_payments (
    payout_id UUID NOT NULL REFERENCES payouts (id),
    paid_on   DATE NOT NULL,
    fen       BIGINT NOT NULL CHECK (fen > 0),
    PRIMARY KEY (payout_id, paid_on)
);

CREATE TABLE payout_current (
    household_id UUID NOT NULL REFERENCES households (id),
    item_code    TEXT NOT NULL,
    stat_year    INTEGER NOT NULL,
    payout_id    UUID NOT NULL REFERENCES payouts (id),
    PRIMARY KEY (household_id, item_code, stat_year)
);

CREATE TABLE payout_scopes (
    area_code   TEXT NOT NULL REFERENCES areas (code),
    item_code   TEXT NOT NULL REFERENCES subsidy_items (code),
    stat_year   INTEGER NOT NULL,
    lo          TEXT NOT NULL,
    hi          TEXT NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (area_code, item_code, stat_year)
);

CREATE TABLE reconciliation (
    household_id   UUID NOT NULL REFERENCES households (id),
    item_code      TEXT NOT NULL,
    stat_year      INTEGER NOT NULL,
    village_code   TEXT NOT NULL,
    entitlement_id UUID,
    payout_id      UUID,
    due_fen        BIGINT,
    expected_date  DATE,
    paid_fen       BIGINT,
    received_fen   BIGINT,
    visit_id       UUID,
    outcome        TEXT NOT NULL CHECK (outcome IN ('matched', 'awaiting_visit',
                       'paid_not_received', 'received_no_payout', 'amount_differs',
                       'due_unpaid')),
    PRIMARY KEY (household_id, item_code, stat_year)
);
CREATE INDEX reconciliation_area ON reconciliation (stat_year, village_code, item_code);

ALTER TABLE discrepancies ALTER COLUMN visit_id DROP NOT NULL;
ALTER TABLE discrepancies ADD COLUMN item_code TEXT REFERENCES subsidy_items (code);
ALTER TABLE discrepancies ADD COLUMN stat_year INTEGER;
ALTER TABLE discrepancies ADD COLUMN payout_id UUID REFERENCES payouts (id);
ALTER TABLE discrepancies ADD COLUMN paid_fen BIGINT;
ALTER TABLE discrepancies DROP CONSTRAINT discrepancies_kind_check;
ALTER TABLE discrepancies ADD CONSTRAINT discrepancies_kind_check CHECK (kind IN (
    'not_received', 'received_in_part', 'received_late', 'visit_conflict', 'dispute',
    'suspicious_visit', 'paid_not_received', 'received_no_payout', 'amount_differs',
    'due_unpaid'));
ALTER TABLE discrepancies DROP CONSTRAINT discrepancies_whole_visit;
ALTER TABLE discrepancies ADD CONSTRAINT discrepancies_reconciled_key CHECK (
    (kind IN ('paid_not_received', 'received_no_payout', 'amount_differs', 'due_unpaid'))
    = (item_code IS NOT NULL AND stat_year IS NOT NULL AND visit_id IS NULL));
ALTER TABLE discrepancies ADD CONSTRAINT discrepancies_has_visit CHECK (
    kind IN ('paid_not_received', 'received_no_payout', 'amount_differs', 'due_unpaid')
    OR visit_id IS NOT NULL);
ALTER TABLE discrepancies ADD CONSTRAINT discrepancies_whole_visit CHECK (
    kind IN ('paid_not_received', 'received_no_payout', 'amount_differs', 'due_unpaid')
    OR (kind IN ('visit_conflict', 'dispute', 'suspicious_visit')) = (entitlement_id IS NULL));
CREATE UNIQUE INDEX discrepancies_reconciled
    ON discrepancies (household_id, item_code, stat_year, kind) WHERE item_code IS NOT NULL;

ALTER TABLE import_jobs DROP CONSTRAINT import_jobs_kind_check;
ALTER TABLE import_jobs ADD CONSTRAINT import_jobs_kind_check
    CHECK (kind IN ('households', 'entitlements', 'payouts'));
-- done, payout files: rows naming no household of the area.
ALTER TABLE import_jobs ADD COLUMN report_skipped BIGINT;
