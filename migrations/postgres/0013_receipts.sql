-- The household's receipt check (/r): every lookup is logged (and a found
-- one gives the browser a short-lived token to read and dispute the
-- receipt by), and a dispute opens a discrepancy item of its own kind,
-- 'dispute', for the household's township.

ALTER TABLE discrepancies DROP CONSTRAINT discrepancies_kind_check;
ALTER TABLE discrepancies ADD CONSTRAINT discrepancies_kind_check CHECK (kind IN (
    'not_received', 'received_in_part', 'received_late', 'visit_conflict', 'dispute', 'suspicious_visit'));
-- A dispute, like a conflict, concerns the whole visit, not one payment.
DO $$
DECLARE c TEXT;
BEGIN
    SELECT conname INTO c FROM pg_constraint
    WHERE conrelid = 'discrepancies'::regclass AND contype = 'c'
      AND pg_get_constraintdef(oid) LIKE '%entitlement_id IS NULL%';
    EXECUTE 'ALTER TABLE discrepancies DROP CONSTRAINT ' || quote_ident(c);
END $$;
ALTER TABLE discrepancies ADD CONSTRAINT discrepancies_whole_visit
    CHECK ((kind IN ('visit_conflict', 'dispute', 'suspicious_visit')) = (entitlement_id IS NULL));

CREATE TABLE receipt_lookups (
    id         UUID PRIMARY KEY,
    -- SHA-256 of the token a found lookup hands out; NULL when none was.
    token_hash TEXT UNIQUE,
    code       TEXT NOT NULL,
    visit_id   UUID REFERENCES visits (id),
    address    TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('found', 'wrong_digits', 'unknown_code',
                   'throttled')),
    at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX receipt_lookups_at ON receipt_lookups (at);

CREATE TABLE receipt_disputes (
    discrepancy_id UUID PRIMARY KEY REFERENCES discrepancies (id),
    lookup_id      UUID NOT NULL REFERENCES receipt_lookups (id),
    reason         TEXT NOT NULL CHECK (reason IN ('not_signed', 'amount_wrong', 'other')),
    details        TEXT NOT NULL,
    -- For a call back, if the household left one.
    phone          TEXT,
    at             TIMESTAMPTZ NOT NULL
);

-- A receipt code is the head of its visit's confirmation hash.
CREATE INDEX visits_receipt ON visits (content_hash);
