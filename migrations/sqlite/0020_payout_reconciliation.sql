-- Reconciliation against the departments' payout files (三方比对, issue
-- 15): what a paying department says it paid each household, imported
-- from its disbursement list, is matched with what was due (entitlements)
-- and what the household said it received (its latest verification).
--
-- payouts is append-only: a file that changes a household's figure for an
-- item and year adds a new row, and payout_current points at the one in
-- force. One row sums a key's payments in the file (低保 is paid monthly).
-- Only the last four digits of an account are kept.
CREATE TABLE payouts (
    id            BLOB PRIMARY KEY,
    household_id  BLOB NOT NULL REFERENCES households (id),
    item_code     TEXT NOT NULL REFERENCES subsidy_items (code),
    stat_year     INTEGER NOT NULL,
    paid_fen      BIGINT NOT NULL CHECK (paid_fen > 0),
    payments      INTEGER NOT NULL CHECK (payments >= 1),
    first_paid_on TEXT NOT NULL,
    last_paid_on  TEXT NOT NULL,
    account_tail  TEXT,
    department    TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    imported_by   BLOB NOT NULL REFERENCES users (id),
    imported_at   TEXT NOT NULL
);
CREATE INDEX payouts_household ON payouts (household_id, stat_year);

-- The payments a payout sums, by day: a visit is compared with what had
-- been paid by its own day, not with payments made after it.
CREATE TABLE payout_payments (
    payout_id BLOB NOT NULL REFERENCES payouts (id),
    paid_on   TEXT NOT NULL,
    fen       BIGINT NOT NULL CHECK (fen > 0),
    PRIMARY KEY (payout_id, paid_on)
);

CREATE TABLE payout_current (
    household_id BLOB NOT NULL REFERENCES households (id),
    item_code    TEXT NOT NULL,
    stat_year    INTEGER NOT NULL,
    payout_id    BLOB NOT NULL REFERENCES payouts (id),
    PRIMARY KEY (household_id, item_code, stat_year)
);

-- Which items and years an area has imported a payout file for: a payment
-- due there with no payout record is "due but not paid" only where the
-- paying department's file has been imported.
CREATE TABLE payout_scopes (
    area_code   TEXT NOT NULL REFERENCES areas (code),
    item_code   TEXT NOT NULL REFERENCES subsidy_items (code),
    stat_year   INTEGER NOT NULL,
    -- The area's village code range (areas::AreaCode::subtree_range).
    lo          TEXT NOT NULL,
    hi          TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (area_code, item_code, stat_year)
);

-- The three-way match per household, item and year inside a payout scope,
-- rewritten in the transaction of every write that changes one of its
-- three sides (a payout import, a visit, a roster import).
CREATE TABLE reconciliation (
    household_id   BLOB NOT NULL REFERENCES households (id),
    item_code      TEXT NOT NULL,
    stat_year      INTEGER NOT NULL,
    village_code   TEXT NOT NULL,
    entitlement_id BLOB,
    payout_id      BLOB,
    -- NULL: no payment due / no payout record / not verified yet.
    due_fen        BIGINT,
    expected_date  TEXT,
    paid_fen       BIGINT,
    received_fen   BIGINT,
    visit_id       BLOB,
    outcome        TEXT NOT NULL CHECK (outcome IN ('matched', 'awaiting_visit',
                       'paid_not_received', 'received_no_payout', 'amount_differs',
                       'due_unpaid')),
    PRIMARY KEY (household_id, item_code, stat_year)
);
CREATE INDEX reconciliation_area ON reconciliation (stat_year, village_code, item_code);

-- A reconciliation mismatch is a discrepancy item with no visit of its own
-- (and, for a payout nobody was due, no entitlement): the table is rebuilt
-- as in 0013, since SQLite cannot drop a NOT NULL or change a CHECK.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE discrepancies_before AS SELECT * FROM discrepancies;
DROP TABLE discrepancies;
CREATE TABLE discrepancies (
    id             BLOB PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('not_received', 'received_in_part',
                       'received_late', 'visit_conflict', 'dispute', 'suspicious_visit',
                       'paid_not_received', 'received_no_payout', 'amount_differs',
                       'due_unpaid')),
    household_id   BLOB NOT NULL REFERENCES households (id),
    village_code   TEXT NOT NULL REFERENCES areas (code),
    visit_id       BLOB REFERENCES visits (id),
    entitlement_id BLOB,
    conflict_id    BLOB REFERENCES visit_conflicts (id),
    expected_fen   BIGINT,
    received_fen   BIGINT,
    reported_at    TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    assignee_id    BLOB REFERENCES users (id),
    resolution     TEXT CHECK (resolution IN ('paid_later', 'list_error', 'not_entitled', 'escalated')),
    closed_at      TEXT,
    -- A reconciliation item: its key, and what the payout file said.
    item_code      TEXT REFERENCES subsidy_items (code),
    stat_year      INTEGER,
    payout_id      BLOB REFERENCES payouts (id),
    paid_fen       BIGINT,
    UNIQUE (visit_id, entitlement_id),
    UNIQUE (conflict_id),
    FOREIGN KEY (visit_id, entitlement_id) REFERENCES verification_lines (visit_id, entitlement_id),
    CHECK ((kind = 'visit_conflict') = (conflict_id IS NOT NULL)),
    CHECK ((kind IN ('paid_not_received', 'received_no_payout', 'amount_differs', 'due_unpaid'))
           = (item_code IS NOT NULL AND stat_year IS NOT NULL AND visit_id IS NULL)),
    CHECK (kind IN ('paid_not_received', 'received_no_payout', 'amount_differs', 'due_unpaid')
           OR visit_id IS NOT NULL),
    CHECK (kind IN ('paid_not_received', 'received_no_payout', 'amount_differs', 'due_unpaid')
           OR (kind IN ('visit_conflict', 'dispute', 'suspicious_visit')) = (entitlement_id IS NULL)),
    CHECK ((state = 'closed') = (resolution IS NOT NULL)),
    CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);
INSERT INTO discrepancies (id, kind, household_id, village_code, visit_id, entitlement_id,
                           conflict_id, expected_fen, received_fen, reported_at, state,
                           assignee_id, resolution, closed_at)
SELECT id, kind, household_id, village_code, visit_id, entitlement_id, conflict_id,
       expected_fen, received_fen, reported_at, state, assignee_id, resolution, closed_at
FROM discrepancies_before;
DROP TABLE discrepancies_before;
CREATE INDEX discrepancies_area ON discrepancies (village_code, state, reported_at);
CREATE INDEX discrepancies_assignee ON discrepancies (assignee_id, state);
-- One item per key and kind: importing the same file again opens nothing.
CREATE UNIQUE INDEX discrepancies_reconciled
    ON discrepancies (household_id, item_code, stat_year, kind) WHERE item_code IS NOT NULL;

-- Payout files are imported as jobs like the roster's.
CREATE TABLE import_jobs_before AS SELECT * FROM import_jobs;
DROP TABLE import_jobs;
CREATE TABLE import_jobs (
    id            BLOB PRIMARY KEY,
    owner_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('households', 'entitlements', 'payouts')),
    file_name     TEXT NOT NULL,
    area_name     TEXT NOT NULL,
    scope         TEXT NOT NULL,
    runner        TEXT NOT NULL,
    phase         TEXT NOT NULL CHECK (phase IN ('queued', 'reading', 'checking', 'writing',
                      'done', 'refused', 'failed')),
    done_rows     INTEGER NOT NULL DEFAULT 0,
    total_rows    INTEGER NOT NULL DEFAULT 0,
    report_rows      INTEGER,
    report_added     INTEGER,
    report_changed   INTEGER,
    report_unchanged INTEGER,
    problems      TEXT,
    problem_total INTEGER,
    failure       TEXT,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    heartbeat_at  TEXT NOT NULL,
    finished_at   TEXT,
    -- done, payout files: rows naming no household of the area.
    report_skipped INTEGER,
    CHECK ((finished_at IS NULL) = (phase IN ('queued', 'reading', 'checking', 'writing')))
);
INSERT INTO import_jobs (id, owner_id, kind, file_name, area_name, scope, runner, phase,
    done_rows, total_rows, report_rows, report_added, report_changed, report_unchanged,
    problems, problem_total, failure, created_at, started_at, heartbeat_at, finished_at)
SELECT * FROM import_jobs_before;
DROP TABLE import_jobs_before;
CREATE INDEX import_jobs_unfinished ON import_jobs (scope, created_at) WHERE finished_at IS NULL;
CREATE INDEX import_jobs_finished ON import_jobs (finished_at);
