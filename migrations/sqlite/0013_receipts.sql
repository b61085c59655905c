-- The household's receipt check (/r): every lookup is logged (and a found
-- one gives the browser a short-lived token to read and dispute the
-- receipt by), and a dispute opens a discrepancy item of its own kind,
-- 'dispute', for the household's township.
--
-- SQLite cannot change a CHECK: the discrepancy table is rebuilt. The
-- migration runs in one transaction, where foreign keys cannot be turned
-- off; they are deferred instead, and the rows are put back into a table
-- of the same name, which settles every reference from discrepancy_events
-- before the commit checks them.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE discrepancies_before AS SELECT * FROM discrepancies;
DROP TABLE discrepancies;
CREATE TABLE discrepancies (
    id             BLOB PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('not_received', 'received_in_part',
                       'received_late', 'visit_conflict', 'dispute', 'suspicious_visit')),
    household_id   BLOB NOT NULL REFERENCES households (id),
    -- The household's village, copied so that an area's queue is one range
    -- scan of the index below.
    village_code   TEXT NOT NULL REFERENCES areas (code),
    visit_id       BLOB NOT NULL REFERENCES visits (id),
    entitlement_id BLOB,
    conflict_id    BLOB REFERENCES visit_conflicts (id),
    -- What was due and what arrived when the household was asked, in fen
    -- (a conflict or a dispute has neither).
    expected_fen   BIGINT,
    received_fen   BIGINT,
    -- When the household reported it (the visit, or the dispute), or the
    -- conflict arrived: the item's age counts from here.
    reported_at    TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    assignee_id    BLOB REFERENCES users (id),
    resolution     TEXT CHECK (resolution IN ('paid_later', 'list_error', 'not_entitled', 'escalated')),
    closed_at      TEXT,
    UNIQUE (visit_id, entitlement_id),
    UNIQUE (conflict_id),
    FOREIGN KEY (visit_id, entitlement_id) REFERENCES verification_lines (visit_id, entitlement_id),
    CHECK ((kind = 'visit_conflict') = (conflict_id IS NOT NULL)),
    -- A dispute, like a conflict, concerns the whole visit, not one payment.
    CHECK ((kind IN ('visit_conflict', 'dispute', 'suspicious_visit')) = (entitlement_id IS NULL)),
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

CREATE TABLE receipt_lookups (
    id         BLOB PRIMARY KEY,
    -- SHA-256 of the token a found lookup hands out; NULL when none was.
    token_hash TEXT UNIQUE,
    code       TEXT NOT NULL,
    visit_id   BLOB REFERENCES visits (id),
    address    TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('found', 'wrong_digits', 'unknown_code',
                   'throttled')),
    at         TEXT NOT NULL
);
CREATE INDEX receipt_lookups_at ON receipt_lookups (at);

CREATE TABLE receipt_disputes (
    discrepancy_id BLOB PRIMARY KEY REFERENCES discrepancies (id),
    lookup_id      BLOB NOT NULL REFERENCES receipt_lookups (id),
    reason         TEXT NOT NULL CHECK (reason IN ('not_signed', 'amount_wrong', 'other')),
    details        TEXT NOT NULL,
    -- For a call back, if the household left one.
    phone          TEXT,
    at             TEXT NOT NULL
);

-- A receipt code is the head of its visit's confirmation hash.
CREATE INDEX visits_receipt ON visits (content_hash);
