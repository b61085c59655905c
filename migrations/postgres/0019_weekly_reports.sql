-- The Monday report (每周报送, issue 15): a county's dispatch table as of
-- the end of a week, submitted and frozen; a city's, the sum of its
-- accepted county submissions. Every version is kept: a returned one stays
-- as it was, and the area submits the next version. Nothing here is ever
-- updated but a submission's review (submitted → returned or accepted).
CREATE TABLE report_submissions (
    id             UUID PRIMARY KEY,
    area_code      TEXT NOT NULL REFERENCES areas (code),
    -- The last day the figures count (the end of it, China time).
    as_of          DATE NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    state          TEXT NOT NULL CHECK (state IN ('submitted', 'returned', 'accepted')),
    -- The table as submitted (JSON), its SHA-256, and the .xlsx sent.
    figures        TEXT NOT NULL,
    figures_hash   TEXT NOT NULL,
    xlsx           BYTEA NOT NULL,
    -- Per item code, the area's remark (JSON object).
    remarks        TEXT NOT NULL,
    contact_name   TEXT NOT NULL,
    contact_phone  TEXT NOT NULL,
    submitted_by   UUID NOT NULL REFERENCES users (id),
    submitted_at   TIMESTAMPTZ NOT NULL,
    reviewed_by    UUID REFERENCES users (id),
    reviewed_at    TIMESTAMPTZ,
    review_comment TEXT,
    UNIQUE (area_code, as_of, version)
);
CREATE INDEX report_submissions_week ON report_submissions (as_of, area_code);
