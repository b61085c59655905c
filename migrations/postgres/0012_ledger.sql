-- Tamper evidence: every signed record (a visit with its lines and declared
-- income, a review step, a discrepancy item as opened, each step of one, a
-- measure move) is appended to a hash chain per county. The write that
-- makes a record hashes its canonical content in its own transaction and
-- leaves it in ledger_pending; a chainer (one per county at a time, on any
-- instance) appends pending records to ledger_entries, each entry holding
-- the content hash and the hash of the entry before it. `daohu verify`
-- recomputes both and names every record changed, deleted or added past
-- the chain.

CREATE TABLE ledger_pending (
    id           BIGSERIAL PRIMARY KEY,
    county_code  TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('visit', 'review', 'discrepancy',
                     'discrepancy_event', 'measure_event')),
    record_id    UUID NOT NULL,
    -- NULL only for records stored before this migration: hashed when chained.
    content_hash TEXT,
    queued_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (kind, record_id)
);
CREATE INDEX ledger_pending_county ON ledger_pending (county_code, id);

CREATE TABLE ledger_entries (
    county_code  TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    record_id    UUID NOT NULL,
    content_hash TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    entry_hash   TEXT NOT NULL,
    chained_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (county_code, seq)
);
CREATE UNIQUE INDEX ledger_entries_record ON ledger_entries (kind, record_id);

-- The newest entry of each county's chain; its row is the chainers' lock.
CREATE TABLE ledger_heads (
    county_code TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    head_hash   TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Every verification's outcome, kept: a later one also checks that the
-- heads earlier ones saw are still in the chain (a rewritten chain shows).
CREATE TABLE ledger_verifications (
    id          UUID PRIMARY KEY,
    county_code TEXT NOT NULL,
    verified_at TIMESTAMPTZ NOT NULL,
    head_seq    BIGINT NOT NULL,
    head_hash   TEXT NOT NULL,
    records     BIGINT NOT NULL,
    problems    BIGINT NOT NULL,
    -- The first problems, one per line.
    report      TEXT NOT NULL,
    runner      TEXT NOT NULL
);
CREATE INDEX ledger_verifications_county ON ledger_verifications (county_code, verified_at);

-- What was stored before: chained in the order it was made.
INSERT INTO ledger_pending (county_code, kind, record_id, content_hash, queued_at)
SELECT county_code, kind, record_id, NULL, at FROM (
    SELECT substr(h.village_code, 1, 6) || '000000' AS county_code, 'visit' AS kind,
           v.id AS record_id, v.received_at AS at
    FROM visits v JOIN households h ON h.id = v.household_id
    UNION ALL
    SELECT substr(h.village_code, 1, 6) || '000000', 'review', r.id, r.at
    FROM visit_reviews r JOIN visits v ON v.id = r.visit_id JOIN households h ON h.id = v.household_id
    UNION ALL
    SELECT substr(d.village_code, 1, 6) || '000000', 'discrepancy', d.id, d.reported_at
    FROM discrepancies d
    UNION ALL
    SELECT substr(d.village_code, 1, 6) || '000000', 'discrepancy_event', x.id, x.at
    FROM discrepancy_events x JOIN discrepancies d ON d.id = x.discrepancy_id
    UNION ALL
    SELECT substr(h.village_code, 1, 6) || '000000', 'measure_event', m.id, m.at
    FROM measure_events m JOIN measures s ON s.id = m.measure_id
    JOIN households h ON h.id = s.household_id
) earlier ORDER BY at, kind, record_id;
